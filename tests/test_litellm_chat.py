"""litellm_chat through the real `litellm`, down both of its paths: `openai/...` to the
loopback OpenAI server, and `anthropic/...` to the loopback Anthropic server."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.chat import ChatWrapperBase
from tests import anthropic_server as anth
from tests.anthropic_server import (  # noqa: F401 (fixtures)
    AnthropicServer,
    anthropic_server,
    anthropic_server_session,
)
from tests.loopback import json_reply
from tests.openai_server import (
    OpenAIServer,
    chat_chunks,
    chat_completion,
    error_reply,
    sse_reply,
)

KEY = "sk-litellm-test-0123456789"
CALLS = [{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
         {"id": "call_2", "name": "get_time", "arguments": '{"tz": "CET"}'}]


@pytest.fixture
def claude_server(anthropic_server: AnthropicServer) -> AnthropicServer:  # noqa: F811
    return anthropic_server


def model(base_url: str | None, name: str = "openai/gpt-4o-mini", **extra: Any
          ) -> ChatWrapperBase:
    reg = Registry()
    config = {"config_name": "ll", "model_type": "litellm_chat", "model_name": name,
              "api_key": KEY, "api_base": base_url, **extra}
    reg.init({k: v for k, v in config.items() if v is not None})
    wrapper = reg.get("ll")
    assert isinstance(wrapper, ChatWrapperBase)
    return wrapper


def claude(server: AnthropicServer, **extra: Any) -> ChatWrapperBase:
    return model(server.url, "anthropic/claude-sonnet-4-5", **extra)


def get_weather(city: str) -> str:
    """Weather for a city."""
    return "sunny"


def get_time(tz: str) -> str:
    """The time in a zone."""
    return "noon"


# -- the openai/ path -------------------------------------------------------------------------
def test_openai_path_text_parameters_and_usage(openai_server: OpenAIServer) -> None:
    resp = model(openai_server.base_url, generate_args={"temperature": 0.5, "seed": 3})(
        "Hi there", temperature=0.1)
    assert resp.text == "echo: Hi there" and resp.finish_reason == "stop"
    assert resp.usage is not None and (resp.usage.input_tokens, resp.usage.output_tokens) == (9, 12)
    assert type(resp.raw).__name__ == "ModelResponse"
    req = openai_server.last
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.json["temperature"] == 0.1 and req.json["seed"] == 3
    assert req.json["messages"] == [{"role": "user", "content": "Hi there"}]
    assert len(openai_server.requests) == 1


def test_openai_path_tools_stop_and_reasoning(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(chat_completion(None, tool_calls=CALLS,
                                                     reasoning_content="two lookups")))
    resp = model(openai_server.base_url)("weather?", tools=[get_weather, get_time],
                                         tool_choice="auto", stop=["END"])
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_time", {"tz": "CET"})]
    assert resp.reasoning == "two lookups" and resp.finish_reason == "tool_calls"
    body = openai_server.last.json
    assert body["stop"] == ["END"] and body["tool_choice"] == "auto"
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather", "get_time"]


class City(BaseModel):
    name: str
    population: int


def test_openai_path_response_format(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(chat_completion('{"name": "Oslo", "population": 1}')))
    resp = model(openai_server.base_url)("x", response_format=City)
    assert resp.parsed == City(name="Oslo", population=1)
    fmt = openai_server.last.json["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "City"


def test_openai_path_stream_with_tool_deltas_and_usage(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(sse_reply(chat_chunks(["Checking ", "now."], tool_calls=CALLS)))
    stream = model(openai_server.base_url)("weather?", stream=True, tools=[get_weather])
    assert "".join(stream) == "Checking now."
    assert [c.arguments for c in stream.tool_calls] == [{"city": "Paris"}, {"tz": "CET"}]
    assert stream.finish_reason == "tool_calls"
    assert stream.usage is not None and stream.usage.total_tokens == 21
    assert openai_server.last.json["stream_options"] == {"include_usage": True}


async def test_openai_path_async_call_and_stream(openai_server: OpenAIServer) -> None:
    m = model(openai_server.base_url)
    assert (await m.acall("async hi")).text == "echo: async hi"
    openai_server.enqueue(sse_reply(chat_chunks(["A", "B"], tool_calls=CALLS[:1])))
    stream = await m.acall("x", stream=True)
    assert [d async for d in stream] == ["A", "B"]
    assert stream.tool_calls[0].arguments == {"city": "Paris"}


# -- the anthropic/ path ------------------------------------------------------------------------
def test_anthropic_path_text_tools_and_thinking(claude_server: AnthropicServer) -> None:
    resp = claude(claude_server)([{"role": "system", "content": "Be brief."},
                                  {"role": "user", "content": "hello"}])
    assert resp.text == "echo: hello" and resp.usage is not None
    assert resp.usage.input_tokens == 25
    req = claude_server.last
    assert req.path == "/v1/messages" and req.headers["x-api-key"] == KEY
    assert "anthropic-version" in req.headers and req.json["system"]
    claude_server.enqueue(json_reply(anth.message([
        anth.thinking("Paris: metric."), anth.tool_use("toolu_1", "get_weather",
                                                       {"city": "Paris"})])))
    m = claude(claude_server)
    first = m("weather?", tools=[get_weather])
    assert first.reasoning == "Paris: metric." and first.tool_calls[0].name == "get_weather"
    assert first.tool_calls[0].arguments == {"city": "Paris"}
    m([{"role": "user", "content": "weather?"}, first.as_message(),
       {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "sunny"}],
      tools=[get_weather])
    sent = claude_server.last.json["messages"]
    assert sent[1]["content"][0] == {"type": "thinking", "thinking": "Paris: metric.",
                                     "signature": "sig-EqQBCkYIBRgC"}
    assert sent[2]["content"][0]["type"] == "tool_result"


def test_anthropic_path_stream(claude_server: AnthropicServer) -> None:
    content = [anth.text("Checking."), anth.tool_use("toolu_1", "get_weather", {"city": "Oslo"}),
               anth.tool_use("toolu_2", "get_time", {"tz": "CET"})]
    claude_server.enqueue(anth.stream_reply(anth.stream_events(content, input_tokens=30,
                                                               output_tokens=42)))
    stream = claude(claude_server)("weather?", stream=True, tools=[get_weather, get_time])
    assert "".join(stream) == "Checking."
    assert [(c.name, c.arguments) for c in stream.tool_calls] == [
        ("get_weather", {"city": "Oslo"}), ("get_time", {"tz": "CET"})]
    assert stream.usage is not None
    assert (stream.usage.input_tokens, stream.usage.output_tokens) == (30, 42)


def test_anthropic_path_error_inside_200_stream(claude_server: AnthropicServer) -> None:
    events = anth.stream_events([anth.text("partial")])[:4]
    claude_server.enqueue(anth.stream_reply([*events, anth.error_event("overloaded_error",
                                                                       "Overloaded")]))
    with pytest.raises(errors.ModelAPIError) as info:
        list(claude(claude_server, max_retries=0)("x", stream=True))
    assert isinstance(info.value, errors.ServerError)
    assert "Overloaded" in info.value.message and info.value.partial_text == "par"


def test_anthropic_path_429_retry_after_is_ours(claude_server: AnthropicServer) -> None:
    claude_server.enqueue(anth.error_reply(429, "slow down", headers={"retry-after": "0.3"}))
    started = time.monotonic()
    assert claude(claude_server, max_retries=1)("x").text == "echo: x"
    assert len(claude_server.requests) == 2  # one retry, ours: litellm's are off
    assert time.monotonic() - started >= 0.3


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.BadRequestError), (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError), (404, errors.NotFoundError)])
def test_http_errors_map_and_are_not_retried(openai_server: OpenAIServer, status: int,
                                             cls: type) -> None:
    openai_server.enqueue(error_reply(status, f"bad {status}", code="some_code"))
    with pytest.raises(cls) as info:
        model(openai_server.base_url, max_retries=3)("x")
    assert info.value.status_code == status and info.value.provider == "litellm"
    assert f"bad {status}" in info.value.message and info.value.config_name == "ll"
    assert info.value.__context__ is None
    assert len(openai_server.requests) == 1


def test_429_exhausted_carries_retry_after_and_500_is_a_server_error(
        openai_server: OpenAIServer, claude_server: AnthropicServer) -> None:
    openai_server.enqueue(*[error_reply(429, "slow", headers={"retry-after": "0.01"})] * 2)
    with pytest.raises(errors.RateLimitError) as info:
        model(openai_server.base_url, max_retries=1)("x")
    assert info.value.retry_after == 0.01 and len(openai_server.requests) == 2
    openai_server.enqueue(error_reply(500, "boom", "server_error"))
    with pytest.raises(errors.ServerError):
        model(openai_server.base_url, max_retries=0)("x")
    claude_server.enqueue(anth.error_reply(401, "invalid x-api-key", "authentication_error"))
    with pytest.raises(errors.AuthenticationError) as auth:
        claude(claude_server)("x")
    assert auth.value.message == "invalid x-api-key" and auth.value.code == "authentication_error"


def test_openai_path_error_inside_200_stream(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(sse_reply([chat_chunks(["par"])[1],
                                     {"error": {"message": "Rate limit reached",
                                                "type": "rate_limit_exceeded"}}], done=False))
    with pytest.raises(errors.ModelAPIError) as info:
        list(model(openai_server.base_url, max_retries=0)("x", stream=True))
    assert "Rate limit reached" in info.value.message


def test_timeout_and_connection_errors(openai_server: OpenAIServer) -> None:
    from tests.loopback import delay_reply

    openai_server.enqueue(delay_reply(1.0, json_reply(chat_completion("late"))))
    with pytest.raises(errors.ModelTimeoutError):
        model(openai_server.base_url, timeout=0.2, max_retries=0)("x")
    with pytest.raises(errors.ModelConnectionError):
        model("http://127.0.0.1:9/v1", max_retries=0)("x")


# -- keys, options, configs --------------------------------------------------------------------
def test_keys_and_addresses(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-0123456789")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    model(openai_server.base_url, api_key=None)("x")  # an env key never goes to base_url
    assert "sk-from-env" not in str(openai_server.last.headers)
    home = model(None, api_key=None)
    args = home.arguments(home.build_request("x"))  # type: ignore[attr-defined]
    assert args["api_base"] == "https://api.openai.com/v1" and "api_key" not in args
    assert args["num_retries"] == 0 and args["max_retries"] == 0
    claude_home = model(None, "anthropic/claude-3-opus-20240229", api_key=None)
    assert claude_home.arguments(  # type: ignore[attr-defined]
        claude_home.build_request("x"))["api_base"] == "https://api.anthropic.com"


def test_role_conversions_and_flattening(openai_server: OpenAIServer) -> None:
    parts = [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
             {"role": "user", "content": "hi"}]
    model(openai_server.base_url, custom_role_conversions={"system": "user"},
          flatten_messages_as_text=True)(parts)
    assert openai_server.last.json["messages"][0] == {"role": "user", "content": "Be brief."}
    assert model(None, "ollama/llama3")._flatten is True  # type: ignore[attr-defined]
    assert model(None, "groq/llama-3.1-8b")._flatten is True  # type: ignore[attr-defined]
    assert model(None, "openai/gpt-4o")._flatten is False  # type: ignore[attr-defined]
    assert model(None, "ollama/llama3",  # type: ignore[attr-defined]
                 flatten_messages_as_text=False)._flatten is False


def test_litellm_is_imported_quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import logging
    import os
    import sys

    from modelhub.providers.litellm.chat import _import_litellm

    # A stand-in litellm that records what its import saw and does what the real one
    # does to the httpx logger.
    fake = tmp_path / "litellm"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "import logging, os\n"
        "cost_map_env = os.environ.get('LITELLM_LOCAL_MODEL_COST_MAP')\n"
        "telemetry, suppress_debug_info = True, False\n"
        "logging.getLogger('httpx').setLevel(logging.WARNING)\n")
    monkeypatch.delitem(sys.modules, "litellm")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("LITELLM_LOCAL_MODEL_COST_MAP", raising=False)
    httpx_logger = logging.getLogger("httpx")
    monkeypatch.setattr(httpx_logger, "level", logging.INFO)
    module = _import_litellm(fetch_cost_map=False)
    assert module.cost_map_env == "True"  # set before the import: no fetch
    assert module.telemetry is False and module.suppress_debug_info is True
    assert httpx_logger.level == logging.INFO  # the user's level, as it was
    monkeypatch.delitem(sys.modules, "litellm")
    monkeypatch.delenv("LITELLM_LOCAL_MODEL_COST_MAP")
    assert _import_litellm(fetch_cost_map=True).cost_map_env is None
    assert "LITELLM_LOCAL_MODEL_COST_MAP" not in os.environ


def test_no_callback_is_added(openai_server: OpenAIServer) -> None:
    import litellm

    model(openai_server.base_url)("x")
    assert litellm.callbacks == [] and litellm.success_callback == []
    assert litellm.telemetry is False


def test_agentscope_config_shapes_load(openai_server: OpenAIServer) -> None:
    root = Path(__file__).resolve().parent.parent
    reg = Registry()
    names = reg.init(json.loads((root / "configs" / "agentscope" / "litellm.json").read_text()))
    assert "lite_llm_claude3" in names
    reg = Registry()
    reg.init({"config_name": "as", "model_type": "litellm_chat", "stream": True,
              "model_name": "openai/gpt-4o-mini", "api_base": openai_server.base_url,
              "api_key": KEY, "generate_args": {"temperature": 0}})
    assert "".join(reg.get("as")("a b")) == "echo: a b"
    assert openai_server.last.json["temperature"] == 0


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from modelhub.providers.litellm.chat import LiteLLMChatWrapper

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "litellm" else real(name, *a))
    check = LiteLLMChatWrapper.check_dependencies.__wrapped__  # type: ignore[attr-defined]
    with pytest.raises(errors.MissingDependencyError, match=r"modelhub\[litellm\]"):
        check(LiteLLMChatWrapper)


def test_logs_and_errors_hold_no_key(openai_server: OpenAIServer,
                                     caplog: pytest.LogCaptureFixture) -> None:
    import logging

    m = model(openai_server.base_url)
    with caplog.at_level(logging.DEBUG):
        m("hi")
    assert "/chat/completions" in caplog.text  # the HTTP library did log the call
    assert KEY not in caplog.text and KEY[:12] not in caplog.text
    openai_server.enqueue(error_reply(401, f"Incorrect API key provided: {KEY}"))
    with pytest.raises(errors.AuthenticationError) as info:
        m("x")
    shown = str(info.value) + repr(info.value.body) + repr(info.value.__dict__)
    assert KEY not in shown and KEY[:12] not in shown


# -- images and format() ------------------------------------------------------------------------
IMAGE_PARTS = [{"type": "text", "text": "What is this?"},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]


def test_images_go_out_on_both_paths(openai_server: OpenAIServer,
                                     claude_server: AnthropicServer) -> None:
    model(openai_server.base_url)([{"role": "user", "content": IMAGE_PARTS}])
    assert openai_server.last.json["messages"][0]["content"] == IMAGE_PARTS
    claude(claude_server)([{"role": "user", "content": IMAGE_PARTS}])
    blocks = claude_server.last.json["messages"][0]["content"]
    assert {"type": "text", "text": "What is this?"} in blocks
    image = next(b for b in blocks if b["type"] == "image")
    assert image["source"] == {"type": "base64", "media_type": "image/png",
                               "data": "iVBORw0KGgo="}


def test_format_as_agentscopes_litellm_wrapper(openai_server: OpenAIServer) -> None:
    from tests.test_formatting import HISTORY, INPUTS, WITH_TOOLS

    m = model(openai_server.base_url)
    # AgentScope v0.1.6's LiteLLMChatWrapper.format: CommonFormatter in both modes
    assert m.format(*INPUTS) == HISTORY
    assert m.format(*INPUTS, multi_agent_mode=False) == [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "What is the weather today?"},
        {"role": "assistant", "content": "It is sunny today"}]
    out = m.format(*WITH_TOOLS, multi_agent_mode=False)
    assert out[2]["tool_calls"][0]["function"] == {"name": "bing_search",
                                                   "arguments": '{"query": "Beijing weather"}'}
    assert out[3] == {"role": "tool", "tool_call_id": "xxx", "content": "It is sunny today"}
    m(out)  # what format() made is what a call sends
    assert openai_server.last.json["messages"][3]["tool_call_id"] == "xxx"
