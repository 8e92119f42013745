"""The OpenAI wire on its own: chat.completion bodies, chunk streams, stream errors."""

from __future__ import annotations

import json

import pytest

from modelhub import errors
from modelhub.http.errors import ErrorContext, parse_answer
from modelhub.http.framing import Frame
from modelhub.providers.openai import wire

CONTEXT = ErrorContext(provider="openai", config_name="gpt", secrets=("sk-canary-secret",))


def chunk(**delta: object) -> Frame:
    return Frame(None, json.dumps({"model": "m", "choices": [{"index": 0, "delta": delta,
                                                              "finish_reason": None}]}))


def handler() -> wire.ChatStreamHandler:
    return wire.ChatStreamHandler(CONTEXT)


def test_chunks_become_tool_calls_usage_and_finish_reason() -> None:
    h = handler()
    feed = [
        chunk(role="assistant", content=""),
        chunk(tool_calls=[{"index": 0, "id": "a", "type": "function",
                           "function": {"name": "add", "arguments": ""}}]),
        chunk(tool_calls=[{"index": 1, "id": "b", "type": "function",
                           "function": {"name": "mul", "arguments": "{\"x\""}}]),
        chunk(tool_calls=[{"index": 0, "function": {"arguments": "{\"x\": 1}"}}]),
        chunk(tool_calls=[{"index": 1, "id": "", "function": {"name": "mul",
                                                            "arguments": ": 2}"}}]),
        Frame(None, json.dumps({"choices": [{"index": 0, "delta": {},
                                             "finish_reason": "tool_calls"}]})),
        Frame(None, json.dumps({"choices": [], "usage": {"prompt_tokens": 5,
                                                         "completion_tokens": 6,
                                                         "total_tokens": 11}})),
        Frame(None, "[DONE]"),
    ]
    assert [h.feed(f) for f in feed] == [None] * 8
    assert h.finished and h.end() is None
    response = h.response()
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("a", "add", {"x": 1}), ("b", "mul", {"x": 2})]
    assert response.text is None and response.finish_reason == "tool_calls"
    assert response.usage is not None and response.usage.total_tokens == 11


def test_think_blocks_and_reasoning_content_stay_out_of_text() -> None:
    h = handler()
    out = [h.feed(chunk(content=c)) for c in ["<th", "ink>plan", "</thi", "nk>\n\nHi", "!"]]
    out.append(h.feed(chunk(reasoning_content="native ")))
    h.feed(Frame(None, "[DONE]"))
    assert "".join(d for d in out if d) == "Hi!"
    response = h.response()
    assert response.text == "Hi!" and "plan" in (response.reasoning or "")
    assert "native" in (response.reasoning or "")


def test_a_stream_without_done_or_finish_reason_ended_early() -> None:
    h = handler()
    h.feed(chunk(content="par"))
    with pytest.raises(errors.ModelConnectionError, match="ended early") as info:
        h.end()
    assert info.value.partial_text == "par"


@pytest.mark.parametrize(("payload", "cls", "status"), [
    ({"error": {"message": "slow down", "type": "rate_limit_error"}}, errors.RateLimitError, 429),
    ({"error": {"message": "boom", "type": "server_error", "code": None}}, errors.ServerError, 500),
    ({"error": {"message": "bad", "code": 400}}, errors.BadRequestError, 400),
    ({"error": {"message": "who"}}, errors.ServerError, 500),
])
def test_an_error_inside_a_200_stream_is_mapped(payload: dict, cls: type, status: int) -> None:
    with pytest.raises(cls) as info:
        handler().feed(Frame(None, json.dumps(payload)))
    assert info.value.status_code == status
    assert info.value.message == payload["error"]["message"]
    assert info.value.config_name == "gpt"


def test_an_error_event_type_is_mapped_even_without_an_error_key() -> None:
    with pytest.raises(errors.ServerError) as info:
        handler().feed(Frame("error", json.dumps({"message": "overloaded",
                                                   "type": "overloaded_error"})))
    assert info.value.status_code == 503


@pytest.mark.parametrize("data", ["not json sk-canary-secret", "123", "null", '"x"',
                                  '{"choices": "abc"}', '{"choices": ["x"]}',
                                  '{"choices": [{"delta": {"tool_calls": 5}}]}',
                                  '{"choices": [], "usage": {"prompt_tokens": "abc"}}'])
def test_a_chunk_of_the_wrong_shape_is_a_parse_error(data: str) -> None:
    from modelhub.http.client import StreamReader

    class _Endpoint:  # what StreamReader reads of its endpoint
        context = CONTEXT
        secrets = CONTEXT.secrets

        def context_for(self, path: str) -> ErrorContext:
            return CONTEXT

    reader = StreamReader("sse", handler(), _Endpoint(), "/chat")  # type: ignore[arg-type]
    with pytest.raises(errors.ResponseParseError) as info:
        reader.feed(f"data: {data}\n\n".encode())
    assert "sk-canary-secret" not in str(info.value)
    assert info.value.__cause__ is None


@pytest.mark.parametrize("body", [{"object": "list"}, {"choices": "abc"}, {"choices": ["x"]},
                                  {"choices": [{"message": {"tool_calls": 5}}]},
                                  {"choices": [{"message": {"content": 7}}]},
                                  {"choices": [], "usage": {"prompt_tokens": "abc"}}, None, 3])
def test_a_body_of_the_wrong_shape_is_a_parse_error(body: object) -> None:
    with pytest.raises(errors.ResponseParseError) as info:
        parse_answer(wire.parse_chat_completion, body, CONTEXT)
    assert info.value.config_name == "gpt"
