"""Fuzzing the OpenAI-wire parsers: whatever a server answers, the result is a
response or a modelhub error (ResponseParseError for a shape the parser does not
expect), never AttributeError, TypeError, KeyError or ValueError, and no error quotes
the key."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelhub import errors
from modelhub.http.client import StreamReader
from modelhub.http.errors import ErrorContext, parse_answer
from modelhub.providers.openai import wire
from modelhub.providers.openai.embedding import parse_embeddings
from modelhub.providers.openai.images import parse_images
from modelhub.response import ModelResponse
from tests.openai_server import chat_chunks, chat_completion, embedding_response, images_response

KEY = "sk-canary-fuzz-5e1f0c9a"
CONTEXT = ErrorContext(provider="openai", config_name="fuzz", secrets=(KEY,))
EXAMPLES = settings(max_examples=2000, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=12), st.just(KEY), st.just("[DONE]"))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20)


def mutated(valid: Any) -> st.SearchStrategy[Any]:
    """`valid` with random parts replaced, removed or retyped: shapes near the real one
    reach the parser's deep paths."""

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        def walk(node: Any) -> Any:
            choice = draw(st.integers(0, 9))
            if choice == 0:
                return draw(json_values)
            if isinstance(node, dict):
                out = {k: walk(v) for k, v in node.items() if draw(st.integers(0, 7))}
                if draw(st.integers(0, 5)) == 0:
                    out[draw(st.sampled_from(["choices", "usage", "data", "error", "delta",
                                              "tool_calls", "content"]))] = draw(json_values)
                return out
            if isinstance(node, list):
                return [walk(v) for v in node]
            return node

        return walk(valid)

    return build()


def bodies(*valid: Any) -> st.SearchStrategy[Any]:
    return st.one_of(json_values, *(mutated(v) for v in valid))


def outcome(parse: Any, body: Any) -> None:
    try:
        result = parse_answer(parse, body, CONTEXT)
    except errors.ResponseParseError as error:
        assert KEY not in str(error) and KEY not in repr(error.response)
        assert error.__context__ is None and error.config_name == "fuzz"
        return
    well_typed(result)


def well_typed(result: Any) -> None:
    """A response holds what its fields promise, whatever the server sent."""
    assert isinstance(result, ModelResponse)
    for value in (result.text, result.finish_reason, result.model, result.reasoning):
        assert value is None or isinstance(value, str)
    for call in result.tool_calls:
        assert isinstance(call.name, str) and call.name and isinstance(call.arguments, dict)
        assert isinstance(call.id, str)
    if result.usage is not None:
        assert all(isinstance(n, int) for n in (result.usage.input_tokens,
                                               result.usage.output_tokens,
                                               result.usage.total_tokens))
    for vector in result.embedding or ():
        assert all(isinstance(x, float) for x in vector)
    for url in result.image_urls or ():
        assert isinstance(url, str)


CALL = {"id": "c1", "name": "f", "arguments": '{"x": 1}'}


@EXAMPLES
@given(bodies(chat_completion("hi"), chat_completion(None, tool_calls=[CALL]),
              chat_completion("<think>a</think>b", reasoning_content="r")))
def test_chat_completion_bodies(body: Any) -> None:
    outcome(wire.parse_chat_completion, body)


@EXAMPLES
@given(bodies(embedding_response([[0.1, 0.2]]), embedding_response([[1.0]], encoding_format="base64")))
def test_embedding_bodies(body: Any) -> None:
    outcome(parse_embeddings, body)


@EXAMPLES
@given(bodies(images_response(["https://x/1.png"]), images_response(b64=["aGk="])))
def test_image_bodies(body: Any) -> None:
    outcome(parse_images, body)


class _Endpoint:
    context = CONTEXT
    secrets = CONTEXT.secrets

    def context_for(self, path: str) -> ErrorContext:
        return CONTEXT


VALID_CHUNKS = chat_chunks(["He", "llo"], tool_calls=[CALL])
frames = st.one_of(
    st.builds(lambda v: f"data: {json.dumps(v)}\n\n", st.one_of(json_values,
                                                              *[mutated(c) for c in VALID_CHUNKS])),
    st.sampled_from(["data: [DONE]\n\n", ": ping\n\n", "event: error\n", "data: {\n\n",
                     f"data: not json {KEY}\n\n", "\n", "id: 3\n", "data:\n\n"]),
    st.text(max_size=20))


@EXAMPLES
@given(st.lists(frames, max_size=12), st.integers(1, 64))
def test_chat_stream_event_sequences(events: list[str], cut: int) -> None:
    reader = StreamReader("sse", wire.ChatStreamHandler(CONTEXT), _Endpoint(),  # type: ignore[arg-type]
                          "/chat/completions")
    data = "".join(events).encode()
    try:
        for start in range(0, len(data), cut):
            reader.feed(data[start:start + cut])
            if reader.done:
                break
        reader.end()
        response = reader._handler.response()  # type: ignore[attr-defined]
    except (errors.ResponseParseError, errors.ModelAPIError, errors.ModelConnectionError) as e:
        assert KEY not in str(e) and KEY not in repr(getattr(e, "response", None))
        assert KEY not in repr(getattr(e, "body", None))
        return
    well_typed(response)
