"""anthropic_chat through the real `anthropic` SDK against the loopback Messages API
server: what goes on the wire, what comes back, and every error path."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.chat import ChatWrapperBase
from tests.anthropic_server import (  # noqa: F401 (fixtures)
    AnthropicServer,
    anthropic_server,
    anthropic_server_session,
    error_event,
    error_reply,
    message,
    redacted_thinking,
    stream_events,
    stream_reply,
    text,
    thinking,
    tool_use,
)
from tests.loopback import delay_reply, json_reply, raw_reply

KEY = "sk-ant-test-0123456789abcdef"
CALLS = [tool_use("toolu_1", "get_weather", {"city": "Paris"}),
         tool_use("toolu_2", "get_time", {"tz": "CET"})]


@pytest.fixture
def server(anthropic_server: AnthropicServer) -> AnthropicServer:  # noqa: F811
    return anthropic_server


def model(server: AnthropicServer, **extra: Any) -> ChatWrapperBase:
    reg = Registry()
    config = {"config_name": "claude", "model_type": "anthropic_chat",
              "model_name": "claude-sonnet-4-5", "api_key": KEY, "base_url": server.url,
              **extra}
    reg.init({k: v for k, v in config.items() if v is not None})
    wrapper = reg.get("claude")
    assert isinstance(wrapper, ChatWrapperBase)
    return wrapper


def get_weather(city: str) -> str:
    """Weather for a city.

    Args:
        city: The city.
    """
    return "sunny"


def get_time(tz: str) -> str:
    """The time in a zone."""
    return "noon"


# -- text, parameters, images -----------------------------------------------------------------
def test_text_call_moves_the_system_prompt_out(server: AnthropicServer) -> None:
    resp = model(server, generate_args={"temperature": 0.5, "top_k": 5})(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}],
        temperature=0.1)
    assert resp.text == "echo: Hi there" and resp.finish_reason == "end_turn"
    assert resp.model == "claude-sonnet-4-5" and type(resp.raw).__name__ == "Message"
    assert resp.usage is not None
    assert (resp.usage.input_tokens, resp.usage.output_tokens, resp.usage.total_tokens) == (25, 15, 40)
    req = server.last
    assert req.path == "/v1/messages" and "anthropic-version" in req.headers
    assert KEY in (req.headers.get("x-api-key", "") + req.headers.get("authorization", ""))
    assert req.json == {"model": "claude-sonnet-4-5", "max_tokens": 2048, "system": "Be brief.",
                        "messages": [{"role": "user", "content": "Hi there"}],
                        "temperature": 0.1, "top_k": 5}


def test_max_tokens_and_unknown_parameters_pass_and_typos_are_caught(
        server: AnthropicServer) -> None:
    m = model(server, generate_args={"max_tokens": 64})
    m("x", metadata={"user_id": "u1"}, thinking={"type": "enabled", "budget_tokens": 32})
    assert server.last.json["max_tokens"] == 64
    assert server.last.json["metadata"] == {"user_id": "u1"}
    assert server.last.json["thinking"] == {"type": "enabled", "budget_tokens": 32}
    with pytest.raises(errors.InvalidArgumentError, match="stop_sequences"):
        m("x", stop_sequence=["a"])
    assert len(server.requests) == 1


def test_images_as_url_and_base64_sources(server: AnthropicServer, tmp_path: Path) -> None:
    png = tmp_path / "dot.png"
    png.write_bytes(b"\x89PNG-dot")
    data = base64.b64encode(b"\x89PNG-dot").decode()
    model(server)([{"role": "user", "content": [
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": "https://img.test/cat.jpg"}},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}]}])
    assert server.last.json["messages"][0]["content"] == [
        {"type": "text", "text": "What are these?"},
        {"type": "image", "source": {"type": "url", "url": "https://img.test/cat.jpg"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}]

    class Msg:
        name, role, content, url = "bob", "user", "and this?", str(png)

    model(server)([Msg()])
    assert server.last.json["messages"][0]["content"][1] == {
        "type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


def test_audio_is_refused_before_any_request(server: AnthropicServer) -> None:
    with pytest.raises(errors.UnsupportedFeatureError, match="audio"):
        model(server)([{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}]}])
    assert server.requests == []


# -- tools --------------------------------------------------------------------------------
def test_tools_choice_and_parallel_calls(server: AnthropicServer) -> None:
    server.enqueue(json_reply(message([text("Checking."), *CALLS])))
    resp = model(server)("weather?", tools=[get_weather, get_time], tool_choice="required")
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("toolu_1", "get_weather", {"city": "Paris"}), ("toolu_2", "get_time", {"tz": "CET"})]
    assert resp.text == "Checking." and resp.finish_reason == "tool_use"
    body = server.last.json
    assert body["tool_choice"] == {"type": "any"}
    assert body["tools"][0] == {
        "name": "get_weather", "description": "Weather for a city.",
        "input_schema": {"type": "object", "required": ["city"],
                         "properties": {"city": {"type": "string", "description": "The city."}}}}
    model(server)("x", tools=[get_weather], tool_choice=get_weather, parallel_tool_calls=False)
    assert server.last.json["tool_choice"] == {"type": "tool", "name": "get_weather",
                                               "disable_parallel_tool_use": True}
    assert "parallel_tool_calls" not in server.last.json
    model(server)("x", tools=[get_weather], tool_choice="none")
    assert server.last.json["tool_choice"] == {"type": "none"}
    model(server)("x", parallel_tool_calls=False)  # no tools: nothing to say about them
    assert "tool_choice" not in server.last.json and "tools" not in server.last.json


def test_tool_results_round_trip_as_tool_result_blocks(server: AnthropicServer) -> None:
    server.enqueue(json_reply(message(CALLS)))
    m = model(server)
    first = m("weather and time?", tools=[get_weather, get_time])
    assert first.text is None
    history = [{"role": "user", "content": "weather and time?"}, first.as_message(),
               {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
               {"role": "tool", "tool_call_id": "toolu_2", "content": "noon"}]
    m(history, tools=[get_weather, get_time])
    sent = server.last.json["messages"]
    assert sent[1] == {"role": "assistant", "content": CALLS}
    assert sent[2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "noon"}]}


def test_thinking_goes_to_reasoning_and_its_blocks_go_back(server: AnthropicServer) -> None:
    server.enqueue(json_reply(message([thinking("Paris, so metric."), redacted_thinking("RD"),
                                       CALLS[0]])))
    m = model(server)
    first = m("weather?", tools=[get_weather], thinking={"type": "enabled", "budget_tokens": 1024})
    assert first.reasoning == "Paris, so metric." and first.text is None
    history = [{"role": "user", "content": "weather?"}, first.as_message(),
               {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"}]
    m(history, tools=[get_weather], thinking={"type": "enabled", "budget_tokens": 1024})
    assert server.last.json["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "Paris, so metric.", "signature": "sig-EqQBCkYIBRgC"},
        {"type": "redacted_thinking", "data": "RD"}, CALLS[0]]


# -- stop, response_format ------------------------------------------------------------------------
def test_stop_is_sent_as_stop_sequences(server: AnthropicServer) -> None:
    server.enqueue(json_reply(message([text("one two")], stop_reason="stop_sequence",
                                      stop_sequence="END")))
    resp = model(server)("count", stop=["END", "\nObservation:"])
    assert server.last.json["stop_sequences"] == ["END", "\nObservation:"]
    assert resp.finish_reason == "stop_sequence" and resp.text == "one two"


class City(BaseModel):
    name: str
    population: int


def test_response_format_uses_structured_outputs(server: AnthropicServer) -> None:
    server.enqueue(json_reply(message([text('{"name": "Tokyo", "population": 37}')])))
    resp = model(server)("largest city?", response_format=City)
    assert resp.parsed == City(name="Tokyo", population=37)
    fmt = server.last.json["output_config"]["format"]
    assert fmt["type"] == "json_schema"
    assert fmt["schema"]["additionalProperties"] is False
    assert fmt["schema"]["required"] == ["name", "population"]
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    server.enqueue(json_reply(message([text('{"a": 1}')])))
    assert model(server)("x", response_format=schema).parsed == {"a": 1}
    assert server.last.json["output_config"] == {"format": {"type": "json_schema",
                                                            "schema": schema}}


def test_json_object_mode_is_a_clear_error(server: AnthropicServer) -> None:
    with pytest.raises(errors.UnsupportedFeatureError, match="JSON schema"):
        model(server)("x", response_format={"type": "json_object"})
    assert server.requests == []


# -- streams ----------------------------------------------------------------------------------
@pytest.mark.parametrize("split", [None, 9])
def test_stream_text_thinking_tools_and_usage(server: AnthropicServer,
                                              split: int | None) -> None:
    content = [thinking("Two cities."), text("Checking now."), *CALLS]
    server.enqueue(stream_reply(stream_events(content, input_tokens=30, output_tokens=42),
                                split_bytes=split))
    stream = model(server)("weather?", stream=True, tools=[get_weather, get_time])
    deltas = list(stream)
    assert "".join(deltas) == "Checking now." and len(deltas) == 3
    assert stream.reasoning == "Two cities." and stream.finish_reason == "tool_use"
    assert [(c.id, c.arguments) for c in stream.tool_calls] == [
        ("toolu_1", {"city": "Paris"}), ("toolu_2", {"tz": "CET"})]
    assert stream.tool_calls[0].extra["thinking_blocks"] == [
        {"type": "thinking", "thinking": "Two cities.", "signature": "sig-EqQBCkYIBRgC"}]
    assert stream.usage is not None  # input at message_start, output at message_delta, once
    assert (stream.usage.input_tokens, stream.usage.output_tokens) == (30, 42)
    assert stream.usage.total_tokens == 72
    assert server.last.json["stream"] is True
    assert stream.raw[0].type == "message_start"


def test_config_stream_true_streams_by_default(server: AnthropicServer) -> None:
    out = model(server, stream=True)("a b")
    assert "".join(out) == "echo: a b"


def test_error_event_inside_200_stream(server: AnthropicServer) -> None:
    events = [*stream_events([text("partial")])[:4], error_event("rate_limit_error", "slow")]
    server.enqueue(stream_reply(events))
    stream = model(server)("x", stream=True)
    with pytest.raises(errors.RateLimitError) as info:
        list(stream)
    assert info.value.status_code == 429 and info.value.partial_text == "par"
    assert info.value.message == "slow" and info.value.config_name == "claude"
    assert info.value.__context__ is None and info.value.__cause__ is None
    server.enqueue(stream_reply([*stream_events([text("x")])[:2], error_event("overloaded_error", "Overloaded")]))
    # Before the first text delta the call itself fails (so it can be retried, or
    # handed to a fallback), not the loop over it.
    with pytest.raises(errors.ServerError) as server_info:
        model(server)("x", stream=True, max_retries=0)
    assert server_info.value.status_code == 529


def test_stream_cut_before_message_stop_is_a_connection_error(server: AnthropicServer) -> None:
    server.enqueue(stream_reply(stream_events([text("abcdef")])[:4]))
    with pytest.raises(errors.ModelConnectionError) as info:
        list(model(server)("x", stream=True))
    assert info.value.partial_text == "ab"


async def test_async_call_and_stream(server: AnthropicServer) -> None:
    m = model(server)
    resp = await m.acall("async hi")
    assert resp.text == "echo: async hi"
    server.enqueue(stream_reply(stream_events([text("AB"), CALLS[0]])))
    stream = await m.acall("x", stream=True, tools=[get_weather])
    assert [d async for d in stream] == ["A", "B"]
    assert stream.tool_calls[0].arguments == {"city": "Paris"}
    assert stream.usage is not None and stream.usage.output_tokens == 15
    server.enqueue(error_reply(429, "slow", headers={"retry-after": "0"}))
    assert (await m.acall("again")).text == "echo: again"
    server.enqueue(error_reply(400, "bad"))
    with pytest.raises(errors.BadRequestError):
        await m.acall("x", stream=True)
    server.enqueue(stream_reply([*stream_events([text("ab")])[:3], error_event("api_error", "boom")]))
    with pytest.raises(errors.ServerError):  # before the first delta: the call fails
        await m.acall("x", stream=True, max_retries=0)


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.BadRequestError), (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError), (404, errors.NotFoundError)])
def test_http_errors_map_and_are_not_retried(server: AnthropicServer, status: int,
                                             cls: type) -> None:
    server.enqueue(error_reply(status, f"bad {status}"))
    with pytest.raises(cls) as info:
        model(server, max_retries=3)("x")
    assert info.value.status_code == status and info.value.provider == "anthropic"
    assert info.value.message == f"bad {status}"
    assert info.value.body["error"]["message"] == f"bad {status}"
    assert info.value.url.endswith("/v1/messages")
    assert info.value.__context__ is None
    assert len(server.requests) == 1


def test_429_retry_after_is_honoured_then_529_then_success(server: AnthropicServer) -> None:
    import time

    server.enqueue(error_reply(429, "slow down", headers={"retry-after": "0.3"}),
                   error_reply(529, "Overloaded", "overloaded_error"))
    started = time.monotonic()
    resp = model(server, max_retries=2)("x")
    assert resp.text == "echo: x" and len(server.requests) == 3
    assert time.monotonic() - started >= 0.3  # waited as the server asked


def test_429_exhausted_carries_retry_after(server: AnthropicServer) -> None:
    server.enqueue(*[error_reply(429, "slow", headers={"retry-after": "0.01"})] * 2)
    with pytest.raises(errors.RateLimitError) as info:
        model(server, max_retries=1)("x")
    assert info.value.retry_after == 0.01 and len(server.requests) == 2
    assert info.value.code == "rate_limit_error"


def test_500_and_html_502_are_server_errors(server: AnthropicServer) -> None:
    server.enqueue(error_reply(500, "boom"))
    with pytest.raises(errors.ServerError, match="boom"):
        model(server, max_retries=0)("x")
    server.enqueue(raw_reply(502, b"<html>Bad Gateway</html>", {"content-type": "text/html"}))
    with pytest.raises(errors.ServerError):
        model(server, max_retries=0)("x")


def test_stream_open_errors_raise_at_call_time_and_retry(server: AnthropicServer) -> None:
    server.enqueue(error_reply(500, "boom"))
    assert "".join(model(server, max_retries=1)("a", stream=True)) == "echo: a"
    server.enqueue(error_reply(401, "invalid x-api-key", "authentication_error"))
    with pytest.raises(errors.AuthenticationError):
        model(server)("a", stream=True)


def test_timeout_and_connection_errors(server: AnthropicServer) -> None:
    server.enqueue(delay_reply(0.5, json_reply(message([text("late")]))))
    with pytest.raises(errors.ModelTimeoutError):
        model(server, timeout=0.1, max_retries=0)("x")
    reg = Registry()
    reg.init({"config_name": "down", "model_type": "anthropic_chat", "api_key": KEY,
              "base_url": "http://127.0.0.1:9", "max_retries": 0})
    with pytest.raises(errors.ModelConnectionError) as info:
        reg.get("down")("x")
    assert info.value.url == "http://127.0.0.1:9/v1/messages"


def test_a_key_echoed_by_the_server_is_redacted(server: AnthropicServer) -> None:
    server.enqueue(error_reply(401, f"invalid x-api-key {KEY}", "authentication_error"))
    with pytest.raises(errors.AuthenticationError) as info:
        model(server)("x")
    shown = str(info.value) + repr(info.value.body) + repr(info.value.__dict__)
    assert KEY not in shown and KEY[:12] not in shown


# -- keys, base URLs, configs -----------------------------------------------------------------
def test_keys_and_addresses_come_only_from_the_config(server: AnthropicServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env-123456")
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "tok-from-env-123456")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # never followed
    monkeypatch.setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Leak: from-env")
    server.enqueue(json_reply(message([text("ok")])))  # the default reply wants a key
    assert model(server, api_key=None)("x").text == "ok"  # a key from the environment stays home
    sent = server.last.headers
    assert "x-api-key" not in sent and "authorization" not in sent and "x-leak" not in sent
    model(server, api_key="${ANTHROPIC_API_KEY}")("x")  # one the config names goes
    assert "sk-ant-from-env-123456" in str(server.last.headers)
    reg = Registry()
    reg.init({"config_name": "home", "model_type": "anthropic_chat"})
    home = reg.get("home")
    assert str(home.client.base_url).rstrip("/") == "https://api.anthropic.com"  # type: ignore[attr-defined]
    assert home.api_key("https://api.anthropic.com") == "sk-ant-from-env-123456"  # type: ignore[attr-defined]


def test_agentscope_config_shapes_load_and_mean_the_same(server: AnthropicServer) -> None:
    root = Path(__file__).resolve().parent.parent
    template = json.loads((root / "configs" / "agentscope" / "anthropic.json").read_text())
    reg = Registry()
    names = reg.init(template)
    assert "anthropic_chat-claude-3-5-sonnet-20241022" in names
    reg = Registry()
    reg.init({"config_name": "as", "model_type": "anthropic_chat", "model_name": "claude-x",
              "api_key": KEY, "stream": True,
              "client_kwargs": {"base_url": server.url, "max_retries": 1, "timeout": 30,
                                "default_headers": {"X-Trace": "t"}}})
    m = reg.get("as")
    assert m.config.max_retries == 1 and m.config.timeout == 30  # type: ignore[attr-defined]
    assert "".join(m("hello")) == "echo: hello"  # stream: true streams
    assert server.last.headers["x-trace"] == "t"


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from modelhub.providers.anthropic.chat import AnthropicChatWrapper

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "anthropic" else real(name, *a))
    check = AnthropicChatWrapper.check_dependencies.__wrapped__  # type: ignore[attr-defined]
    with pytest.raises(errors.MissingDependencyError, match=r"modelhub\[anthropic\]"):
        check(AnthropicChatWrapper)


def test_logs_hold_no_key(server: AnthropicServer, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    m = model(server, headers={"x-trace-token": "tok-secret-0123456789"})
    with caplog.at_level(logging.DEBUG):
        m("hi")
        "".join(m("hi", stream=True))
    assert "/v1/messages" in caplog.text  # the SDK and its HTTP library did log the calls
    assert KEY not in caplog.text and KEY[:10] not in caplog.text
    assert "tok-secret-0123456789" not in caplog.text
    assert KEY not in repr(m) and KEY not in repr(m.config)
