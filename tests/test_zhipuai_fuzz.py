"""Fuzzing the ZhipuAI answer readers with what the zai-sdk builds from any JSON (it
does not validate what it reads): whatever a server answers, the result is a response
or a ResponseParseError, never AttributeError, TypeError, KeyError or ValueError, and
no error quotes the key."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from zai.core._base_models import construct_type
from zai.types.chat.chat_completion import Completion
from zai.types.chat.chat_completion_chunk import ChatCompletionChunk
from zai.types.embeddings import EmbeddingsResponded

from modelhub import errors
from modelhub.http.errors import ErrorContext
from modelhub.providers.zhipuai.wire import (
    ChunkReader,
    parse_completion,
    parse_embeddings,
    read_answer,
)
from modelhub.response import ModelResponse
from tests.test_fuzz_parsers import mutated
from tests.zhipuai_server import chat_chunks, completion, embeddings_body

KEY = "sk-canary-fuzz-5e1f0c9a"
CONTEXT = ErrorContext(provider="zhipuai", config_name="fuzz", secrets=(KEY,))
# The SDK builds its objects slowly (a pydantic TypeAdapter per field): fewer examples.
EXAMPLES = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
CALLS = [{"id": "call_1", "name": "f", "arguments": '{"a": 1}'},
         {"id": KEY, "name": "g", "arguments": "{}"}]


def built(cls: type, data: Any) -> Any:
    """What the SDK hands over for `data` (its own lenient construction)."""
    return construct_type(type_=cls, value=data)


def survives(read: Any) -> ModelResponse | None:
    try:
        return read()
    except errors.ResponseParseError as error:
        assert KEY not in str(error) and KEY not in repr(error.response)
        return None


@EXAMPLES
@given(mutated(completion("<think>hm</think>hi", tool_calls=CALLS, reasoning_content="r")))
def test_a_completion_of_any_shape(data: Any) -> None:
    done = built(Completion, data)
    survives(lambda: read_answer(parse_completion, done, CONTEXT))


@EXAMPLES
@given(mutated({"chunks": chat_chunks(["a", "<think>b"], tool_calls=CALLS, tool_stream=True,
                                      reasoning_pieces=["r"])}))
def test_stream_chunks_of_any_shape(data: Any) -> None:
    chunks = data.get("chunks") if isinstance(data, dict) else None
    reader = ChunkReader(CONTEXT)

    def read() -> ModelResponse:
        for item in chunks if isinstance(chunks, list) else [chunks]:
            reader.feed(built(ChatCompletionChunk, item))
        read_answer(lambda _: reader.end(), None, CONTEXT)
        return read_answer(lambda _: reader.response(), None, CONTEXT)

    with contextlib.suppress(errors.ModelConnectionError):  # no finish reason: ended early
        survives(read)


@EXAMPLES
@given(mutated(embeddings_body([[0.1, 0.2], [0.3, 0.4]], order=[1, 0])))
def test_embeddings_of_any_shape(data: Any) -> None:
    answer = built(EmbeddingsResponded, data)
    survives(lambda: read_answer(parse_embeddings, answer, CONTEXT))
