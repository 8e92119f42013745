"""Stream framing: incremental decoders that take the bytes of a response as they
arrive, cut anywhere, and return whole frames.

- `SSEDecoder`: server-sent events, as the HTML spec defines them (LF, CRLF or CR line
  ends; `data:` lines joined with newlines; one space after the colon dropped;
  comments, `retry:` and unknown fields ignored; a blank line ends an event), with an
  optional lenient mode for servers that start a new event without a blank line.
- `NDJSONDecoder`: one JSON value per line (blank lines skipped).
- `JSONArrayDecoder`: one JSON array streamed in pieces, each element a frame.

A frame's `data` is text: decoding JSON is the provider's job. Sync and async readers
feed the same decoder, so the framing logic exists once. Malformed framing raises
`FramingError`, which the endpoint turns into a `ResponseParseError`.
"""

from __future__ import annotations

import codecs
import re
from itertools import repeat
from typing import Literal, NamedTuple, Protocol

__all__ = [
    "Decoder",
    "Frame",
    "Framing",
    "FramingError",
    "JSONArrayDecoder",
    "NDJSONDecoder",
    "SSEDecoder",
    "make_decoder",
]

Framing = Literal["sse", "ndjson", "json_array"]

_BOM = b"\xef\xbb\xbf"
# One or more events that are each a single `data: ` line (the shape nearly every
# event of every stream has), read without going line by line.
_SIMPLE = re.compile(r"(?:data: [^\n]*\n\n)+")
# Builds a Frame from (event, data, id) without the NamedTuple's Python-level __new__:
# nearly every frame of a stream is made here, and that call costs more than the rest
# of reading its line.
_frame = tuple.__new__


class FramingError(ValueError):
    """The bytes do not follow the stream's framing."""


class Frame(NamedTuple):
    """One unit of a stream: an SSE event (its `event` name, `data` and `id`), an NDJSON
    line, or a JSON array element (`event` and `id` None for the last two)."""

    event: str | None
    data: str
    id: str | None = None


class Decoder(Protocol):
    """What every framing decoder does."""

    def feed(self, chunk: bytes) -> list[Frame]:
        """Take the next bytes; return the frames they complete."""

    def close(self) -> list[Frame]:
        """The stream ended: return a last frame left unterminated, if any."""


class _LineSplitter:
    """Bytes to lines: LF, CRLF and CR all end a line, even when a CRLF is cut between
    two chunks. A leading UTF-8 byte order mark is dropped."""

    __slots__ = ("_buffer", "_started")

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False

    def feed(self, chunk: bytes) -> list[str]:
        text = self.feed_text(chunk)
        return text[:-1].split("\n") if text else []

    def feed_text(self, chunk: bytes) -> str:
        """The lines the next bytes complete, as one text with each line ending in LF
        (CR and CRLF turned into LF); '' when they complete none."""
        buffer = self._buffer + chunk if self._buffer else chunk
        if not self._started:
            if len(buffer) < len(_BOM) and _BOM.startswith(buffer):
                self._buffer = buffer
                return ""
            self._started = True
            if buffer.startswith(_BOM):
                buffer = buffer[len(_BOM):]
        held = b""
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):  # may be the first half of a CRLF
                buffer, held = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        end = buffer.rfind(b"\n") + 1
        self._buffer = buffer[end:] + held
        # Whole lines never split a UTF-8 sequence (LF is never part of one), so they are
        # decoded at once.
        return buffer[:end].decode("utf-8", "replace") if end else ""

    def close(self) -> list[str]:
        rest, self._buffer = self._buffer, b""
        if rest.endswith(b"\r"):
            rest = rest[:-1]
        return [rest.decode("utf-8", "replace")] if rest else []


