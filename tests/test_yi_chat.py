"""yi_chat: the `yi` row of the OpenAI-compatible profiles with AgentScope's Yi wrapper
arguments (its template loads unchanged and sends what AgentScope sent), against the
loopback OpenAI-protocol server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modelhub import errors
from modelhub.providers.openai.yi import YiChatWrapper
from modelhub.registry import Registry
from tests.openai_server import OpenAIServer, chat_chunks, sse_reply

# examples/model_configs_template/yi_chat_template.json of AgentScope v0.1.6
TEMPLATE = [{"config_name": "yi_yi-large", "model_type": "yi_chat", "model_name": "yi-large",
             "api_key": "{your_api_key}", "temperature": 0.3, "top_p": 0.9,
             "max_tokens": 1000}]


def yi(server: OpenAIServer | None = None, **extra: Any) -> YiChatWrapper:
    reg = Registry()
    config = {"config_name": "yi", "model_type": "yi_chat", "model_name": "yi-large",
              "api_key": "yi-key-0123456789", "max_retries": 0, **extra}
    if server is not None:
        config["base_url"] = server.base_url
    reg.init(config)
    wrapper = reg.get("yi")
    assert isinstance(wrapper, YiChatWrapper)
    return wrapper


def test_the_agentscope_template_loads_and_sends_its_arguments(
        tmp_path: Path, openai_server: OpenAIServer) -> None:
    f = tmp_path / "yi.json"
    f.write_text(json.dumps(TEMPLATE))
    reg = Registry()
    assert reg.init(str(f)) == ["yi_yi-large"]
    cfg = reg.get("yi_yi-large").config
    assert (cfg.temperature, cfg.top_p, cfg.max_tokens) == (0.3, 0.9, 1000)
    yi(openai_server, max_tokens=1000)("hi")
    body = openai_server.last.json
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.3, 0.9, 1000)
    assert openai_server.last.headers["authorization"] == "Bearer yi-key-0123456789"


def test_agentscopes_defaults_are_sent_and_can_be_overridden(
        openai_server: OpenAIServer) -> None:
    yi(openai_server)("hi")
    body = openai_server.last.json
    assert (body["temperature"], body["top_p"]) == (0.3, 0.9) and "max_tokens" not in body
    yi(openai_server, generate_args={"temperature": 1.2})("hi", top_p=0.5)
    body = openai_server.last.json
    assert (body["temperature"], body["top_p"]) == (1.2, 0.5)


def test_stream_from_the_config(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(sse_reply(chat_chunks(["零", "一"], model="yi-large")))
    stream = yi(openai_server, stream=True)("hi")
    assert "".join(stream) == "零一" and stream.usage is not None


def test_agentscopes_ranges_and_conflicts_are_config_errors() -> None:
    for bad in ({"temperature": 2.5}, {"top_p": 1.5},
                {"temperature": 0.5, "generate_args": {"temperature": 0.7}}):
        with pytest.raises(errors.ConfigError):
            yi(**bad)


def test_where_the_key_goes(monkeypatch: pytest.MonkeyPatch,
                            openai_server: OpenAIServer) -> None:
    monkeypatch.setenv("YI_API_KEY", "yi-env-key-0123456789")
    reg = Registry()
    reg.init([{"config_name": "a", "model_type": "yi_chat", "model_name": "yi-large"},
              {"config_name": "b", "model_type": "yi_chat", "model_name": "yi-large",
               "base_url": openai_server.base_url}])
    a = reg.get("a")
    assert a.endpoint.base_url == "https://api.lingyiwanwu.com/v1"  # AgentScope's address
    assert a.endpoint._headers["Authorization"] == "Bearer yi-env-key-0123456789"
    reg.get("b")("hi")  # base_url elsewhere: the variable's key is not sent there
    assert "authorization" not in openai_server.last.headers


@dataclass
class Msg:
    name: str
    content: Any
    role: str


def test_format_as_agentscopes_yi_wrapper() -> None:
    inputs = [Msg("system", "You're a helpful assistant", "system"),
              Msg("Bob", "Hi, how can I help you?", "assistant"),
              Msg("user", "What's the date today?", "user")]
    m = yi()
    assert m.format(*inputs) == [
        {"role": "system", "content": "You're a helpful assistant"},
        {"role": "user", "content": "## Conversation History\nBob: Hi, how can I help you?\n"
                                    "user: What's the date today?"}]
    assert m.format(*inputs, multi_agent_mode=False) == [
        {"role": "system", "content": "You're a helpful assistant"},
        {"role": "assistant", "content": "Hi, how can I help you?"},
        {"role": "user", "content": "What's the date today?"}]


CALLS = [{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
         {"id": "call_2", "name": "get_time", "arguments": '{"tz": "CET"}'}]


async def test_tools_streams_async_and_errors_on_the_openai_layer(
        openai_server: OpenAIServer) -> None:
    from tests.loopback import json_reply
    from tests.openai_server import chat_completion, error_reply
    from tests.test_litellm_chat import get_time, get_weather

    openai_server.enqueue(json_reply(chat_completion(None, model="yi-large", tool_calls=CALLS,
                                                     finish_reason="tool_calls")))
    resp = yi(openai_server)("weather?", tools=[get_weather, get_time])
    assert [c.arguments for c in resp.tool_calls] == [{"city": "Paris"}, {"tz": "CET"}]
    assert resp.finish_reason == "tool_calls"
    openai_server.enqueue(sse_reply(chat_chunks([], model="yi-large", tool_calls=CALLS,
                                                finish_reason="tool_calls")))
    stream = await yi(openai_server).acall("weather?", stream=True, tools=[get_weather])
    assert [d async for d in stream] == [] and len(stream.tool_calls) == 2
    openai_server.enqueue(error_reply(401, "Invalid API key"))
    with pytest.raises(errors.AuthenticationError):
        yi(openai_server)("hi")
    openai_server.enqueue(error_reply(429, "slow down", "rate_limit_exceeded",
                                      headers={"retry-after": "7"}))
    with pytest.raises(errors.RateLimitError) as info:
        yi(openai_server)("hi")
    assert info.value.retry_after == 7.0
