"""A stream's lines as huggingface_hub reads them, kept beside its parsing: a streamed
answer's `raw` is the SDK's own chunk objects, built from those lines on first use.

The SDK parses each line of a stream into its chunk classes (dataclasses that are
dicts too, holding their fields twice). Keeping those ~12 objects per chunk until the
stream ends, for `raw`, cost more than reading them: they pile up in the young
generations and the collector walks them again and again (a 200-chunk stream paid for
three collections where the bare SDK, dropping each chunk, paid for none). A line is
one string the collector does not track; `raw` parses the lines with the SDK's own
type when it is first read, and so holds equal objects.

The lines are taken where the SDK reads them: `_inner_post`, the one method of its
clients that sends a request and hands back a streamed body's lines, is wrapped on a
client (once); a ContextVar says which stream the lines are kept for, as an async
client serves every stream of its event loop. With an SDK whose clients lack that
method nothing is kept aside, and the stream's reader keeps the SDK's objects as they
come, as before.
"""

from __future__ import annotations

import inspect
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from modelhub.wrappers.raw_events import BuiltOnRead

if TYPE_CHECKING:
    from modelhub.wrappers.accumulator import StreamAccumulator

__all__ = ["KeptLines", "SDKChunks", "record_lines"]

T = TypeVar("T")
_KEPT: ContextVar[KeptLines | None] = ContextVar("modelhub_hf_stream_lines", default=None)
_HOOKED = "_modelhub_lines_hooked"


class SDKChunks(BuiltOnRead):
    """The SDK's chunk objects of one stream (`parse` of each data line up to
    `[DONE]`, as the SDK reads them), built when first read."""

    __slots__ = ()

    def __init__(self, lines: list[str], parse: Callable[[str], Any]) -> None:
        super().__init__(lines, lambda kept: [parse(p) for p in _payloads(kept)])


def _payloads(lines: Iterable[str]) -> Iterator[str]:
    """The JSON of each data line up to `[DONE]`: what the SDK parses a chunk from
    (its own reading, `huggingface_hub.inference._common`, line for line)."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        if line.strip() == "data: [DONE]":
            return
        # The SDK's own expression (it strips the characters of "data:", which no JSON
        # object starts with).
        yield line.lstrip("data:").strip()  # noqa: B005


class KeptLines:
    """Where the lines of one stream go: once the SDK has opened it, `accumulator`
    takes its `raw` from them (`parse` being the SDK's parser of a chunk), and keeps
    nothing of what it is fed."""

    __slots__ = ("accumulator", "parse")

    def __init__(self, accumulator: StreamAccumulator, parse: Callable[[str], Any]) -> None:
        self.accumulator = accumulator
        self.parse = parse

    def opened(self) -> Callable[[str], None]:
        """The SDK opened the stream: where its lines go."""
        lines: list[str] = []
        self.accumulator.use_raw(SDKChunks(lines, self.parse))
        return lines.append

    def opening(self, open_: Callable[[Any], T]) -> Callable[[Any], T]:
        """`open_(client)`, its stream's lines kept here."""
        def open_keeping(client: Any) -> T:
            record_lines(client)
            token = _KEPT.set(self)
            try:
                return open_(client)
            finally:
                _KEPT.reset(token)

        return open_keeping

    def aopening(self, open_: Callable[[Any], Awaitable[T]]
                 ) -> Callable[[Any], Awaitable[T]]:
        """Async twin of `opening`."""
        async def open_keeping(client: Any) -> T:
            record_lines(client)
            token = _KEPT.set(self)
            try:
                return await open_(client)
            finally:
                _KEPT.reset(token)

        return open_keeping


def _kept(lines: Iterable[str], keep: Callable[[str], None]) -> Iterator[str]:
    for line in lines:
        keep(line)
        yield line


class _AKept:
    """Async twin of `_kept`; a class, not an async generator, so that the event loop
    has no generator of ours to close at shutdown, at the same time as the SDK's own
    (whose closing would then overlap)."""

    __slots__ = ("_keep", "_lines")

    def __init__(self, lines: AsyncIterable[str], keep: Callable[[str], None]) -> None:
        self._lines = aiter(lines)
        self._keep = keep

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        line = await anext(self._lines)
        self._keep(line)
        return line


def record_lines(client: Any) -> None:
    """Have `client` (an `InferenceClient` or `AsyncInferenceClient`) keep the lines of
    each stream it opens where the context that opens it says (`KeptLines.opening`;
    elsewhere nothing is kept). Done once per client; a client without `_inner_post`
    is left as it is."""
    post = getattr(client, "_inner_post", None)
    if post is None or getattr(client, _HOOKED, False):
        return
    if inspect.iscoroutinefunction(post):
        async def apost(*args: Any, **kwargs: Any) -> Any:
            out = await post(*args, **kwargs)
            kept = _KEPT.get()
            if kept is None or not kwargs.get("stream"):
                return out
            return _AKept(out, kept.opened())

        client._inner_post = apost
    else:
        def spost(*args: Any, **kwargs: Any) -> Any:
            out = post(*args, **kwargs)
            kept = _KEPT.get()
            if kept is None or not kwargs.get("stream"):
                return out
            return _kept(out, kept.opened())

        client._inner_post = spost
    setattr(client, _HOOKED, True)