class SSEDecoder:
    """Server-sent events, incrementally.

    With `lenient=True`, an `id:` or `event:` line that follows buffered data starts a
    new event, for servers that omit the blank line between events.
    """

    __slots__ = ("_data", "_event", "_id", "_lenient", "_lines")

    def __init__(self, *, lenient: bool = False) -> None:
        self._lines = _LineSplitter()
        self._lenient = lenient
        self._event: str | None = None
        self._id: str | None = None
        self._data: list[str] = []

    def _dispatch(self) -> Frame | None:
        frame = Frame(self._event, "\n".join(self._data), self._id) if self._data else None
        self._event, self._data = None, []
        return frame

    def _line(self, line: str, out: list[Frame]) -> None:
        if not line:
            frame = self._dispatch()
            if frame is not None:
                out.append(frame)
            return
        if line[0] == ":":
            return  # a comment
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
            return
        if name not in ("event", "id"):
            return  # `retry:` and unknown fields
        if self._lenient and self._data:
            frame = self._dispatch()
            if frame is not None:
                out.append(frame)
        if name == "event":
            self._event = value
        elif "\0" not in value:
            self._id = value

    def feed(self, chunk: bytes) -> list[Frame]:
        """Take the next bytes; return the events they complete."""
        text = self._lines.feed_text(chunk)
        # Events that are each one `data: ` line are read without going line by line,
        # as that reading takes them: each is its line's value (which holds no LF), under
        # no name, with the last id seen. Where nothing is pending and the whole text is
        # such events (it has two LFs per event: none inside a value), at once.
        if text[:6] == "data: " and text[-2:] == "\n\n" and not self._data \
                and self._event is None:
            values = text[6:-2].split("\n\ndata: ")
            if text.count("\n") == 2 * len(values):
                return list(map(_frame, repeat(Frame), zip(repeat(None), values,
                                                            repeat(self._id))))
        out: list[Frame] = []
        pos, size = 0, len(text)
        while pos < size:
            if self._data or self._event is not None:  # an event begun: to its end
                end = text.find("\n\n", pos)
                stop = size if end < 0 else end + 2
            else:
                match = _SIMPLE.match(text, pos)
                if match is not None:
                    stop = match.end()
                    values = text[pos + 6:stop - 2].split("\n\ndata: ")
                    out += map(_frame, repeat(Frame), zip(repeat(None), values,
                                                         repeat(self._id)))
                    pos = stop
                    continue
                stop = size
            self._read_lines(text[pos:stop - 1].split("\n"), out)
            pos = stop
        return out

    def _read_lines(self, lines: list[str], out: list[Frame]) -> None:
        data = self._data
        for line in lines:
            # The two lines nearly every event is made of, read here without a call.
            if line[:5] == "data:":
                data.append(line[6:] if line[5:6] == " " else line[5:])
            elif not line and data:
                out.append(_frame(Frame, (self._event, "\n".join(data), self._id)))
                self._event, self._data = None, []
                data = self._data
            else:
                self._line(line, out)
                data = self._data

    def close(self) -> list[Frame]:
        """The stream ended: an event left without its blank line still counts."""
        out: list[Frame] = []
        for line in self._lines.close():
            self._line(line, out)
        frame = self._dispatch()
        if frame is not None:
            out.append(frame)
        return out


class NDJSONDecoder:
    """Newline-delimited JSON: each non-blank line is one frame."""

    __slots__ = ("_lines",)

    def __init__(self) -> None:
        self._lines = _LineSplitter()

    def feed(self, chunk: bytes) -> list[Frame]:
        """Take the next bytes; return the lines they complete."""
        return [_frame(Frame, (None, line, None)) for line in self._lines.feed(chunk)
                if line.strip()]

    def close(self) -> list[Frame]:
        """A last line without its newline still counts."""
        return [Frame(None, line) for line in self._lines.close() if line.strip()]


# Outside a string, the characters that change the structure; inside, those that end it.
_STRUCTURE = re.compile(r'[\[\]{},"]')
_IN_STRING = re.compile(r'["\\]')
_NON_SPACE = re.compile(r"[^ \t\r\n]")

# Where a JSON array decoder stands.
_BEFORE, _FIRST, _NEXT, _SEPARATOR, _ELEMENT, _AFTER = range(6)


