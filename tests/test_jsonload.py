"""`modelhub.http.jsonload.loads` is `json.loads` for text: the same value for any text
that is JSON, the same exception class (and message) for any that is not."""

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
