"""`ModelWrapperBase`: what every wrapper, built-in or plugin, is.

The kinds below it (chat, embedding, image generation) wire a call once each: build
the request, retry under one policy, sync and async. A provider implements only the
hooks of its kind.
"""

from __future__ import annotations

import functools
import importlib.util
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, overload

from modelhub.capabilities import CAPABILITIES, Capability
from modelhub.config.schema import ModelConfig
from modelhub.errors import (
    InvalidArgumentError,
    MissingDependencyError,
    ModelConnectionError,
    ModelTimeoutError,
    UnsupportedFeatureError,
)
from modelhub.http.deadline import timeout_for, wait_until, within
from modelhub.retry import RetryPolicy

if TYPE_CHECKING:
    from modelhub.http.errors import ErrorContext
    from modelhub.registry import Registry
    from modelhub.response import ModelResponse
    from modelhub.wrappers.stream import ModelStream

__all__ = ["CAPABILITIES", "Capability", "ModelWrapperBase"]

T = TypeVar("T")
R = TypeVar("R")
# How long after its deadline an async attempt is cancelled (see `awith_retries`).
_BACKSTOP = 0.1


class ModelWrapperBase:
    """Base of every model wrapper.

    A subclass sets `model_type` (its canonical entry-point name), `config_class`
    (the pydantic model its config is validated against), `capabilities`, and, if it
    needs an SDK, `required_modules` and `extra` (the pip extra that installs them).
    A plugin distribution names what to install in `install_hint` instead
    (`"pip install my-plugin"`). It is built from a validated config, or from keyword
    arguments as AgentScope's
    wrappers are: ``OpenAIChatWrapper(config_name="gpt", model_name="gpt-4o")``.
    """

    model_type: ClassVar[str] = ""
    kind: ClassVar[str] = "model"
    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    required_modules: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    install_hint: ClassVar[str | None] = None
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    config: ModelConfig
    _retry: RetryPolicy
    # The registry that built this wrapper (its fallbacks, hooks, usage totals and log);
    # None for a wrapper built directly, which uses the default registry's.
    _registry: Registry | None = None

    def __init__(self, config: ModelConfig | None = None, /, **kwargs: Any) -> None:
        if config is None:
            from modelhub.config.validate import validate_mapping

            config = validate_mapping(
                self.config_class, {"model_type": self.model_type, **kwargs})
        elif kwargs:
            raise TypeError("pass either a config object or keyword arguments, not both")
        elif not isinstance(config, self.config_class):
            raise TypeError(f"{type(self).__name__} needs a {self.config_class.__name__}, "
                            f"got {type(config).__name__}")
        self.check_dependencies()
        self.config = config
        self._timeout: float | None = getattr(config, "timeout", None)
        self._retry = self.retry_policy()
        self.setup()

    @classmethod
    @functools.cache
    def check_dependencies(cls) -> None:
        """Raise MissingDependencyError naming the extra if an SDK is not installed."""
        missing = [m for m in cls.required_modules if importlib.util.find_spec(m) is None]
        if missing:
            install = cls.install_hint or (f"pip install 'modelhub[{cls.extra}]'" if cls.extra
                                           else "pip install " + " ".join(missing))
            raise MissingDependencyError(
                f"model type {cls.model_type or cls.__name__!r} needs "
                f"{', '.join(repr(m) for m in missing)}, which is not installed: {install}",
                extra=cls.extra, model_type=cls.model_type)

    def setup(self) -> None:
        """Prepare clients once the config is set (override; runs at build time)."""

    def retry_policy(self, base_delay: float = 0.5) -> RetryPolicy:
        """The policy every call of this wrapper is retried by: the config's `retry`
        block, else its `max_retries` with the default backoff from `base_delay`
        seconds (a subclass passes its own default)."""
        config = self.config
        label = f"{self.model_type} {config.config_name!r}"
        max_retries = getattr(config, "max_retries", 0)
        settings = config.retry
        if settings is None:
            return RetryPolicy(max_retries, base_delay=base_delay, label=label)
        attempts = settings.attempts if settings.attempts is not None else max_retries + 1
        return RetryPolicy(attempts - 1, base_delay=settings.backoff_base,
                           max_delay=settings.backoff_max, jitter=settings.jitter,
                           max_retry_after=settings.max_retry_after, label=label)

    @property
    def config_name(self) -> str:
        """The config_name this wrapper was built from."""
        return self.config.config_name

    @property
    def model_name(self) -> str:
        """The provider's model name."""
        return self.config.model_name or self.config.config_name

    # -- what every kind shares ---------------------------------------------------------
    def error_context(self) -> ErrorContext:
        """What the errors this wrapper's base classes raise carry: the config, and the
        secrets redacted from them (the config's own). A wrapper that sends other
        secrets (a key read from the environment) returns a context holding them."""
        from modelhub.http.errors import ErrorContext

        secret_values = getattr(self.config, "secret_values", None)
        return ErrorContext(provider=self.model_type or type(self).__name__,
                            config_name=self.config_name,
                            secrets=tuple(secret_values()) if secret_values else (),
                            timeout=getattr(self.config, "timeout", None))

    def merged_params(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The config's generate_args with a call's keyword arguments over them (each
        checked for a misspelled parameter name)."""
        if kwargs:
            self.check_params(kwargs)
        generate_args = self.config.generate_args
        return {**generate_args, **kwargs} if kwargs else dict(generate_args)

    def check_params(self, kwargs: dict[str, Any]) -> None:
        """Raise InvalidArgumentError for a call's keyword argument that misspells a
        generation parameter this provider knows."""
        from modelhub.config.params import misspelled_params

        wrong = misspelled_params(kwargs, self.config_class.known_params)
        if wrong:
            raise InvalidArgumentError("; ".join(
                f"unknown argument {given!r}; did you mean {meant!r}?" for given, meant in wrong))

    def require(self, capability: Capability, what: str) -> None:
        """Raise UnsupportedFeatureError, before any request, if this wrapper cannot do
        `capability`; `what` says what in the call asked for it."""
        if capability not in self.capabilities:
            supported = ", ".join(sorted(self.capabilities)) or "none"
            raise UnsupportedFeatureError(
                f"config {self.config_name!r} (model_type {self.model_type!r}) cannot take "
                f"{what} (its capabilities: {supported})",
                config_name=self.config_name, capability=capability)

    @overload
    def with_retries(self, attempt: Callable[[], T]) -> T: ...

    @overload
    def with_retries(self, attempt: Callable[[], T], after: Callable[[T], R]) -> R: ...

    def with_retries(self, attempt: Callable[[], Any],
                     after: Callable[[Any], Any] | None = None) -> Any:
        """Run one attempt of a call, retrying transient failures by the config's policy;
        `after` (reading a stream up to its first delta) runs inside each attempt, and
        the attempt keeps to its timeout as a whole (`_attempt_timeout`)."""
        timeout = self._attempt_timeout()
        if timeout is None and after is None:
            return self._retry.call(attempt)

        def bounded() -> Any:
            start = time.monotonic()
            try:
                with within(timeout):
                    return attempt() if after is None else after(attempt())
            except ModelConnectionError:
                # A read cut at the deadline, which `requests` reports as a connection
                # error when it happens in a body: a timeout.
                if timeout is None or time.monotonic() - start < timeout:
                    raise
            raise self._cut_off(timeout)

        return self._retry.call(bounded)

    @overload
    async def awith_retries(self, attempt: Callable[[], Awaitable[T]]) -> T: ...

    @overload
    async def awith_retries(self, attempt: Callable[[], Awaitable[T]],
                            after: Callable[[T], Awaitable[R]]) -> R: ...

    async def awith_retries(self, attempt: Callable[[], Awaitable[Any]],
                            after: Callable[[Any], Awaitable[Any]] | None = None) -> Any:
        """Async twin of `with_retries`; each attempt is also cancelled when its
        timeout is up (whatever its client does: aiohttp, or an SDK's own pool), and a
        ModelTimeoutError raised, so no family's attempt outlives its timeout."""
        timeout = self._attempt_timeout()

        async def bounded() -> Any:
            with within(timeout):
                result = await attempt()
                return result if after is None else await after(result)

        if timeout is None:
            return await self._retry.acall(bounded)

        async def whole() -> Any:
            import asyncio

            # A little after the deadline: a client keeping to it at the socket ends
            # the attempt first, with the error naming its URL.
            end = time.monotonic() + timeout + _BACKSTOP
            try:
                return await wait_until(bounded(), end)
            except asyncio.TimeoutError:
                if time.monotonic() < end:
                    raise  # not ours
            raise self._cut_off(timeout)

        return await self._retry.acall(whole)

    def _cut_off(self, timeout: float) -> ModelTimeoutError:
        """The error for an attempt that ran out of its `timeout`."""
        from dataclasses import replace

        from modelhub.http.errors import timeout_error

        context = self.error_context()
        if context.timeout != timeout:  # the call's own
            context = replace(context, timeout=timeout)
        return timeout_error(context, "the attempt was cut off")

    def _attempt_timeout(self) -> float | None:
        """How long one attempt may take in all: the call's own `timeout`, else the
        config's (every HTTP client built on `modelhub.http`, and the SDK clients the
        families give the deadline to, keep to it at the socket; an async attempt is
        cancelled when it is up). A stream's attempt ends at its first delta; then no
        more than this may pass between two deltas (`read_sdk_stream`, the HTTP
        stream reader)."""
        return timeout_for(self._timeout)

    def _operation(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The call `model(*args, **kwargs)` as one operation, for `modelhub.calls.engine`
        (each kind defines it; the call's own `timeout` and `max_retries` are taken out
        of `kwargs` already)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _operation")

    def __call__(self, *args: Any, **kwargs: Any) -> ModelResponse | ModelStream:
        """Call the model (each kind of wrapper defines its own arguments)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement __call__")

    async def acall(self, *args: Any, **kwargs: Any) -> ModelResponse | ModelStream:
        """The async twin of `__call__`; by default runs the sync call in a thread."""
        import asyncio

        return await asyncio.to_thread(functools.partial(self, *args, **kwargs))

    def format(self, *args: Any, multi_agent_mode: bool = True) -> list[dict[str, Any]]:
        """Turn agent messages into the message list this provider takes.

        Messages are dicts with `role` and `content`, or objects with `role`, `content`
        and optionally `name` and `url` (AgentScope's `Msg`); lists are flattened.
        Anything else is a TypeError. As AgentScope v0.1.6's common formatter does,
        `multi_agent_mode` (the default) merges the conversation into one user message
        after the system prompt; without it, each message stays a message, with no
        speaker name. A provider converts to its own shape (see
        `modelhub.wrappers.formatting`).
        """
        from modelhub.wrappers.formatting import merged_history, per_message

        return merged_history(*args) if multi_agent_mode else per_message(*args, names=False)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(config_name={self.config_name!r}, "
                f"model_name={self.model_name!r})")
