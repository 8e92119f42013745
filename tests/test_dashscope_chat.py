"""dashscope_chat (and its alias tongyi_chat) on the real SDK against the loopback
DashScope server: what goes on the wire, what comes back, errors, keys and hosts."""

from __future__ import annotations

import json
import threading
from typing import Any

import dashscope
import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.chat import ChatWrapperBase
from tests.dashscope_server import (
    GENERATION,
    MULTIMODAL,
    DashScopeServer,
    error_event,
    error_reply,
    generation_answer,
    json_reply,
    sse_reply,
    stream_events,
    usage,
)
from tests.test_openai_chat import get_weather

# the two Generation-like types share their error handling: each is run through it
TYPES = [("dashscope_chat", GENERATION), ("dashscope_multimodal", MULTIMODAL)]
CALLS = [{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
         {"id": "call_2", "name": "get_time", "arguments": '{"tz": "CET"}'}]
KEY = "sk-dashscope-test-key-0123456789"


@pytest.fixture
def server(dashscope_server: DashScopeServer) -> DashScopeServer:
    return dashscope_server  # the session's DashScope server, reset (see conftest)


def model(server: DashScopeServer, **extra: Any) -> ChatWrapperBase:
    reg = Registry()
    config = {"config_name": "qwen", "model_type": "dashscope_chat", "model_name": "qwen-plus",
              "api_key": KEY, "base_url": server.base_url, **extra}
    reg.init(config)
    wrapper = reg.get("qwen")
    assert isinstance(wrapper, ChatWrapperBase)
    return wrapper


def test_text_call_sends_generation_request(server: DashScopeServer) -> None:
    resp = model(server, generate_args={"temperature": 0.5, "enable_search": True})(
        "Hi there", temperature=0.1, seed=7)
    assert resp.text == "echo: Hi there" and resp.finish_reason == "stop"
    assert resp.model == "qwen-plus" and resp.raw["request_id"]
    assert (resp.usage.input_tokens, resp.usage.output_tokens, resp.usage.total_tokens) == (12, 8, 20)
    req = server.last
    assert req.path == "/api/v1" + GENERATION
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.json["model"] == "qwen-plus"
    assert req.json["input"] == {"messages": [{"role": "user", "content": "Hi there"}]}
    params = req.json["parameters"]
    assert params["result_format"] == "message" and params["temperature"] == 0.1
    assert params["seed"] == 7 and params["enable_search"] is True
    assert "stream" not in params and "incremental_output" not in params


def test_alias_tongyi_chat_and_agentscope_stream_flag(server: DashScopeServer) -> None:
    stream = model(server, model_type="tongyi_chat", stream=True)("a b")
    assert "".join(stream) == "echo: a b"
    assert server.last.json["parameters"]["incremental_output"] is True


def test_tools_and_parallel_calls_with_stop_finish_reason(server: DashScopeServer) -> None:
    server.enqueue(json_reply(generation_answer("", tool_calls=CALLS)))
    resp = model(server)("weather?", tools=[get_weather], tool_choice="get_weather")
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_time", {"tz": "CET"})]
    assert resp.text is None and resp.finish_reason == "stop"  # as DashScope reports it
    params = server.last.json["parameters"]
    assert params["tools"][0]["function"]["name"] == "get_weather"
    assert params["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


def test_tool_result_round_trip(server: DashScopeServer) -> None:
    server.enqueue(json_reply(generation_answer("", tool_calls=CALLS[:1])))
    m = model(server)
    first = m("weather?", tools=[get_weather])
    m([{"role": "user", "content": "weather?"}, first.as_message(),
       {"role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": "sunny"}],
      tools=[get_weather])
    sent = server.last.json["input"]["messages"]
    assert sent[1]["content"] == "" and sent[1]["tool_calls"][0]["function"] == {
        "name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "name": "get_weather",
                       "content": "sunny"}


def test_reasoning_content_goes_to_reasoning(server: DashScopeServer) -> None:
    server.enqueue(json_reply(generation_answer("Four.", reasoning="2+2=4")))
    resp = model(server)("2+2?", enable_thinking=True)
    assert resp.text == "Four." and resp.reasoning == "2+2=4"
    assert server.last.json["parameters"]["enable_thinking"] is True


def test_stop_is_sent_natively(server: DashScopeServer) -> None:
    model(server)("x", stop=["\nObservation:", "END"])
    assert server.last.json["parameters"]["stop"] == ["\nObservation:", "END"]


class City(BaseModel):
    name: str
    population: int


def test_response_format_json_mode_and_schema(server: DashScopeServer) -> None:
    server.enqueue(json_reply(generation_answer('{"name": "Tokyo", "population": 37}')))
    resp = model(server)("largest city? answer in json", response_format=City)
    assert resp.parsed == City(name="Tokyo", population=37)
    fmt = server.last.json["parameters"]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "City"
    assert fmt["json_schema"]["schema"]["properties"]["population"]["type"] == "integer"
    server.enqueue(json_reply(generation_answer('{"ok": true}')))
    resp = model(server)("json please", response_format={"type": "json_object"})
    assert resp.parsed == {"ok": True}
    assert server.last.json["parameters"]["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize("framing", [{}, {"compact": True}, {"split_bytes": 5},
                                     {"compact": True, "line_ending": "\r\n"}])
def test_stream_text_tools_reasoning_and_cumulative_usage(server: DashScopeServer,
                                                          framing: dict[str, Any]) -> None:
    events = stream_events(["Checking ", "now."], tool_calls=CALLS, reasoning_pieces=["hm", "m"])
    server.enqueue(sse_reply(events, **framing))
    stream = model(server)("weather?", stream=True, tools=[get_weather])
    assert list(stream) == ["Checking ", "now."]
    assert stream.text == "Checking now." and stream.reasoning == "hmm"
    assert stream.finish_reason == "stop"
    assert [(c.id, c.name, c.arguments) for c in stream.tool_calls] == [
        ("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_time", {"tz": "CET"})]
    # usage is cumulative in every event: the last one, not a sum
    assert stream.usage is not None
    assert (stream.usage.input_tokens, stream.usage.output_tokens) == (12, len(events))
    params = server.last.json["parameters"]
    assert params["incremental_output"] is True
    assert server.last.headers["x-dashscope-sse"] == "enable"


async def test_async_call_and_stream(server: DashScopeServer, dashscope_aio_cleanup: None) -> None:
    m = model(server)
    resp = await m.acall("a b", stream=False)
    assert resp.text == "echo: a b" and resp.usage is not None
    events = stream_events(["x", "y"], tool_calls=CALLS[:1])
    server.enqueue(sse_reply(events, compact=True))
    stream = await m.acall("q", stream=True, tools=[get_weather])
    assert [d async for d in stream] == ["x", "y"]
    assert stream.tool_calls[0].arguments == {"city": "Paris"}
    assert stream.usage is not None and stream.usage.output_tokens == len(events)


def test_error_event_inside_200_stream(server: DashScopeServer) -> None:
    server.enqueue(sse_reply([*stream_events(["par"])[:1],
                              error_event("Throttling.RateQuota", "rate limit exceeded")]))
    stream = model(server)("x", stream=True)
    with pytest.raises(errors.RateLimitError) as info:
        list(stream)
    assert info.value.status_code == 429 and info.value.code == "Throttling.RateQuota"
    assert info.value.partial_text == "par" and stream.partial_text == "par"
    server.enqueue(sse_reply([*stream_events(["a"])[:1],
                              error_event("DataInspectionFailed", "inappropriate content")]))
    with pytest.raises(errors.BadRequestError, match="inappropriate content"):
        list(model(server)("x", stream=True))


async def test_async_error_event_inside_200_stream(server: DashScopeServer,
                                                   dashscope_aio_cleanup: None) -> None:
    server.enqueue(sse_reply([*stream_events(["a"])[:1],
                              error_event("InternalError", "oops", 500)]))
    stream = await model(server, max_retries=0).acall("x", stream=True)
    with pytest.raises(errors.ServerError) as info:
        _ = [d async for d in stream]
    assert info.value.partial_text == "a"


def test_stream_cut_before_its_last_event_is_an_error(server: DashScopeServer) -> None:
    server.enqueue(sse_reply(stream_events(["a", "b"])[:-1]))
    with pytest.raises(errors.ModelConnectionError) as info:
        list(model(server)("x", stream=True))
    assert info.value.partial_text == "ab"


@pytest.mark.parametrize(("status", "code", "cls"), [
    (400, "InvalidParameter", errors.BadRequestError),
    (401, "InvalidApiKey", errors.AuthenticationError),
    (403, "AccessDenied.Unpurchased", errors.PermissionDeniedError),
    (404, "ModelNotFound", errors.NotFoundError)])
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("model_type", "path"), TYPES)
def test_http_errors_map_and_are_not_retried(server: DashScopeServer, status: int, code: str,
                                             cls: type, stream: bool, model_type: str,
                                             path: str) -> None:
    server.enqueue(error_reply(status, code, f"bad {status}"))
    with pytest.raises(cls) as info:
        out = model(server, max_retries=3, model_type=model_type)("x", stream=stream)
        list(out)  # type: ignore[arg-type]
    err = info.value
    assert err.status_code == status and err.code == code and err.provider == "dashscope"
    assert err.message == f"bad {status}" and err.body["request_id"]
    assert err.config_name == "qwen" and err.url == server.base_url + path
    assert len(server.requests) == 1


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(("model_type", "path"), TYPES)
def test_429_retry_after_and_500_are_retried(server: DashScopeServer, stream: bool,
                                             model_type: str, path: str) -> None:
    server.enqueue(error_reply(429, "Throttling.RateQuota", "slow down",
                               headers={"Retry-After": "0.05"}),
                   error_reply(500, "InternalError", "oops"))
    out = model(server, max_retries=2, model_type=model_type)("x", stream=stream)
    text = "".join(out) if stream else out.text  # type: ignore[arg-type, union-attr]
    assert text == "echo: x"
    assert len(server.requests) == 3 and server.last.path == "/api/v1" + path


