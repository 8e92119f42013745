"""Callbacks a registry runs around each call of its configs: `before_call`,
`after_call` and `on_error`, each given the call's `CallEvent`. They belong to one
registry (`Registry.add_hooks`, or `modelhub.add_hooks` for the default one), never to
the process.

A call that falls back runs the hooks once per config it tries: `on_error` for the
config that failed, `before_call` and `after_call` for the one that answered (whose
event names the first in `requested` and the one before in `fallback_from`). A stream's
`after_call` (or `on_error`) runs when it has been read to its end (or broke, or was
closed). An exception raised by a `before_call` hook refuses the call (nothing is
sent); one raised by `after_call` or `on_error` is logged and the call goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CallEvent", "HookHandle", "Hooks"]

logger = logging.getLogger("modelhub")


@dataclass(slots=True)
class CallEvent:
    """One call of one config, as hooks, the invocation log and spans see it.

    `input` is what was sent (chat messages in the neutral shape, a list of texts, or a
    prompt) and `params` the generation arguments, both as copies with every secret
    masked (`**********`), the same copies the invocation log records: a `SecretStr`,
    an argument named like a secret (`api_key=`), an `Authorization`-like entry of
    `headers`/`extra_headers`, and any occurrence of such a value, of the config's
    keys or of another live config's key anywhere in the messages or arguments
    (`modelhub._secrets.mask_call`). Changing them changes nothing that is sent.
    `status` is "running", then "ok",
    "error", "broken" (a stream that failed after text had arrived: `partial_text` holds
    it) or "closed" (a stream closed, or dropped, before its end). `latency` is in
    seconds, `cost` in USD (None: no price known).
    """

    config_name: str
    model_type: str
    model: str
    kind: str
    stream: bool = False
    is_async: bool = False
    requested: str = ""
    fallback_from: str | None = None
    input: Any = field(default=None, repr=False)
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    started: float = 0.0  # time.time() when the call began
    attempts: int = 0
    status: str = "running"
    latency: float | None = None
    response: Any = field(default=None, repr=False)
    error: BaseException | None = None
    partial_text: str | None = field(default=None, repr=False)
    cost: float | None = None

    @property
    def usage(self) -> Any:
        """The provider's token counts (`Usage`), once known."""
        return getattr(self.response, "usage", None)


Hook = Callable[[CallEvent], Any]


class HookHandle:
    """What `add_hooks` returns: `remove()` takes those hooks off again."""

    def __init__(self, hooks: Hooks, entries: list[tuple[str, Hook]]) -> None:
        self._hooks = hooks
        self._entries = entries

    def remove(self) -> None:
        """Stop calling these hooks."""
        self._hooks._remove(self._entries)
        self._entries = []


class Hooks:
    """The hooks of one registry (thread-safe; a call reads a snapshot)."""

    KINDS = ("before_call", "after_call", "on_error")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._table: dict[str, tuple[Hook, ...]] = {kind: () for kind in self.KINDS}

    def add(self, *, before_call: Hook | None = None, after_call: Hook | None = None,
            on_error: Hook | None = None) -> HookHandle:
        """Call these functions around each call; returns a handle to remove them."""
        given = {"before_call": before_call, "after_call": after_call, "on_error": on_error}
        entries = [(kind, fn) for kind, fn in given.items() if fn is not None]
        if not entries:
            raise TypeError("add_hooks needs before_call, after_call or on_error")
        for kind, fn in entries:
            if not callable(fn):
                raise TypeError(f"{kind} must be callable, got {type(fn).__name__}")
            import inspect

            if inspect.iscoroutinefunction(fn):
                raise TypeError(f"{kind} must be a plain function (hooks run in the "
                                "calling thread, sync and async calls alike)")
        with self._lock:
            for kind, fn in entries:
                self._table[kind] = (*self._table[kind], fn)
        return HookHandle(self, entries)

    def _remove(self, entries: list[tuple[str, Hook]]) -> None:
        with self._lock:
            for kind, fn in entries:
                hooks = list(self._table[kind])
                if fn in hooks:
                    hooks.remove(fn)
                self._table[kind] = tuple(hooks)

    def clear(self) -> None:
        """Remove every hook."""
        with self._lock:
            self._table = {kind: () for kind in self.KINDS}

    def any(self) -> bool:
        """Whether any hook is set."""
        return any(self._table.values())

    def before(self, event: CallEvent) -> None:
        """Run the before_call hooks (an exception refuses the call)."""
        for fn in self._table["before_call"]:
            fn(event)

    def after(self, event: CallEvent) -> None:
        """Run the after_call hooks, or the on_error ones for a failed call."""
        kind = "after_call" if event.error is None and event.status in ("ok", "closed") \
            else "on_error"
        for fn in self._table[kind]:
            try:
                fn(event)
            except Exception:
                logger.exception("modelhub: a %s hook failed (config %r)", kind,
                                 event.config_name)
