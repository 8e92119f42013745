"""A deadline for a whole request, at the socket: no read, write or connect of the
request in flight may wait past it, however slowly the bytes come (a server that
sends its status line and headers a byte at a time included).

httpx bounds each read, never a whole request, and offers no hook to change that, so
the shared pools (`modelhub.http.pool`) wrap the network backend of their httpcore
connection pools: every wait is cut to what is left before the deadline of the call
running in this thread or task (`within`), and a wait with nothing left raises
httpcore's timeout error (httpcore2's, under httpx2), which httpx and then
`transport_error` (or an SDK and its family's mapping) turn into a
`ModelTimeoutError`. Outside `within`, waits are as httpx sets them.

A stream, once open, is bounded by `Gap`: no more than the attempt's timeout between
two deltas (an item carrying no text, tool call, reasoning or usage does not count),
the same deadline put on the socket waits around each pull from the stream.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_END: Any = object()  # what a pull from a finished iterator returns

__all__ = ["Alarm", "Gap", "attempt_timeout", "call_timeout", "deadline_var", "install",
           "remaining", "timeout_for", "wait_until", "within"]

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "modelhub_deadline", default=None)
# A call's own `timeout` (model(..., timeout=...)), boxed: (None,) means no limit.
_CALL_TIMEOUT: contextvars.ContextVar[tuple[float | None] | None] = contextvars.ContextVar(
    "modelhub_call_timeout", default=None)
# The seconds of the innermost `within` that set a bound (what a stream opened in it
# allows between two deltas).
_SPAN: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "modelhub_span", default=None)


class _Within:
    """The context manager `within` returns (a class: it is entered on every call)."""

    __slots__ = ("_seconds", "_span", "_token")

    def __init__(self, seconds: float | None) -> None:
        self._seconds = seconds
        self._token: contextvars.Token[float | None] | None = None
        self._span: contextvars.Token[float | None] | None = None

    def __enter__(self) -> None:
        seconds = self._seconds
        if seconds is None:
            return  # no bound of its own: an outer deadline, if any, holds
        deadline = time.monotonic() + seconds
        outer = _DEADLINE.get()
        if outer is not None and outer < deadline:
            deadline = outer
        self._token = _DEADLINE.set(deadline)
        self._span = _SPAN.set(seconds)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _DEADLINE.reset(self._token)
            self._token = None
        if self._span is not None:
            _SPAN.reset(self._span)
            self._span = None


def within(seconds: float | None) -> contextlib.AbstractContextManager[None]:
    """Bound every network wait of the requests made inside the block to `seconds`
    from now, all together (None: no bound). Inside another `within`, the earlier of
    the two deadlines holds."""
    return _Within(seconds)


class _CallTimeout:
    """The context manager `call_timeout` returns."""

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float | None) -> None:
        self._seconds = seconds
        self._token: contextvars.Token[tuple[float | None] | None] | None = None

    def __enter__(self) -> None:
        self._token = _CALL_TIMEOUT.set((self._seconds,))

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _CALL_TIMEOUT.reset(self._token)
            self._token = None


def call_timeout(seconds: float | None) -> contextlib.AbstractContextManager[None]:
    """Inside the block, a call's own timeout replaces the configured one of whatever
    it calls (`timeout_for`); None means no limit."""
    return _CallTimeout(seconds)


def timeout_for(configured: float | None) -> float | None:
    """The timeout a request made now keeps to: the call's own (`call_timeout`), else
    `configured`."""
    given = _CALL_TIMEOUT.get()
    return configured if given is None else given[0]


def attempt_timeout() -> float | None:
    """The seconds of the innermost `within` in effect that set a bound (None: none):
    the timeout of the attempt running now."""
    return _SPAN.get()


class Gap:
    """The time a stream may go without progress: `seconds` from its first pull, then
    from each delta (`progress`). `paced` pulls from the stream with its socket waits
    cut to that deadline (or to an earlier one already in effect); `expired` says
    whether it has passed."""

    __slots__ = ("deadline", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def progress(self) -> None:
        """A delta arrived: the next may take `seconds` from now."""
        self.deadline = time.monotonic() + self.seconds

    def expired(self) -> bool:
        """Whether the time without a delta is up."""
        return time.monotonic() >= self.deadline

    def _put(self) -> contextvars.Token[float | None]:
        deadline = self.deadline
        outer = _DEADLINE.get()
        return _DEADLINE.set(deadline if outer is None or deadline < outer else outer)

    def paced(self, items: Iterator[T]) -> Iterator[T]:
        """`items`, each pulled with the deadline on its socket waits; the time the
        caller spends between two pulls is not counted."""
        clock = time.monotonic
        while True:
            token = self._put()
            try:
                item = next(items, _END)
            finally:
                _DEADLINE.reset(token)
            if item is _END:
                return
            out = clock()
            yield item
            self.deadline += clock() - out

    async def apaced(self, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """Async twin of `paced` (for clients whose pools keep to the deadline)."""
        clock = time.monotonic
        while True:
            token = self._put()
            try:
                item = await anext(items, _END)
            finally:
                _DEADLINE.reset(token)
            if item is _END:
                return
            out = clock()
            yield item
            self.deadline += clock() - out


class Alarm:
    """The async side of a `Gap`: a pull from a stream still waiting when the gap's
    deadline passes is cancelled (`caught` then says it was this alarm). One timer per
    stream, re-armed only when it finds the deadline moved on, so a pull costs two
    attribute writes; a task switch is no concern (each pull names its task)."""

    __slots__ = ("_gap", "_handle", "_loop", "_task", "fired")

    def __init__(self, gap: Gap) -> None:
        import asyncio

        self._gap = gap
        self._loop = asyncio.get_running_loop()
        self._task: Any = None  # the task pulling now, None between pulls
        self._handle: Any = None
        self.fired = False

    def pulling(self) -> None:
        """A pull starts (in the current task)."""
        import asyncio

        self._task = asyncio.current_task()
        if self._handle is None:
            self._handle = self._loop.call_later(
                max(self._gap.deadline - time.monotonic(), 0.0), self._ring)

    def pulled(self) -> None:
        """The pull is over."""
        self._task = None

    def _ring(self) -> None:
        left = self._gap.deadline - time.monotonic()
        if left > 0:
            self._handle = self._loop.call_later(left, self._ring)
            return
        self._handle = None  # re-armed by the next pull
        task = self._task
        if task is not None:
            self.fired = True
            task.cancel()

    def caught(self) -> bool:
        """In an `except CancelledError` around a pull: whether this alarm cancelled
        it (the cancellation is then withdrawn: the caller raises a timeout instead)."""
        if not self.fired:
            return False
        import asyncio

        uncancel = getattr(asyncio.current_task(), "uncancel", None)  # Python 3.11+
        if uncancel is not None:
            uncancel()
        return True

    def stop(self) -> None:
        """The stream is over: no more ringing."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def deadline_var() -> contextvars.ContextVar[float | None]:
    """The context variable holding the deadline in effect (for loops that set it
    around each pull themselves, `Gap.paced`'s work inlined)."""
    return _DEADLINE


