"""`modelhub.http.jsonload.loads` is `json.loads`: the same value for any text or bytes
that are JSON, the same exception class (and message) for any that are not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelhub.http.jsonload import loads

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=4), children, max_size=4), max_leaves=12)
spaces = st.text(alphabet=" \t\n\r", max_size=3)
noise = st.sampled_from(["", "x", ",", "]", "}", "\ufeff", "\x0b", "\u00a0", "{", "1", '"'])


def outcome(decode: Any, text: str) -> tuple[str, Any]:
    try:
        return "value", decode(text)
    except Exception as exc:  # the class and the message must match
        return type(exc).__name__, str(exc)


@settings(max_examples=500, deadline=None)
@given(value=json_values, before=spaces, after=spaces, head=noise, tail=noise,
       cut=st.integers(0, 40))
def test_loads_is_json_loads(value: Any, before: str, after: str, head: str, tail: str,
                             cut: int) -> None:
    text = json.dumps(value, ensure_ascii=bool(cut % 2))
    for candidate in (text, before + text + after, head + text, text + tail,
                      text[:cut], before + text[cut:] + tail):
        assert outcome(loads, candidate) == outcome(json.loads, candidate)


@pytest.mark.parametrize("text", ["", " ", "NaN", "-Infinity", "1e999", "[1,]", '"\\ud800"',
                                  '{"a": 1} {"b": 2}', "\ufeff{}", "[" * 50 + "]" * 50,
                                  '"\x01"'])
def test_edge_texts(text: str) -> None:
    assert outcome(loads, text) == outcome(json.loads, text)


@settings(max_examples=300, deadline=None)
@given(value=json_values, encoding=st.sampled_from(
    ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"]),
    tail=st.sampled_from([b"", b" ", b"x", b"\xff", b"\x00"]), cut=st.integers(0, 40))
def test_loads_bytes_is_json_loads(value: Any, encoding: str, tail: bytes, cut: int) -> None:
    data = json.dumps(value, ensure_ascii=bool(cut % 2)).encode(encoding)
    for candidate in (data, data + tail, data[:cut], b"\xed\xa0\x80" + data,
                      bytearray(data)):
        assert outcome(loads, candidate) == outcome(json.loads, candidate)


@pytest.mark.parametrize("data", [b"", b"{", b"[", b"{}", b"[1]", b'"\xed\xa0\x80"',
                                  b'["\xed\xa0\x80"]', b"[\xff]", b"{\x00", b"[\x00\x00\x00"])
def test_edge_bytes(data: bytes) -> None:
    assert outcome(loads, data) == outcome(json.loads, data)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_request_bodies_are_what_json_dumps_writes(value: Any) -> None:
    from modelhub.http.client import dumps

    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert outcome(dumps, value) == outcome(lambda v: expected.encode("utf-8"), value)
