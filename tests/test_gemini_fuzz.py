"""Fuzzing Gemini's answer reader: whatever body the SDK's own types accept (real
answers with parts removed, retyped or replaced), the reader makes a response of it or
raises a modelhub error, never AttributeError, TypeError, KeyError or ValueError."""

from __future__ import annotations

from typing import Any

import pytest
from google.genai import types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelhub import errors
from modelhub.http.errors import ErrorContext, parse_answer
from modelhub.providers.gemini.errors import map_error
from modelhub.providers.gemini.wire import ChunkReader, parse_response
from modelhub.response import ModelResponse
from tests.gemini_server import (
    call_part,
    generate_response,
    max_tokens_without_text,
    prompt_blocked,
    safety_blocked,
    stream_chunks,
    thought_part,
)
from tests.test_fuzz_parsers import mutated

CONTEXT = ErrorContext(provider="gemini", config_name="fuzz")
EXAMPLES = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
CALLS = [{"name": "f", "args": {"a": 1}}, {"name": "", "args": {}}]
BODIES = [generate_response(parts=[thought_part("t", "c2ln"), {"text": "x"},
                                   call_part("f", {"a": [1]}, id="i", signature="c2ln")]),
          safety_blocked(), max_tokens_without_text(), prompt_blocked(),
          *stream_chunks(["a"], thoughts=["t"], calls=CALLS)]


def _sdk_reads(body: Any) -> Any:
    """What the SDK makes of an answer, as it reads one; when it cannot, the error
    is a ResponseParseError once mapped (and None is returned)."""
    try:
        return types.GenerateContentResponse._from_response(response=body, kwargs={})
    except Exception as exc:
        mapped = map_error(exc, CONTEXT)
        assert isinstance(mapped, errors.ResponseParseError), repr(exc)
        return None


@pytest.mark.filterwarnings("ignore::UserWarning")  # the SDK warns of unknown enum values
@EXAMPLES
@given(st.sampled_from(BODIES).flatmap(mutated))
def test_any_answer_the_sdk_reads_is_a_response_or_a_parse_error(body: Any) -> None:
    parsed = _sdk_reads(body)
    if parsed is None:
        return
    try:
        result = parse_answer(parse_response, parsed, CONTEXT)
    except errors.ResponseParseError:
        return
    assert isinstance(result, ModelResponse)
    assert result.text is None or isinstance(result.text, str)
    assert all(isinstance(c.arguments, dict) for c in result.tool_calls)


@pytest.mark.filterwarnings("ignore::UserWarning")
@EXAMPLES
@given(st.lists(st.sampled_from(BODIES).flatmap(mutated), min_size=1, max_size=4))
def test_any_stream_is_a_response_or_a_modelhub_error(chunks: list[Any]) -> None:
    reader = ChunkReader(CONTEXT)
    try:
        for chunk in chunks:
            parsed = _sdk_reads(chunk)
            if parsed is not None:
                assert isinstance(reader.feed(parsed), str)
        reader.end()
        assert isinstance(reader.response(), ModelResponse)
    except errors.ModelCallError:
        pass
