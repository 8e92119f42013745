"""Calling a provider's SDK: its exceptions mapped to `modelhub.errors` by the
provider's one mapping function, for calls and for streams read to their end.

A mapped error is raised outside the `except` that caught the SDK's exception, so the
SDK's exception (whose text may quote a request, and so a key) is kept neither as its
cause nor as its context. An exception the mapping does not claim (it returns None)
goes on as it is, but for a stream item of a shape the reader cannot read (a
`ValueError`, `TypeError`, `KeyError`, `IndexError` or `AttributeError` while
reading): that is a `ResponseParseError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from modelhub.errors import ModelhubError, ResponseParseError

__all__ = ["ErrorMapper", "ItemReader", "acall_sdk", "aread_sdk_stream", "call_sdk",
           "read_sdk_stream"]

T = TypeVar("T")

# What a reader (or the SDK decoding an event) raises on an item it cannot read.
_SHAPE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)

# A provider's mapping: the modelhub error for an SDK exception, or None.
ErrorMapper = Callable[[BaseException], ModelhubError | None]


class ItemReader(Protocol):
    """What reads a provider's stream items: text deltas out of each, then what was
    held back at the end."""

    def feed(self, item: Any) -> str:
        """The answer text one item carries ('' if none)."""

    def end(self) -> str:
        """Text held back until the end ('' if none)."""


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


def _unreadable(exc: BaseException) -> ModelhubError | None:
    """The error for a stream item that could not be read (its text is not quoted: it
    may hold anything), or None for any other exception."""
    if isinstance(exc, ModelhubError) or not isinstance(exc, _SHAPE_ERRORS):
        return None
    return ResponseParseError(
        f"a stream event has an unexpected shape ({type(exc).__name__})")


def read_sdk_stream(items: Iterable[Any], reader: ItemReader, map_error: ErrorMapper,
                    close: Callable[[], Any] | None = None) -> Iterator[str]:
    """The text deltas of an SDK stream, as `reader` finds them; failures while reading
    mapped; `close` called however the reading ends."""
    failure = None
    try:
        for item in items:
            delta = reader.feed(item)
            if delta:
                yield delta
        last = reader.end()
        if last:
            yield last
    except Exception as exc:
        failure = map_error(exc) or _unreadable(exc)
        if failure is None:
            raise
    finally:
        if close is not None:
            close()
    if failure is not None:
        raise failure


async def aread_sdk_stream(items: AsyncIterable[Any], reader: ItemReader,
                           map_error: ErrorMapper,
                           close: Callable[[], Awaitable[Any]] | None = None
                           ) -> AsyncIterator[str]:
    """Async twin of `read_sdk_stream`."""
    failure = None
    try:
        async for item in items:
            delta = reader.feed(item)
            if delta:
                yield delta
        last = reader.end()
        if last:
            yield last
    except Exception as exc:
        failure = map_error(exc) or _unreadable(exc)
        if failure is None:
            raise
    finally:
        if close is not None:
            await close()
    if failure is not None:
        raise failure
