"""Calling a provider's SDK: its exceptions mapped to `modelhub.errors` by the
provider's one mapping function, for calls and for streams read to their end.

A mapped error is raised outside the `except` that caught the SDK's exception, so the
SDK's exception (whose text may quote a request, and so a key) is kept neither as its
cause nor as its context. An exception the mapping does not claim (it returns None)
goes on as it is.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from modelhub.errors import ModelhubError

__all__ = ["ErrorMapper", "ItemReader", "acall_sdk", "aread_sdk_stream", "call_sdk",
           "read_sdk_stream"]

T = TypeVar("T")

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
        failure = map_error(exc)
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
        failure = map_error(exc)
        if failure is None:
            raise
    finally:
        if close is not None:
            await close()
    if failure is not None:
        raise failure
