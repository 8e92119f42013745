"""The SSE decoder's fast path (runs of one-line `data: ` events read at once) gives
exactly what reading the same bytes line by line, as the spec says, gives: whatever the
lines, line ends and cuts, in strict and lenient mode."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from modelhub.http.framing import Frame, SSEDecoder

LINES = ["data: {\"a\": 1}", "data: x", "data:x", "data:  two", "data: ", "data:", "data",
         "data: data: y", "data: é✓", "event: e", "event:", "id: 7", "id: a\0b", ": note",
         ":", "retry: 10", "other: z", "", "", ""]


def reference(text: str, lenient: bool) -> list[Frame]:
    """The spec's event-stream interpretation, one line at a time."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[Frame] = []
    event: str | None = None
    ident: str | None = None
    data: list[str] = []

    def dispatch() -> None:
        nonlocal event, data
        if data:
            out.append(Frame(event, "\n".join(data), ident))
        event, data = None, []

    for n, line in enumerate(lines):
        last = n == len(lines) - 1
        if not line:
            if not last:
                dispatch()
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name in ("event", "id"):
            if lenient and data:
                dispatch()
            if name == "event":
                event = value
            elif "\0" not in value:
                ident = value
    dispatch()  # an event left without its blank line at the end still counts
    return out


def decode(raw: bytes, cuts: list[int], lenient: bool) -> list[Frame]:
    decoder = SSEDecoder(lenient=lenient)
    frames: list[Frame] = []
    start = 0
    for cut in [*sorted(c % (len(raw) + 1) for c in cuts), len(raw)]:
        frames += decoder.feed(raw[start:cut])
        start = max(start, cut)
    return frames + decoder.close()


@settings(max_examples=600, deadline=None)
@given(lines=st.lists(st.sampled_from(LINES), max_size=24),
       ends=st.lists(st.sampled_from(["\n", "\n", "\r\n", "\r"]), min_size=1, max_size=4),
       cuts=st.lists(st.integers(0, 400), max_size=5), lenient=st.booleans(),
       bom=st.booleans())
def test_the_fast_path_reads_as_line_by_line_reading(
        lines: list[str], ends: list[str], cuts: list[int], lenient: bool, bom: bool) -> None:
    text = ("\ufeff" if bom else "") + "".join(
        line + ends[n % len(ends)] for n, line in enumerate(lines))
    assert decode(text.encode(), cuts, lenient) == reference(text, lenient)


def test_runs_of_data_events_keep_the_last_id_and_drop_a_pending_name() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 3\n\ndata: a\n\ndata: b\n\n") == [
        Frame(None, "a", "3"), Frame(None, "b", "3")]
    # an event begun in one chunk and ended in the next, then simple events again
    assert decoder.feed(b"event: e\ndata: c\n") == []
    assert decoder.feed(b"\ndata: d\n\ndata: e\ndata: f\n\n: x\ndata: g\n\n") == [
        Frame("e", "c", "3"), Frame(None, "d", "3"), Frame(None, "e\nf", "3"),
        Frame(None, "g", "3")]
