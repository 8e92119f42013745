"""`BuiltOnRead`: a streamed answer's `raw` kept as text while the stream runs, and
built into the provider's events when first read.

A stream's reader decodes every event to read it. Keeping those decoded events until
the stream ends, for `ModelResponse.raw`, keeps hundreds of dicts and lists alive that
the cyclic collector then walks again and again while the stream runs (a collection
of the young generation every few hundred new containers, each walking all of them):
that cost more than reading the events. A string is not tracked by the collector, so
a stream keeps each event's text, and `raw` decodes them, with the same decoder, the
first time it is read: equal values, built once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

__all__ = ["BuiltOnRead"]


class BuiltOnRead(Sequence[Any]):
    """The events `build(source)` gives, built on first use (and then kept; `source`
    is let go). The stream appends to `source` until it ends."""

    __slots__ = ("_build", "_items", "_source")

    def __init__(self, source: list[Any], build: Callable[[list[Any]], list[Any]]) -> None:
        self._source = source
        self._build = build
        self._items: list[Any] | None = None

    def _built(self) -> list[Any]:
        if self._items is None:
            self._items = self._build(self._source)
            self._source = []
        return self._items

    @property
    def built(self) -> bool:
        """Whether the events have been built (read at least once)."""
        return self._items is not None

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        return self._built()[index]

    def __len__(self) -> int:
        return len(self._built())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._built())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BuiltOnRead):
            return self._built() == other._built()
        if isinstance(other, (list, tuple)):
            return self._built() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a sequence compared by value

    def __repr__(self) -> str:
        return repr(self._built())
