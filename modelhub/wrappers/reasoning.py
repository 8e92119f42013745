"""Keeping reasoning out of `text`: models such as DeepSeek-R1 or Qwen3 served by
OpenAI-compatible servers put their thoughts in a leading `<think>...</think>` block
of the content. `split_think` separates a whole text; `ThinkSplitter` does it for a
stream whose tags may be cut anywhere between chunks."""

from __future__ import annotations

__all__ = ["ThinkSplitter", "split_think"]

OPEN, CLOSE = "<think>", "</think>"


def split_think(text: str | None) -> tuple[str | None, str | None]:
    """(text, reasoning): a leading <think> block moved out of the text."""
    if not text or not text.lstrip().startswith(OPEN):
        return text, None
    body = text.lstrip()[len(OPEN):]
    thought, closed, rest = body.partition(CLOSE)
    if not closed:  # cut off while thinking
        return "", thought.strip() or None
    return rest.lstrip(), thought.strip() or None


def _held_back(text: str, tag: str) -> int:
    """How many trailing characters of `text` could be the start of `tag`."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-n:]):
            return n
    return 0


class ThinkSplitter:
    """Streaming twin of `split_think`: feed content deltas, get (text, thought) back."""

    __slots__ = ("_buffer", "_state")

    def __init__(self) -> None:
        self._state = "start"  # start -> thinking -> after -> text
        self._buffer = ""

    @property
    def passing_through(self) -> bool:
        """Whether the leading block is behind: every later delta is plain text."""
        return self._state == "text"

    def feed(self, delta: str) -> tuple[str, str]:
        """Split one content delta into (text, thought); either may be ''."""
        if self._state == "text":
            return delta, ""
        self._buffer += delta
        text, thought = "", ""
        if self._state == "start":
            head = self._buffer.lstrip()
            if not head or (len(head) < len(OPEN) and OPEN.startswith(head)):
                return "", ""
            if not head.startswith(OPEN):
                self._state = "text"
                out, self._buffer = self._buffer, ""
                return out, ""
            self._state, self._buffer = "thinking", head[len(OPEN):]
        if self._state == "thinking":
            before, closed, after = self._buffer.partition(CLOSE)
            if not closed:
                keep = _held_back(self._buffer, CLOSE)
                thought = self._buffer[:len(self._buffer) - keep]
                self._buffer = self._buffer[len(self._buffer) - keep:]
                return "", thought
            thought, self._state, self._buffer = before, "after", after
        if self._state == "after":
            self._buffer = self._buffer.lstrip()
            if self._buffer:
                self._state = "text"
                text, self._buffer = self._buffer, ""
        return text, thought

    def flush(self) -> tuple[str, str]:
        """At the end of the stream: release whatever is held back."""
        rest, self._buffer = self._buffer, ""
        if self._state == "thinking":
            return "", rest
        return rest, ""
