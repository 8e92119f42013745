"""Fuzzing the Ollama answer readers: whatever a server answers, whole or streamed, the
result is a well-typed response or a modelhub error (ResponseParseError for a shape
the reader does not expect, ServerError for an `{"error": ...}` object, a
ModelConnectionError for a stream without its end), and no error quotes the key."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelhub import errors
from modelhub.http.errors import ErrorContext, parse_answer
from modelhub.providers.ollama.embedding import parse_embed
from modelhub.providers.ollama.wire import AnswerReader
from tests.ollama_server import (
    chat_answer,
    chat_chunks,
    embed_answer,
    generate_answer,
    generate_chunks,
)
from tests.test_fuzz_parsers import KEY, json_values, mutated, well_typed

EXAMPLES = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

CONTEXT = ErrorContext(provider="ollama", config_name="fuzz", secrets=(KEY,))
CALLS = [{"id": "c1", "name": "f", "arguments": {"x": 1}}, {"name": "g", "arguments": {}}]


def bodies(*valid: Any) -> st.SearchStrategy[Any]:
    return st.one_of(json_values, *(mutated(v) for v in valid))


def clean(error: errors.ModelCallError) -> None:
    assert KEY not in str(error) and KEY not in repr(getattr(error, "response", None))
    assert KEY not in repr(getattr(error, "body", None))
    assert error.__context__ is None and error.config_name == "fuzz"


def whole(reader: AnswerReader, body: Any) -> None:
    try:
        result = parse_answer(reader.whole, body, CONTEXT)
    except (errors.ResponseParseError, errors.ServerError) as error:
        clean(error)
        return
    well_typed(result)


@EXAMPLES
@given(bodies(chat_answer("hi"), chat_answer("", thinking="t", tool_calls=CALLS),
              chat_answer("<think>a</think>b", done_reason="length")))
def test_chat_answers(body: Any) -> None:
    whole(AnswerReader(CONTEXT, chat=True), body)


@EXAMPLES
@given(bodies(generate_answer("hi"), generate_answer("x", thinking="t", eval_count=None)))
def test_generate_answers(body: Any) -> None:
    whole(AnswerReader(CONTEXT, chat=False), body)


@EXAMPLES
@given(bodies(embed_answer([[0.1, 0.2], [1, 2]]), embed_answer([[1.0]], prompt_eval_count=None)))
def test_embed_answers(body: Any) -> None:
    try:
        result = parse_answer(parse_embed, body, CONTEXT)
    except errors.ResponseParseError as error:
        clean(error)
        return
    well_typed(result)


VALID = [*chat_chunks(["He", "llo"], thinking=["t"], tool_calls=CALLS),
         *generate_chunks(["a"], thinking=["b"])]
objects = st.one_of(json_values, st.just({"error": f"boom {KEY}"}),
                    *[mutated(c) for c in VALID])


@EXAMPLES
@given(st.lists(objects, max_size=10), st.booleans())
def test_stream_object_sequences(sequence: list[Any], chat: bool) -> None:
    reader = AnswerReader(CONTEXT, chat=chat)
    try:
        for item in sequence:
            assert isinstance(parse_answer(reader.feed, item, CONTEXT), str)
        reader.end()
    except (errors.ResponseParseError, errors.ServerError,
            errors.ModelConnectionError) as error:
        clean(error)
        return
    well_typed(reader.response())
