"""Stop strings for wrappers whose API cannot stop by itself: the answer is cut where
the first stop string begins, in a whole text or across the deltas of a stream (a
stop string may be split between chunks, so a possible beginning is held back)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence

__all__ = ["StopTrimmer", "trim_at_stop"]


def _first_stop(text: str, stops: Sequence[str]) -> int:
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(found) if found else -1


def trim_at_stop(text: str, stops: Sequence[str]) -> str:
    """`text` up to the first occurrence of any stop string."""
    cut = _first_stop(text, stops)
    return text if cut < 0 else text[:cut]


class StopTrimmer:
    """Cuts a stream of deltas at the first stop string. After the cut, the rest of
    the stream is still read (so its usage and finish reason arrive) but not shown."""

    __slots__ = ("_held", "_hit", "_stops")

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = list(stops)
        self._held = ""
        self._hit = False

    def _held_back(self, text: str) -> int:
        """How many trailing characters of `text` could begin a stop string."""
        longest = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(text)), longest, -1):
                if stop.startswith(text[-n:]):
                    longest = n
                    break
        return longest

    def feed(self, delta: str) -> str:
        """The part of `delta` that may be shown now."""
        if self._hit:
            return ""
        text = self._held + delta
        cut = _first_stop(text, self._stops)
        if cut >= 0:
            self._hit, self._held = True, ""
            return text[:cut]
        keep = self._held_back(text)
        self._held = text[len(text) - keep:] if keep else ""
        return text[:len(text) - keep]

    def flush(self) -> str:
        """At the end: what was held back, now known not to begin a stop string."""
        held, self._held = ("" if self._hit else self._held), ""
        return held

    def trim(self, deltas: Iterator[str]) -> Iterator[str]:
        """The deltas of a sync stream, cut at the first stop string."""
        try:
            for delta in deltas:
                shown = self.feed(delta)
                if shown:
                    yield shown
            rest = self.flush()
            if rest:
                yield rest
        finally:  # closing this stream closes the one below, releasing its connection
            close = getattr(deltas, "close", None)
            if close is not None:
                close()

    async def atrim(self, deltas: AsyncIterator[str]) -> AsyncIterator[str]:
        """The deltas of an async stream, cut at the first stop string."""
        try:
            async for delta in deltas:
                shown = self.feed(delta)
                if shown:
                    yield shown
            rest = self.flush()
            if rest:
                yield rest
        finally:
            aclose = getattr(deltas, "aclose", None)
            if aclose is not None:
                await aclose()