class JSONArrayDecoder:
    """One JSON array, streamed: each top-level element is a frame as soon as it is
    complete (Gemini's `streamGenerateContent` without `alt=sse` answers so).

    It tracks only what delimits elements (brackets, braces, strings and their
    escapes); each element's own JSON is checked when the provider decodes it.
    """

    __slots__ = ("_in_string", "_nesting", "_pos", "_start", "_state", "_text", "_utf8")

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self._text = ""
        self._pos = 0  # how far `_text` has been scanned
        self._state = _BEFORE
        self._start = 0  # where the element being read starts
        self._nesting = 0  # brackets and braces open inside that element
        self._in_string = False

    @staticmethod
    def _fail(what: str) -> FramingError:
        return FramingError(f"not a streamed JSON array: {what}")

    def _between(self, text: str, pos: int) -> int:
        """Read what stands between elements; return where reading stopped."""
        match = _NON_SPACE.search(text, pos)
        if match is None:
            return len(text)
        pos, char = match.start(), match.group()
        state = self._state
        if state == _AFTER:
            raise self._fail("data after its closing bracket")
        if state == _BEFORE:
            if char != "[":
                raise self._fail(f"expected '[', got {char!r}")
            self._state = _FIRST
        elif state == _SEPARATOR:
            if char not in ",]":
                raise self._fail(f"expected ',' or ']' after an element, got {char!r}")
            self._state = _NEXT if char == "," else _AFTER
        elif char == "]" and state == _FIRST:
            self._state = _AFTER  # an empty array
        elif char in ",]":
            raise self._fail("an empty element" if char == "," else "a trailing comma")
        else:
            self._state, self._start, self._nesting = _ELEMENT, pos, 0
            return pos
        return pos + 1

    def _element(self, text: str, pos: int, out: list[Frame]) -> int:
        """Read on inside an element; return where reading stopped."""
        if self._in_string:
            match = _IN_STRING.search(text, pos)
            if match is None:
                return len(text)
            if match.group() == "\\":
                return match.end() + 1  # past the escaped character, maybe still to come
            self._in_string = False
            return match.end()
        match = _STRUCTURE.search(text, pos)
        if match is None:
            return len(text)
        char, pos = match.group(), match.end()
        if char == '"':
            self._in_string = True
        elif char in "[{":
            self._nesting += 1
        elif self._nesting:
            if char in "]}":
                self._nesting -= 1
        elif char == "}":
            raise self._fail("an unbalanced '}'")
        else:  # ',' or ']' closing the element
            out.append(Frame(None, text[self._start:pos - 1].strip()))
            self._state = _NEXT if char == "," else _AFTER
        return pos

    def _scan(self, out: list[Frame]) -> None:
        text, pos = self._text, self._pos
        while pos < len(text):
            pos = (self._element(text, pos, out) if self._state == _ELEMENT
                   else self._between(text, pos))
        if self._state == _ELEMENT:
            self._pos = pos
        else:  # nothing pending: forget what was read
            self._text, self._pos = text[pos:], 0

    def feed(self, chunk: bytes) -> list[Frame]:
        """Take the next bytes; return the elements they complete."""
        out: list[Frame] = []
        self._text += self._utf8.decode(chunk)
        self._scan(out)
        return out

    def close(self) -> list[Frame]:
        """The stream ended: it must have ended with its closing bracket."""
        out: list[Frame] = []
        self._text += self._utf8.decode(b"", final=True)
        self._scan(out)
        if self._state != _AFTER:
            raise self._fail("it ended before its closing bracket")
        return out


def make_decoder(framing: Framing, *, lenient_sse: bool = False) -> Decoder:
    """A new decoder for one stream."""
    if framing == "sse":
        return SSEDecoder(lenient=lenient_sse)
    if framing == "ndjson":
        return NDJSONDecoder()
    if framing == "json_array":
        return JSONArrayDecoder()
    raise ValueError(f"unknown framing {framing!r}")