@pytest.mark.parametrize(("model_type", "path"), TYPES)
def test_429_carries_retry_after(server: DashScopeServer, model_type: str, path: str) -> None:
    server.enqueue(error_reply(429, "Throttling", "slow down", headers={"Retry-After": "7"}))
    with pytest.raises(errors.RateLimitError) as info:
        model(server, max_retries=0, model_type=model_type)("x")
    assert info.value.retry_after == 7.0 and info.value.url == server.base_url + path


async def test_async_http_error(server: DashScopeServer, dashscope_aio_cleanup: None) -> None:
    server.enqueue(error_reply(401, "InvalidApiKey", "Invalid API-key provided."))
    with pytest.raises(errors.AuthenticationError):
        await model(server).acall("x")


def test_timeout_and_refused_connection() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reg = Registry()
    reg.init({"config_name": "down", "model_type": "dashscope_chat", "model_name": "qwen-plus",
              "api_key": KEY, "base_url": f"http://127.0.0.1:{port}/api/v1", "max_retries": 0})
    with pytest.raises(errors.ModelConnectionError) as info:
        reg.get("down")("x")
    assert KEY not in str(info.value) and info.value.__cause__ is None


def test_slow_server_times_out(server: DashScopeServer) -> None:
    from tests.loopback import delay_reply

    server.enqueue(delay_reply(2, json_reply(generation_answer())))
    with pytest.raises(errors.ModelTimeoutError):
        model(server, timeout=0.3, max_retries=0)("x")


