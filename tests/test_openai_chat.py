"""openai_chat against the loopback server: what goes on the wire, what comes back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.chat import ChatWrapperBase
from tests.openai_server import (
    OpenAIServer,
    chat_chunks,
    chat_completion,
    delay_reply,
    error_reply,
    json_reply,
    raw_reply,
    sse_reply,
)

CALLS = [{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
         {"id": "call_2", "name": "get_time", "arguments": '{"tz": "CET"}'}]


def model(server: OpenAIServer, **extra: Any) -> ChatWrapperBase:
    reg = Registry()
    reg.init({"config_name": "gpt", "model_type": "openai_chat", "model_name": "gpt-4o-mini",
              "api_key": "sk-test-key", "base_url": server.base_url, **extra})
    wrapper = reg.get("gpt")
    assert isinstance(wrapper, ChatWrapperBase)
    return wrapper


def get_weather(city: str) -> str:
    """Weather for a city.

    Args:
        city: The city.
    """
    return "sunny"


def test_text_call_sends_openai_request(openai_server: OpenAIServer) -> None:
    resp = model(openai_server, generate_args={"temperature": 0.5, "seed": 1})(
        "Hi there", temperature=0.1)
    assert resp.text == "echo: Hi there" and resp.finish_reason == "stop"
    assert resp.model == "gpt-4o-mini" and resp.raw["object"] == "chat.completion"
    assert (resp.usage.input_tokens, resp.usage.output_tokens, resp.usage.total_tokens) == (9, 12, 21)
    req = openai_server.last
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test-key"
    assert req.headers["content-type"] == "application/json"
    assert req.json == {"model": "gpt-4o-mini", "temperature": 0.1, "seed": 1,
                        "messages": [{"role": "user", "content": "Hi there"}]}


def test_image_parts_pass_through(openai_server: OpenAIServer) -> None:
    parts = [{"type": "text", "text": "What is this?"},
             {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]
    model(openai_server)([{"role": "user", "content": parts}])
    assert openai_server.last.json["messages"][0]["content"] == parts


def test_tools_from_functions_and_tool_calls_back(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(chat_completion(None, tool_calls=CALLS)))
    resp = model(openai_server)("weather?", tools=[get_weather], tool_choice="auto")
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_time", {"tz": "CET"})]
    assert resp.text is None and resp.finish_reason == "tool_calls"
    body = openai_server.last.json
    assert body["tool_choice"] == "auto"
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["tools"][0]["function"]["parameters"]["required"] == ["city"]


def test_tool_result_round_trip(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(chat_completion(None, tool_calls=CALLS[:1])))
    m = model(openai_server)
    first = m("weather?", tools=[get_weather])
    history = [{"role": "user", "content": "weather?"}, first.as_message(),
               {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]
    m(history, tools=[get_weather])
    sent = openai_server.last.json["messages"]
    assert sent[1]["tool_calls"][0]["function"] == {"name": "get_weather",
                                                    "arguments": '{"city": "Paris"}'}
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}


def test_another_familys_tool_call_data_is_not_sent(openai_server: OpenAIServer) -> None:
    # A history that began on a provider whose tool calls carry data back (Anthropic's
    # thinking blocks, Gemini's thought signatures) goes on OpenAI's fields only.
    from modelhub.response import ModelResponse, ToolCall

    answer = ModelResponse(tool_calls=[ToolCall("call_1", "get_weather", {"city": "Oslo"},
                                                extra={"thinking_blocks": [{"sig": "s"}]})])
    history = [{"role": "user", "content": "weather?"}, answer.as_message(),
               {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]
    assert "extra" in history[1]["tool_calls"][0]
    model(openai_server)(history, tools=[get_weather])
    sent = openai_server.last.json["messages"][1]["tool_calls"][0]
    assert sent == {"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
    assert "extra" in history[1]["tool_calls"][0]  # the caller's list is left as it was


def test_invalid_tool_arguments_raise_parse_error_with_response(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(chat_completion(None, tool_calls=[
        {"id": "c", "name": "f", "arguments": "{not json"}])))
    with pytest.raises(errors.ResponseParseError) as info:
        model(openai_server)("x")
    # The error carries the body that failed, and names the config that asked.
    assert info.value.response["choices"][0]["finish_reason"] == "tool_calls"
    assert info.value.config_name == "gpt" and "tool call 'f'" in str(info.value)


def test_stop_is_sent(openai_server: OpenAIServer) -> None:
    model(openai_server)("x", stop=["\nObservation:", "END"])
    assert openai_server.last.json["stop"] == ["\nObservation:", "END"]
    model(openai_server)("x", stop="END")
    assert openai_server.last.json["stop"] == ["END"]


class City(BaseModel):
    name: str
    population: int


def test_response_format_pydantic_fills_parsed(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(chat_completion('{"name": "Tokyo", "population": 37}')))
    resp = model(openai_server)("largest city?", response_format=City)
    assert resp.parsed == City(name="Tokyo", population=37)
    fmt = openai_server.last.json["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "City"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False


def test_reasoning_kept_out_of_text(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(chat_completion("<think>2+2=4</think>\n\nFour.")))
    resp = model(openai_server)("2+2?")
    assert resp.text == "Four." and resp.reasoning == "2+2=4"
    openai_server.enqueue(json_reply(chat_completion("Four.", reasoning_content="add")))
    resp = model(openai_server)("2+2?")
    assert resp.text == "Four." and resp.reasoning == "add"


@pytest.mark.parametrize("framing", [{}, {"line_ending": "\r\n", "split_bytes": 5},
                                     {"comments": True}])
def test_stream_text_tool_deltas_and_usage(openai_server: OpenAIServer, framing: dict) -> None:
    openai_server.enqueue(sse_reply(chat_chunks(["Checking ", "now."], tool_calls=CALLS),
                                    **framing))
    stream = model(openai_server)("weather?", stream=True, tools=[get_weather])
    assert list(stream) == ["Checking ", "now."]
    assert stream.text == "Checking now." and stream.finish_reason == "tool_calls"
    assert [c.arguments for c in stream.tool_calls] == [{"city": "Paris"}, {"tz": "CET"}]
    assert stream.usage is not None and stream.usage.total_tokens == 21
    body = openai_server.last.json
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert openai_server.last.headers["accept"] == "text/event-stream"


def test_stream_usage_can_be_turned_off(openai_server: OpenAIServer) -> None:
    stream = model(openai_server, stream_usage=False)("a b", stream=True)
    assert "".join(stream) == "echo: a b" and stream.usage is None
    assert "stream_options" not in openai_server.last.json


def test_config_stream_true_streams_by_default(openai_server: OpenAIServer) -> None:
    out = model(openai_server, stream=True)("a b")
    assert "".join(out) == "echo: a b"


def test_stream_with_response_format_parses_at_the_end(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(sse_reply(chat_chunks(['{"name": "Oslo",', ' "population": 1}'])))
    stream = model(openai_server)("x", stream=True, response_format=City)
    stream.consume()
    assert stream.parsed == City(name="Oslo", population=1)


def test_error_inside_200_stream_raises_mapped_error(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(sse_reply([chat_chunks(["par"])[1],
                                     {"error": {"message": "Rate limit reached",
                                                "type": "rate_limit_exceeded"}}], done=False))
    stream = model(openai_server)("x", stream=True)
    with pytest.raises(errors.RateLimitError) as info:
        list(stream)
    assert info.value.status_code == 429 and info.value.partial_text == "par"
    assert stream.partial_text == "par"
    with pytest.raises(RuntimeError, match="broke"):
        _ = stream.text


@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.BadRequestError), (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError), (404, errors.NotFoundError),
    (422, errors.BadRequestError)])
def test_http_errors_map_and_are_not_retried(openai_server: OpenAIServer, status: int,
                                             cls: type) -> None:
    openai_server.enqueue(error_reply(status, f"bad {status}", code="some_code"))
    with pytest.raises(cls) as info:
        model(openai_server, max_retries=3)("x")
    assert info.value.status_code == status and info.value.provider == "openai"
    assert info.value.message == f"bad {status}" and info.value.code == "some_code"
    assert info.value.body["error"]["message"] == f"bad {status}"
    assert len(openai_server.requests) == 1


def test_429_retry_after_then_success(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(error_reply(429, "slow down", "requests", "rate_limit_exceeded",
                                      headers={"retry-after-ms": "20"}),
                          error_reply(503, "overloaded", "server_error"))
    resp = model(openai_server, max_retries=2)("x")
    assert resp.text == "echo: x" and len(openai_server.requests) == 3


def test_429_exhausted_carries_retry_after(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(*[error_reply(429, "slow", headers={"retry-after": "0.01"})] * 2)
    with pytest.raises(errors.RateLimitError) as info:
        model(openai_server, max_retries=1)("x")
    assert info.value.retry_after == 0.01 and len(openai_server.requests) == 2


def test_500_and_html_502_are_server_errors(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(error_reply(500, "boom", "server_error"))
    with pytest.raises(errors.ServerError):
        model(openai_server, max_retries=0)("x")
    openai_server.enqueue(raw_reply(502, b"<html>Bad Gateway</html>", {"content-type": "text/html"}))
    with pytest.raises(errors.ServerError, match="Bad Gateway"):
        model(openai_server, max_retries=0)("x")


def test_stream_open_errors_raise_at_call_time_and_retry(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(error_reply(500, "boom", "server_error"))
    stream = model(openai_server, max_retries=1)("a", stream=True)
    assert "".join(stream) == "echo: a"
    openai_server.enqueue(error_reply(401, "no key", "invalid_request_error"))
    with pytest.raises(errors.AuthenticationError):
        model(openai_server)("a", stream=True)


def test_timeout_and_connection_errors(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(delay_reply(0.5, json_reply(chat_completion("late"))))
    with pytest.raises(errors.ModelTimeoutError):
        model(openai_server, timeout=0.1, max_retries=0)("x")
    reg = Registry()
    reg.init({"config_name": "down", "model_type": "openai_chat",
              "base_url": "http://127.0.0.1:9/v1", "max_retries": 0})
    with pytest.raises(errors.ModelConnectionError):
        reg.get("down")("x")


def test_non_json_answer_is_a_parse_error(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(raw_reply(200, b"<html>hi</html>", {"content-type": "text/html"}))
    with pytest.raises(errors.ResponseParseError):
        model(openai_server)("x")


def test_smolagents_and_agentscope_options(openai_server: OpenAIServer) -> None:
    m = model(openai_server, organization="org-1", project="proj-1",
              custom_role_conversions={"system": "user"}, flatten_messages_as_text=True,
              default_query={"v": "2"}, headers={"X-Trace": "t"})
    m([{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
       {"role": "user", "content": "hi"}])
    req = openai_server.last
    assert req.json["messages"][0] == {"role": "user", "content": "Be brief."}
    assert req.headers["openai-organization"] == "org-1"
    assert req.headers["openai-project"] == "proj-1"
    assert req.query == {"v": "2"} and req.headers["x-trace"] == "t"


def test_client_kwargs_base_url_and_key(openai_server: OpenAIServer) -> None:
    reg = Registry()
    reg.init({"config_name": "s", "model_type": "openai_chat", "model_name": "m",
              "client_kwargs": {"base_url": openai_server.base_url, "api_key": "sk-ck"}})
    assert reg.get("s")("yo").text == "echo: yo"
    assert openai_server.last.headers["authorization"] == "Bearer sk-ck"


def test_a_key_from_the_environment_never_goes_to_another_host(
        openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    reg = Registry()
    reg.init([{"config_name": "e", "model_type": "openai_chat",
               "base_url": openai_server.base_url},
              {"config_name": "named", "model_type": "openai_chat",
               "base_url": openai_server.base_url, "api_key": "${OPENAI_API_KEY}"}])
    reg.get("e")("x")
    assert "authorization" not in openai_server.last.headers
    reg.get("named")("x")  # a config that names its key sends it where it says
    assert openai_server.last.headers["authorization"] == "Bearer sk-from-env"


def test_agent_messages_and_format(openai_server: OpenAIServer) -> None:
    class Msg:
        def __init__(self, name: str, content: str, role: str) -> None:
            self.name, self.content, self.role, self.url = name, content, role, None

    m = model(openai_server)
    m([Msg("sys", "rules", "system"), Msg("alice", "hello", "user")])
    assert openai_server.last.json["messages"] == [
        {"role": "system", "name": "sys", "content": "rules"},
        {"role": "user", "name": "alice", "content": "hello"}]
    with pytest.raises(TypeError):
        m.format(42)


def test_bad_call_arguments_raise_before_any_request(openai_server: OpenAIServer) -> None:
    m = model(openai_server)
    with pytest.raises(TypeError):
        m("x", response_format="json")
    with pytest.raises(ValueError):
        m("x", tools=[get_weather], tool_choice="nope")
    with pytest.raises(TypeError):
        m(12345)
    assert openai_server.requests == []


async def test_async_call_and_stream(openai_server: OpenAIServer) -> None:
    m = model(openai_server)
    resp = await m.acall("async hi")
    assert resp.text == "echo: async hi"
    openai_server.enqueue(sse_reply(chat_chunks(["A", "B"], tool_calls=CALLS[:1])))
    stream = await m.acall("x", stream=True)
    assert [d async for d in stream] == ["A", "B"]
    assert stream.tool_calls[0].arguments == {"city": "Paris"}
    assert stream.usage is not None
    openai_server.enqueue(error_reply(429, "slow", headers={"retry-after": "0"}))
    assert (await m.acall("again")).text == "echo: again"


async def test_async_errors_map(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(error_reply(404, "model not found", code="model_not_found"))
    with pytest.raises(errors.NotFoundError):
        await model(openai_server).acall("x")
    openai_server.enqueue(error_reply(400, "bad", code="x"))
    with pytest.raises(errors.BadRequestError):
        await model(openai_server).acall("x", stream=True)


def test_wrappers_with_the_same_transport_share_one_pool(openai_server: OpenAIServer) -> None:
    a, b = model(openai_server), model(openai_server, timeout=5)
    # Another transport: the loopback server is its own HTTP proxy (it answers the
    # absolute-form request line as it would a plain one).
    c = model(openai_server, proxy=openai_server.url)
    for wrapper in (a, b, c, a, c):
        wrapper("x")
    ports = [r.client_port for r in openai_server.requests]
    assert ports[0] == ports[1] == ports[3]  # a and b: one pool, one kept-alive connection
    assert ports[2] == ports[4] != ports[0]  # c: a pool of its own


def test_a_finished_stream_gives_its_connection_back(openai_server: OpenAIServer) -> None:
    chat = model(openai_server)
    for _ in range(3):
        assert "".join(chat("x", stream=True))
    chat("x")
    assert len({r.client_port for r in openai_server.requests}) == 1


async def test_a_finished_async_stream_gives_its_connection_back(
        openai_server: OpenAIServer) -> None:
    chat = model(openai_server)
    for _ in range(3):
        stream = await chat.acall("x", stream=True)
        assert [d async for d in stream]
    await chat.acall("x")
    assert len({r.client_port for r in openai_server.requests}) == 1


def test_plain_http_endpoints_skip_the_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelhub.http.pool import transport_key

    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.invalid:443")  # not for http:// URLs
    assert transport_key("http://127.0.0.1:8080/v1") == (False, None)
    assert transport_key("https://api.example.invalid/v1") == (True, None)
    assert transport_key("https://api.example.invalid/v1", verify=False) == (False, None)
    # A proxy may be reached over TLS: then the client verifies as configured.
    assert transport_key("http://127.0.0.1/v1", proxy="https://p.invalid") == \
        (True, "https://p.invalid")
    monkeypatch.setenv("ALL_PROXY", "https://proxy.invalid:443")
    assert transport_key("http://127.0.0.1:8080/v1") == (True, None)


def test_json_body_round_trips_unicode(openai_server: OpenAIServer) -> None:
    model(openai_server)("héllo ✓ 日本")
    assert json.loads(openai_server.last.body)["messages"][0]["content"] == "héllo ✓ 日本"
