"""The OpenAI wire layer on its own: SSE framing, chunk accumulation, error mapping."""

from __future__ import annotations

import json

import pytest

from modelhub import errors
from modelhub.providers.openai import wire


def events(text: str) -> list[tuple[str | None, str]]:
    import httpx._decoders as decoders

    decoder = decoders.LineDecoder()
    lines = decoder.decode(text) + decoder.flush()
    return list(wire.iter_sse(lines))


def test_sse_joins_multiline_data_and_skips_comments_and_ids() -> None:
    text = ": keep-alive\r\nid: 7\r\nretry: 100\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nevent: error\ndata:x\n\n"
    assert events(text) == [(None, '{"a":\n1}'), ("error", "x")]


def test_sse_handles_cr_only_line_endings_and_an_unterminated_last_event() -> None:
    assert events("data: one\r\rdata: two") == [(None, "one"), (None, "two")]


def test_sse_drops_exactly_one_space_after_the_colon() -> None:
    assert events("data:  two spaces\n\n") == [(None, " two spaces")]


def chunk(**delta: object) -> str:
    return json.dumps({"model": "m", "choices": [{"index": 0, "delta": delta,
                                                  "finish_reason": None}]})


def test_stream_state_reassembles_parallel_tool_calls_and_usage() -> None:
    state = wire.ChatStreamState("openai", [])
    feed = [
        chunk(role="assistant", content=""),
        chunk(tool_calls=[{"index": 0, "id": "a", "type": "function",
                           "function": {"name": "add", "arguments": ""}}]),
        chunk(tool_calls=[{"index": 1, "id": "b", "type": "function",
                           "function": {"name": "mul", "arguments": "{\"x\""}}]),
        chunk(tool_calls=[{"index": 0, "function": {"arguments": "{\"x\": 1}"}}]),
        chunk(tool_calls=[{"index": 1, "function": {"arguments": ": 2}"}}]),
        json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        json.dumps({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 6,
                                              "total_tokens": 11}}),
    ]
    deltas = [state.feed(None, data) for data in feed]
    assert deltas == [None] * 7
    response = state.response()
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("a", "add", {"x": 1}), ("b", "mul", {"x": 2})]
    assert response.text is None
    assert response.finish_reason == "tool_calls"
    assert (response.usage.input_tokens, response.usage.output_tokens,
            response.usage.total_tokens) == (5, 6, 11)


def test_stream_state_moves_think_block_and_reasoning_content_out_of_text() -> None:
    state = wire.ChatStreamState("openai", [])
    out = [state.feed(None, chunk(content=c)) for c in ["<th", "ink>plan", "</thi", "nk>\n\nHi", "!"]]
    out.append(state.feed(None, chunk(reasoning_content="native ")))
    assert "".join(d for d in out if d) == "Hi!"
    response = state.response()
    assert response.text == "Hi!"
    assert response.reasoning is not None and "plan" in response.reasoning
    assert "native" in response.reasoning


@pytest.mark.parametrize(("payload", "cls", "status"), [
    ({"error": {"message": "slow down", "type": "rate_limit_error"}}, errors.RateLimitError, 429),
    ({"error": {"message": "boom", "type": "server_error", "code": None}}, errors.ServerError, 500),
    ({"error": {"message": "bad", "code": 400}}, errors.BadRequestError, 400),
    ({"error": {"message": "who"}}, errors.ServerError, 500),
])
def test_error_inside_a_200_stream_is_mapped(payload: dict, cls: type, status: int) -> None:
    state = wire.ChatStreamState("openai", [])
    with pytest.raises(cls) as info:
        state.feed(None, json.dumps(payload))
    assert info.value.status_code == status
    assert info.value.message == payload["error"]["message"]


def test_error_event_type_is_mapped_even_without_error_key() -> None:
    state = wire.ChatStreamState("openai", [])
    with pytest.raises(errors.ModelAPIError):
        state.feed("error", json.dumps({"message": "overloaded", "type": "overloaded_error"}))


def test_non_json_stream_event_is_a_parse_error_without_secrets() -> None:
    state = wire.ChatStreamState("openai", ["sk-canary-secret"])
    with pytest.raises(errors.ResponseParseError) as info:
        state.feed(None, "not json sk-canary-secret")
    assert "sk-canary-secret" not in str(info.value)


@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.BadRequestError), (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError), (404, errors.NotFoundError),
    (422, errors.BadRequestError), (429, errors.RateLimitError), (500, errors.ServerError),
    (503, errors.ServerError), (418, errors.ModelAPIError),
])
def test_http_error_status_maps_to_its_class(status: int, cls: type) -> None:
    body = json.dumps({"error": {"message": "nope sk-canary-1234", "type": "x", "code": "c"}})
    error = wire.error_from_response(status, {}, body.encode(), "openai", ["sk-canary-1234"])
    assert type(error) is cls
    assert error.status_code == status and error.code == "c"
    assert "sk-canary-1234" not in str(error) and "sk-canary-1234" not in json.dumps(error.body)


def test_retry_after_headers() -> None:
    assert wire.retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert wire.retry_after_seconds({"retry-after": "3"}) == 3.0
    assert wire.retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert wire.retry_after_seconds({"retry-after": "soon"}) is None
    error = wire.error_from_response(429, {"retry-after": "2"}, b"{}", "openai", [])
    assert isinstance(error, errors.RateLimitError) and error.retry_after == 2.0


def test_html_error_page_keeps_its_text() -> None:
    error = wire.error_from_response(502, {}, b"<html>Bad Gateway</html>", "openai", [])
    assert isinstance(error, errors.ServerError) and "Bad Gateway" in str(error)


def test_parse_chat_completion_rejects_non_completion_body() -> None:
    with pytest.raises(errors.ResponseParseError):
        wire.parse_chat_completion({"object": "list"})