def test_generation_arguments_cannot_redirect_the_call(server: DashScopeServer) -> None:
    m = model(server)
    for bad in ({"base_address": "http://evil.test/api/v1"}, {"api_key": "other"},
                {"headers": {"x": "y"}}):
        with pytest.raises(TypeError, match="the config sets it"):
            m("x", **bad)
    with pytest.raises(ValueError, match="incremental_output"):
        m("x", stream=True, incremental_output=False)
    with pytest.raises(ValueError, match="result_format"):
        m("x", result_format="text")
    with pytest.raises(errors.InvalidArgumentError, match="temperature"):
        m("x", temprature=0.2)
    assert server.requests == []


def test_images_are_refused_before_any_request(server: DashScopeServer) -> None:
    m = model(server)
    with pytest.raises(errors.UnsupportedFeatureError, match=r"'image' content"):
        m([{"role": "user", "content": [{"text": "what?"}, {"image": "https://x/cat.png"}]}])
    with pytest.raises(errors.UnsupportedFeatureError):
        m([{"role": "user", "content": [{"type": "image_url",
                                          "image_url": {"url": "https://x/c.png"}}]}])
    assert server.requests == []


def test_two_configs_with_different_hosts_and_keys_side_by_side() -> None:
    with DashScopeServer() as one, DashScopeServer() as two:
        reg = Registry()
        reg.init([{"config_name": "a", "model_type": "dashscope_chat", "model_name": "qwen-plus",
                   "api_key": "key-aaaaaaaa", "base_url": one.base_url},
                  {"config_name": "b", "model_type": "dashscope_chat", "model_name": "qwen-max",
                   "api_key": "key-bbbbbbbb", "base_url": two.base_url}])
        a, b = reg.get("a"), reg.get("b")
        failures: list[BaseException] = []

        def work(m: Any, n: int) -> None:
            try:
                for i in range(n):
                    assert m(f"t{i}").text == f"echo: t{i}"
                    assert "".join(m(f"s{i}", stream=True)) == f"echo: s{i}"
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)

        threads = [threading.Thread(target=work, args=(m, 5)) for m in (a, b, a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures
        assert {r.headers["authorization"] for r in one.requests} == {"Bearer key-aaaaaaaa"}
        assert {r.headers["authorization"] for r in two.requests} == {"Bearer key-bbbbbbbb"}
        assert {r.json["model"] for r in two.requests} == {"qwen-max"}
    # the SDK's module-wide settings were never touched
    assert dashscope.base_http_api_url.startswith("https://")


def test_env_key_goes_only_to_dashscope_hosts(server: DashScopeServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-from-env-123456")
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "http://127.0.0.2:1/api/v1")
    m = model(server, api_key=None)
    m("x")
    assert server.last.headers["authorization"] == "Bearer "  # no key to a foreign host
    reg = Registry()
    reg.init({"config_name": "own", "model_type": "dashscope_chat", "model_name": "qwen-plus"})
    own = reg.get("own")
    assert own.base_address == "https://dashscope.aliyuncs.com/api/v1"  # type: ignore[attr-defined]
    assert own._key == "sk-from-env-123456"  # type: ignore[attr-defined]
    intl = Registry()
    intl.init({"config_name": "i", "model_type": "dashscope_chat",
               "base_url": "https://dashscope-intl.aliyuncs.com/api/v1"})
    assert intl.get("i")._key == "sk-from-env-123456"  # type: ignore[attr-defined]
    for address in ("http://dashscope.aliyuncs.com/api/v1",
                    "https://dashscope.aliyuncs.com:8443/api/v1"):  # not its scheme or port
        other = Registry()
        other.init({"config_name": "o", "model_type": "dashscope_chat", "base_url": address})
        assert other.get("o")._key == ""  # type: ignore[attr-defined]


def test_key_is_redacted_from_errors(server: DashScopeServer) -> None:
    server.enqueue(error_reply(400, "InvalidParameter", f"bad key {KEY} given"))
    with pytest.raises(errors.BadRequestError) as info:
        model(server)("x")
    assert KEY not in str(info.value) and KEY not in json.dumps(info.value.body)
    assert KEY not in repr(model(server)) and KEY not in repr(model(server).config)


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from modelhub.providers.dashscope.chat import DashScopeChatWrapper

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "dashscope" else real(name, *a))
    DashScopeChatWrapper.check_dependencies.cache_clear()
    try:
        with pytest.raises(errors.MissingDependencyError, match=r"modelhub\[dashscope\]"):
            DashScopeChatWrapper(config_name="q", model_name="qwen-plus")
    finally:
        DashScopeChatWrapper.check_dependencies.cache_clear()


def test_usage_details_kept(server: DashScopeServer) -> None:
    server.enqueue(json_reply(generation_answer(
        "ok", usage_=usage(5, 3, output_tokens_details={"reasoning_tokens": 2},
                           prompt_tokens_details={"cached_tokens": 1}))))
    resp = model(server)("x")
    assert resp.usage is not None and resp.usage.total_tokens == 8
    assert resp.usage.details["output_tokens_details"] == {"reasoning_tokens": 2}


@pytest.mark.parametrize("stream", [False, True])
async def test_proxy_and_unverified_tls_sessions(server: DashScopeServer, stream: bool,
                                                 dashscope_aio_cleanup: None) -> None:
    # The loopback server serves as the HTTP proxy: requests reach it by absolute URI
    # for a host nobody resolves, so only a proxied call can succeed.
    m = model(server, base_url="http://dashscope.proxied.test/api/v1", proxy=server.url,
              verify_ssl=False)
    sync_out = m("via proxy", stream=stream)
    assert ("".join(sync_out) if stream else sync_out.text) == "echo: via proxy"  # type: ignore[arg-type, union-attr]
    assert server.last.headers["host"] == "dashscope.proxied.test"
    async_out = await m.acall("async proxy", stream=stream)
    text = "".join([d async for d in async_out]) if stream else async_out.text  # type: ignore[union-attr]
    assert text == "echo: async proxy"
    assert server.last.headers["host"] == "dashscope.proxied.test"
    assert server.last.headers["authorization"] == f"Bearer {KEY}"


def test_no_key_anywhere_is_an_authentication_error_before_any_request(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import dashscope.common.api_key as sdk_keys

    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    monkeypatch.setattr(dashscope, "api_key", None)
    monkeypatch.setattr(dashscope, "api_key_file_path", None)
    monkeypatch.setattr(sdk_keys, "DEFAULT_DASHSCOPE_API_KEY_FILE_PATH", tmp_path / "none")
    reg = Registry()
    reg.init({"config_name": "own", "model_type": "dashscope_chat", "model_name": "qwen-plus",
              "max_retries": 0})
    with pytest.raises(errors.AuthenticationError, match="DASHSCOPE_API_KEY"):
        reg.get("own")("x")  # the netguard would refuse a request to DashScope's host
