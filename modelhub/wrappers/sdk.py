"""Calling a provider's SDK: its exceptions mapped to `modelhub.errors` by the
provider's one mapping function, for calls and for streams read to their end.

A mapped error is raised outside the `except` that caught the SDK's exception, so the
SDK's exception (whose text may quote a request, and so a key) is kept neither as its
cause nor as its context. An exception the mapping does not claim (it returns None)
goes on as it is.

Also here, what SDK-based wrappers need around those calls: a stream whose first item
is read when it is opened (`peek_sdk_stream`), so that an error status raises while
the call can still be retried; and `PerLoop`, the async client of each event loop.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from modelhub.errors import ModelConnectionError, ModelhubError, ModelTimeoutError
from modelhub.http.deadline import Alarm, Gap, attempt_timeout, deadline_var

if TYPE_CHECKING:
    import asyncio

    from modelhub.http.errors import ErrorContext

__all__ = ["ErrorMapper", "ItemReader", "PerLoop", "acall_sdk", "apeek_sdk_stream",
           "aread_sdk_stream", "call_sdk", "keep_to_deadline", "peek_sdk_stream",
           "read_sdk_stream"]

T = TypeVar("T")
_END: Any = object()  # what a pull from a finished stream returns
# What a read cut at the deadline comes out as (`requests` reports a read timeout in a
# body as a connection error).
_CUT = (ModelTimeoutError, ModelConnectionError)

# A provider's mapping: the modelhub error for an SDK exception, or None.
ErrorMapper = Callable[[BaseException], ModelhubError | None]


class ItemReader(Protocol):
    """What reads a provider's stream items: text deltas out of each, then what was
    held back at the end."""

    def feed(self, item: Any) -> str | None:
        """The answer text one item carries ('' or None if none)."""

    def end(self) -> str | None:
        """Text held back until the end ('' or None if none)."""


def call_sdk(fn: Callable[[], T], map_error: ErrorMapper) -> T:
    """`fn()`, its failures mapped."""
    failure = None
    try:
        return fn()
    except Exception as exc:
        failure = map_error(exc)
        if failure is None:
            raise
    raise failure


async def acall_sdk(fn: Callable[[], Awaitable[T]], map_error: ErrorMapper) -> T:
    """`await fn()`, its failures mapped."""
    failure = None
    try:
        return await fn()
    except Exception as exc:
        failure = map_error(exc)
        if failure is None:
            raise
    raise failure


def _unread(exc: Exception, map_error: ErrorMapper, context: ErrorContext | None,
            item: Any) -> ModelhubError | None:
    """The error for a failure while a stream was read: the provider's mapping, else,
    with a `context`, a reader that could not read `item` as a ResponseParseError."""
    failure = map_error(exc)
    if failure is None and context is not None:
        from modelhub.errors import ResponseParseError
        from modelhub.http.errors import SHAPE_ERRORS, unexpected_shape, with_context

        if isinstance(exc, ResponseParseError):
            if exc.response is None:
                exc.response = item
            failure = with_context(exc, context)
        elif isinstance(exc, SHAPE_ERRORS):
            failure = unexpected_shape(exc, item, context, "a stream event")
    return failure


def read_sdk_stream(items: Iterable[Any], reader: ItemReader, map_error: ErrorMapper,
                    close: Callable[[], Any] | None = None, *,
                    context: ErrorContext | None = None) -> Iterator[str]:
    """The text deltas of an SDK stream, as `reader` finds them; failures while reading
    mapped; `close` called however the reading ends. With `context`, an item the reader
    cannot read (a ResponseParseError, or a KeyError and the like) is a
    ResponseParseError naming the call and holding the item, redacted.

    Made inside an attempt with a timeout (`modelhub.http.deadline.within`), the stream
    may go no longer than that timeout without a delta, from its first pull and then
    between two deltas: an item that adds no text, reasoning, tool call or usage to
    `reader.accumulator` (a keep-alive) does not count, and each pull's socket waits
    are cut to that deadline. Past it, a ModelTimeoutError carrying the text so far."""
    seconds = attempt_timeout()
    if seconds is None:
        return _read(items, reader, map_error, close, context)
    return _read_gapped(items, reader, map_error, close, context, seconds)


def _read(items: Iterable[Any], reader: ItemReader, map_error: ErrorMapper,
          close: Callable[[], Any] | None, context: ErrorContext | None) -> Iterator[str]:
    failure = None
    item = None
    try:
        for item in items:
            delta = reader.feed(item)
            if delta:
                yield delta
        last = reader.end()
        if last:
            yield last
    except Exception as exc:
        failure = _unread(exc, map_error, context, item)
        if failure is None:
            raise
    finally:
        if close is not None:
            close()
    if failure is not None:
        raise failure


def _read_gapped(items: Iterable[Any], reader: ItemReader, map_error: ErrorMapper,
                 close: Callable[[], Any] | None, context: ErrorContext | None,
                 seconds: float) -> Iterator[str]:
    # Per item: the deadline set around the pull (an earlier one in effect kept), and
    # moved on by a delta (from when the caller asks for more: its own time between
    # two deltas is not the stream's).
    failure: ModelhubError | None = None
    item = None
    acc = getattr(reader, "accumulator", None)
    var = deadline_var()
    get, put, reset = var.get, var.set, var.reset
    clock = time.monotonic
    deadline = clock() + seconds
    try:
        it = iter(items)
        while True:
            outer = get()
            token = put(deadline if outer is None or deadline < outer else outer)
            try:
                item = next(it, _END)
            finally:
                reset(token)
            if item is _END:
                break
            before = acc.progress if acc is not None else 0
            delta = reader.feed(item)
            if delta:
                yield delta
                deadline = clock() + seconds
            elif acc is not None and acc.progress != before:
                deadline = clock() + seconds
            elif clock() >= deadline:
                failure = _gap_timeout(reader, context, seconds)
                break
        if failure is None:
            last = reader.end()
            if last:
                yield last
    except Exception as exc:
        failure = _unread(exc, map_error, context, item)
        if failure is None:
            raise
        if isinstance(failure, _CUT) and clock() >= deadline:  # a wait cut at the deadline
            failure = _gap_timeout(reader, context, seconds)
    finally:
        if close is not None:
            close()
    if failure is not None:
        raise failure


async def aread_sdk_stream(items: AsyncIterable[Any], reader: ItemReader,
                           map_error: ErrorMapper,
                           close: Callable[[], Awaitable[Any]] | None = None, *,
                           context: ErrorContext | None = None) -> AsyncIterator[str]:
    """Async twin of `read_sdk_stream` (a pull still waiting at the deadline is
    cancelled: `modelhub.http.deadline.Alarm`)."""
    seconds = attempt_timeout()
    failure: ModelhubError | None = None
    item = None
    gap: Gap | None = None
    alarm: Alarm | None = None
    try:
        if seconds is None:
            async for item in items:
                delta = reader.feed(item)
                if delta:
                    yield delta
        else:
            import asyncio

            acc = getattr(reader, "accumulator", None)
            it = aiter(items)
            gap = Gap(seconds)
            alarm = Alarm(gap)
            clock = time.monotonic
            while True:
                alarm.pulling()
                try:
                    item = await anext(it, _END)
                except asyncio.CancelledError:
                    if not alarm.caught():
                        raise
                    failure = _gap_timeout(reader, context, seconds)
                    break
                finally:
                    alarm.pulled()
                if item is _END:
                    break
                before = acc.progress if acc is not None else 0
                delta = reader.feed(item)
                if delta:
                    yield delta
                    gap.deadline = clock() + seconds
                elif acc is not None and acc.progress != before:
                    gap.deadline = clock() + seconds
                elif clock() >= gap.deadline:
                    failure = _gap_timeout(reader, context, seconds)
                    break
        if failure is None:
            last = reader.end()
            if last:
                yield last
    except Exception as exc:
        failure = _unread(exc, map_error, context, item)
        if failure is None:
            raise
        if alarm is not None and alarm.caught():  # the SDK turned our cancel into this
            failure = _gap_timeout(reader, context, seconds or 0.0)
        elif isinstance(failure, _CUT) and gap is not None and gap.expired():
            failure = _gap_timeout(reader, context, gap.seconds)
    finally:
        if alarm is not None:
            alarm.stop()
        if close is not None:
            await close()
    if failure is not None:
        raise failure


def _gap_timeout(reader: ItemReader, context: ErrorContext | None,
                 seconds: float) -> ModelhubError:
    """The error for a stream that went `seconds` without a delta: a ModelTimeoutError
    naming the call (`context`, else the reader's accumulator's) with the text so far."""
    from dataclasses import replace

    from modelhub.http.errors import timeout_error

    acc = getattr(reader, "accumulator", None)
    partial = acc.text if acc is not None else None
    if context is None and acc is not None:
        context = acc.context
    if context is None:
        return ModelTimeoutError(f"no stream delta within {seconds:g} s", timeout=seconds,
                                 partial_text=partial)
    if context.timeout != seconds:
        context = replace(context, timeout=seconds)
    return timeout_error(context, "no stream delta arrived", partial_text=partial)


def peek_sdk_stream(items: Iterable[T], map_error: ErrorMapper) -> tuple[T | None, Iterator[T]]:
    """Read the first item of an SDK stream now (many SDKs send the request, and raise
    for an error status, only then), its failure mapped: (the first item, or None for
    an empty stream; an iterator over every item, the first included)."""
    it = iter(items)
    first = call_sdk(lambda: next(it, None), map_error)
    if first is None:
        return None, it

    def chained() -> Iterator[T]:
        yield first
        yield from it

    return first, chained()


async def apeek_sdk_stream(items: AsyncIterable[T], map_error: ErrorMapper
                           ) -> tuple[T | None, AsyncIterator[T]]:
    """Async twin of `peek_sdk_stream`."""
    it = aiter(items)
    first = await acall_sdk(lambda: anext(it, None), map_error)
    if first is None:
        return None, it

    async def chained() -> AsyncIterator[T]:
        yield first
        async for item in it:
            yield item

    return first, chained()


def keep_to_deadline(client: T, attribute: str = "_client") -> T:
    """`client`, an SDK's client whose httpx (or httpx2) client is `client.<attribute>`,
    with that client keeping to the deadline of the call in flight
    (`modelhub.http.deadline`): each attempt of a call is then bounded as a whole by
    its timeout, as the shared pools' clients are, not each read alone."""
    http = getattr(client, attribute, None)
    if http is not None and hasattr(http, "_transport"):
        from modelhub.http import deadline

        deadline.install(http)
    return client


class PerLoop(Generic[T]):
    """One object per running event loop, built there on first use, and rebuilt when
    `stale` says it no longer fits: an SDK's async client, whose HTTP connections belong
    to the loop they were opened in. Entries go with their loop."""

    __slots__ = ("_build", "_stale", "_values")

    def __init__(self, build: Callable[[], T], stale: Callable[[T], bool] | None = None
                 ) -> None:
        self._build = build
        self._stale = stale
        self._values: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = \
            weakref.WeakKeyDictionary()

    def get(self) -> T:
        """The running loop's object (call it from a coroutine)."""
        import asyncio

        loop = asyncio.get_running_loop()
        value = self._values.get(loop)
        if value is None or (self._stale is not None and self._stale(value)):
            value = self._values[loop] = self._build()
        return value