async def wait_until(awaitable: Awaitable[T], deadline: float) -> T:
    """`await awaitable`, cancelled at `deadline` (on `time.monotonic`'s clock) with
    asyncio's TimeoutError (an alias of the built-in one from Python 3.11)."""
    import asyncio

    if sys.version_info >= (3, 11):
        loop = asyncio.get_running_loop()
        async with asyncio.timeout_at(loop.time() + (deadline - time.monotonic())):
            return await awaitable
    return await asyncio.wait_for(awaitable, max(deadline - time.monotonic(), 0.0))


def remaining() -> float | None:
    """Seconds left before the deadline of the call in flight (None: no deadline; 0 or
    less: none left)."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """The wait allowed now: `timeout`, cut to what is left of the deadline."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the call's time is up")
    return left if timeout is None else min(timeout, left)


class _Stream:
    """A sync network stream whose waits end at the deadline."""

    def __init__(self, stream: Any, core: Any) -> None:
        self._stream = stream
        self._core = core  # httpcore, or httpcore2: whose timeout errors to raise

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, self._core.ReadTimeout))  # type: ignore[no-any-return]

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, self._core.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> _Stream:
        return _Stream(self._stream.start_tls(ssl_context, server_hostname,
                                              _left(timeout, self._core.ConnectTimeout)),
                       self._core)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _AsyncStream:
    """An async network stream whose waits end at the deadline."""

    def __init__(self, stream: Any, core: Any) -> None:
        self._stream = stream
        self._core = core  # httpcore, or httpcore2: whose timeout errors to raise

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, _left(timeout, self._core.ReadTimeout))  # type: ignore[no-any-return]

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, _left(timeout, self._core.WriteTimeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> _AsyncStream:
        return _AsyncStream(await self._stream.start_tls(
            ssl_context, server_hostname, _left(timeout, self._core.ConnectTimeout)), self._core)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend:
    """A sync network backend whose connections keep to the deadline."""

    def __init__(self, backend: Any, core: Any) -> None:
        self._backend = backend
        self._core = core

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None) -> _Stream:
        return _Stream(self._backend.connect_tcp(
            host, port, _left(timeout, self._core.ConnectTimeout), local_address, socket_options),
            self._core)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> _Stream:
        return _Stream(self._backend.connect_unix_socket(
            path, _left(timeout, self._core.ConnectTimeout), socket_options), self._core)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _AsyncBackend:
    """An async network backend whose connections keep to the deadline."""

    def __init__(self, backend: Any, core: Any) -> None:
        self._backend = backend
        self._core = core

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Any = None) -> _AsyncStream:
        return _AsyncStream(await self._backend.connect_tcp(
            host, port, _left(timeout, self._core.ConnectTimeout), local_address, socket_options),
            self._core)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Any = None) -> _AsyncStream:
        return _AsyncStream(await self._backend.connect_unix_socket(
            path, _left(timeout, self._core.ConnectTimeout), socket_options), self._core)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def install(client: Any) -> bool:
    """Have every connection pool of an httpx (or httpx2) client keep to the deadline;
    whether it could (the pools are httpcore's, or httpcore2's, reached through
    attributes httpx does not document, so a test proves it still works)."""
    transports = [client._transport]
    if client._mounts:  # proxies, or transports mounted by the user
        transports += [t for t in client._mounts.values() if t is not None]
    done = True
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is None:
            done = False
            continue
        if not isinstance(backend, (_Backend, _AsyncBackend)):
            import importlib

            core = importlib.import_module(type(pool).__module__.split(".")[0])
            wrapper = _AsyncBackend if hasattr(client, "aclose") else _Backend
            pool._network_backend = wrapper(backend, core)  # type: ignore[union-attr]
    return done
