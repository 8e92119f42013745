"""Stream framing: SSE, NDJSON and streamed JSON arrays, however the bytes are cut."""

from __future__ import annotations

import json
import random

import pytest

from modelhub.http.framing import (
    Frame,
    FramingError,
    JSONArrayDecoder,
    NDJSONDecoder,
    SSEDecoder,
    make_decoder,
)


def decode(decoder: SSEDecoder | NDJSONDecoder | JSONArrayDecoder, data: bytes,
           cuts: list[int] | None = None) -> list[Frame]:
    frames: list[Frame] = []
    start = 0
    for cut in [*(cuts or []), len(data)]:
        frames += decoder.feed(data[start:cut])
        start = cut
    return frames + decoder.close()


def every_cut(factory, data: bytes) -> list[list[Frame]]:  # type: ignore[no-untyped-def]
    """The frames for every single cut point, and for random multi-cuts."""
    rng = random.Random(7)
    results = [decode(factory(), data, [i]) for i in range(1, len(data))]
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(1, 8))))
        results.append(decode(factory(), data, cuts))
    return results


# -- SSE -------------------------------------------------------------------------------------
SSE_SAMPLE = ("\ufeff: keep-alive\r\nid: 7\r\nretry: 100\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n"
              "event: error\ndata:x\n\ndata: héllo ✓\r\rdata: last").encode()
SSE_EXPECTED = [Frame(None, '{"a":\n1}', "7"), Frame("error", "x", "7"),
                Frame(None, "héllo ✓", "7"), Frame(None, "last", "7")]


def test_sse_follows_the_spec() -> None:
    assert decode(SSEDecoder(), SSE_SAMPLE) == SSE_EXPECTED


def test_sse_gives_the_same_events_wherever_the_bytes_are_cut() -> None:
    # Cuts fall inside CRLF pairs, inside the BOM and inside multi-byte characters too.
    for frames in every_cut(SSEDecoder, SSE_SAMPLE):
        assert frames == SSE_EXPECTED


@pytest.mark.parametrize(("text", "expected"), [
    ("data:  two spaces\n\n", [Frame(None, " two spaces")]),  # exactly one space dropped
    ("data\n\n", [Frame(None, "")]),  # a field with no colon has an empty value
    ("data:\ndata:\n\n", [Frame(None, "\n")]),
    ("event: only\n\n", []),  # no data: no event, and the name does not leak on
    ("event: a\n\ndata: b\n\n", [Frame(None, "b")]),
    (":comment only\n\n", []),
    ("unknown: x\ndata: y\n\n", [Frame(None, "y")]),
    ("id: a\0b\ndata: y\n\n", [Frame(None, "y")]),  # an id holding NUL is ignored
    ("data: [DONE]\n\n", [Frame(None, "[DONE]")]),
])
def test_sse_edge_cases(text: str, expected: list[Frame]) -> None:
    assert decode(SSEDecoder(), text.encode()) == expected


def test_frames_are_frames_with_their_fields_named() -> None:
    sse_frame, = SSEDecoder().feed(b"event: e\nid: 1\ndata: x\n\n")
    ndjson_frame, = NDJSONDecoder().feed(b'{"a": 1}\n')
    for frame, fields in ((sse_frame, ("e", "x", "1")), (ndjson_frame, (None, '{"a": 1}', None))):
        assert type(frame) is Frame and frame == Frame(*fields)
        assert (frame.event, frame.data, frame.id) == fields
        assert frame._replace(data="y").data == "y" and frame._asdict()["data"] == fields[1]


def test_lenient_sse_splits_events_written_without_a_blank_line() -> None:
    # DashScope's gateway can run events together: id, event, data, id, event, data...
    text = (b"id:1\nevent:result\n:HTTP_STATUS/200\ndata:{\"n\":1}\n"
            b"id:2\nevent:result\n:HTTP_STATUS/200\ndata:{\"n\":2}\n\n")
    assert [f.data for f in decode(SSEDecoder(lenient=True), text)] == ['{"n":1}', '{"n":2}']
    # strict SSE joins them, as the spec says
    assert [f.data for f in decode(SSEDecoder(), text)] == ['{"n":1}\n{"n":2}']


# -- NDJSON ----------------------------------------------------------------------------------
NDJSON_SAMPLE = b'{"a": 1}\n\n{"b": "x\\ny"}\r\n  \n{"c": [1, 2]}'


def test_ndjson_lines_wherever_cut_and_a_last_line_without_newline() -> None:
    expected = [{"a": 1}, {"b": "x\ny"}, {"c": [1, 2]}]
    for frames in every_cut(NDJSONDecoder, NDJSON_SAMPLE):
        assert [json.loads(f.data) for f in frames] == expected


# -- streamed JSON arrays --------------------------------------------------------------------
ARRAY_DOC = [{"text": "a]b}c,\"d\\", "n": [1, {"x": "é"}]}, 2, "s,]", [3, [4]], None, True,
             {"e": "\\\\"}]
ARRAY_SAMPLE = json.dumps(ARRAY_DOC, ensure_ascii=False, indent=1).replace(
    "},", "}\n,\r\n").encode()


def test_json_array_elements_wherever_cut() -> None:
    # Cuts fall inside strings, right after a backslash, and inside multi-byte characters.
    for frames in every_cut(JSONArrayDecoder, ARRAY_SAMPLE):
        assert [json.loads(f.data) for f in frames] == ARRAY_DOC


def test_json_array_yields_each_element_as_soon_as_it_is_complete() -> None:
    decoder = JSONArrayDecoder()
    assert decoder.feed(b'[{"a": 1}') == []
    assert decoder.feed(b"\n,") == [Frame(None, '{"a": 1}')]
    assert decoder.feed(b'{"b": 2}]') == [Frame(None, '{"b": 2}')]
    assert decoder.close() == []


@pytest.mark.parametrize("text", [b"  [ ]  ", b"[]"])
def test_json_array_empty(text: bytes) -> None:
    assert decode(JSONArrayDecoder(), text) == []


@pytest.mark.parametrize(("text", "message"), [
    (b'{"a": 1}', "expected '\\['"), (b"[1,]", "trailing comma"), (b"[,1]", "empty element"),
    (b"[1", "before its closing bracket"), (b"[1]x", "after its closing bracket"),
    (b"[}", "unbalanced"), (b"[1] [2]", "after its closing bracket"), (b"", "closing bracket"),
])
def test_json_array_malformed(text: bytes, message: str) -> None:
    with pytest.raises(FramingError, match=message):
        decode(JSONArrayDecoder(), text)


def test_make_decoder() -> None:
    assert isinstance(make_decoder("sse"), SSEDecoder)
    assert isinstance(make_decoder("ndjson"), NDJSONDecoder)
    assert isinstance(make_decoder("json_array"), JSONArrayDecoder)
    with pytest.raises(ValueError):
        make_decoder("xml")  # type: ignore[arg-type]
