"""hf_inference_chat / hf_inference_generate / hf_inference_embedding: the real
huggingface_hub client against the loopback HF server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.providers.huggingface.client import is_hf_host
from modelhub.registry import Registry
from tests.hf_server import (
    HFServer,
    chat_chunks,
    chat_completion,
    error_reply,
    generate_events,
    generation,
    sse,
)
from tests.loopback import json_reply

CALLS = [{"id": "0", "name": "get_weather", "arguments": '{"city": "Paris"}'},
         {"id": "1", "name": "get_time", "arguments": '{"tz": "CET"}'}]
CANARY = "hf_canaryTOKEN0123456789abcdef"


@pytest.fixture(scope="module")
def server_module() -> Iterator[HFServer]:
    with HFServer() as server:
        yield server


@pytest.fixture
def server(server_module: HFServer, monkeypatch: pytest.MonkeyPatch,
           tmp_path: Any) -> HFServer:
    server_module.reset()
    server_module.token_level = False
    monkeypatch.setenv("HF_TOKEN", CANARY)  # must never reach the loopback server
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    return server_module


def build(server: HFServer, model_type: str = "hf_inference_chat", path: str = "",
          **extra: Any) -> Any:
    reg = Registry()
    reg.init({"config_name": "h", "model_type": model_type, "model_name": "tgi",
              "base_url": server.url + path, "max_retries": 2, **extra})
    return reg.get("h")


def get_weather(city: str) -> str:
    """Weather for a city.

    Args:
        city: The city.
    """
    return "sunny"


# -- chat ----------------------------------------------------------------------------------
def test_chat_text_usage_and_what_is_sent(server: HFServer) -> None:
    resp = build(server, generate_args={"temperature": 0.2})("Hi", top_k=5, max_tokens=9)
    assert resp.text == "echo: Hi" and resp.finish_reason == "stop" and resp.model == "tgi"
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == (10, 4)
    req = server.last
    assert req.path == "/v1/chat/completions"
    assert req.json == {"model": "tgi", "messages": [{"role": "user", "content": "Hi"}],
                        "max_tokens": 9, "stream": False, "temperature": 0.2, "top_k": 5}
    # No key was configured: HF_TOKEN is not sent anywhere but Hugging Face's hosts,
    # and the SDK's user agent (which lists installed packages) is replaced.
    assert "authorization" not in req.headers and CANARY not in str(req.headers)
    assert req.headers["user-agent"].startswith("modelhub/")


def test_a_configured_token_is_sent_and_bill_to_set(server: HFServer) -> None:
    build(server, token="hf_mine", bill_to="my-org")("x")
    assert server.last.headers["authorization"] == "Bearer hf_mine"
    assert server.last.headers["x-hf-bill-to"] == "my-org"


def test_tool_calls_parallel(server: HFServer) -> None:
    server.enqueue(json_reply(chat_completion(None, tool_calls=CALLS)))
    resp = build(server)("weather?", tools=[get_weather], tool_choice="auto")
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("0", "get_weather", {"city": "Paris"}), ("1", "get_time", {"tz": "CET"})]
    assert server.last.json["tools"][0]["function"]["name"] == "get_weather"
    assert server.last.json["tool_choice"] == "auto"


def test_reasoning_and_stop(server: HFServer) -> None:
    server.enqueue(json_reply(chat_completion("Four.", reasoning="2+2")))
    resp = build(server)("2+2?", stop=["\nObservation:"])
    assert resp.text == "Four." and resp.reasoning == "2+2"
    assert server.last.json["stop"] == ["\nObservation:"]


class City(BaseModel):
    name: str
    population: int


def test_response_format_becomes_tgi_grammar(server: HFServer) -> None:
    server.enqueue(json_reply(chat_completion('{"name": "Oslo", "population": 1}')))
    resp = build(server)("x", response_format=City)
    assert resp.parsed == City(name="Oslo", population=1)
    sent = server.last.json["response_format"]
    assert sent["type"] == "json_object" and sent["value"]["required"] == ["name", "population"]


def test_stream_text_tools_reasoning_usage(server: HFServer) -> None:
    server.enqueue(sse(chat_chunks(["Check", "ing."], tool_calls=CALLS, reasoning=["hm"]),
                       done=True))
    stream = build(server)("weather?", stream=True, tools=[get_weather])
    assert list(stream) == ["Check", "ing."]
    assert stream.reasoning == "hm" and stream.finish_reason == "tool_calls"
    assert [c.arguments for c in stream.tool_calls] == [{"city": "Paris"}, {"tz": "CET"}]
    assert stream.usage is not None and stream.usage.input_tokens == 10
    assert server.last.json["stream_options"] == {"include_usage": True}


async def test_async_call_and_stream(server: HFServer) -> None:
    model = build(server)
    assert (await model.acall("a")).text == "echo: a"
    server.enqueue(sse(chat_chunks(["x", "y"], tool_calls=CALLS[:1]), done=True))
    stream = await model.acall("b", stream=True)
    assert [d async for d in stream] == ["x", "y"]
    assert stream.tool_calls[0].name == "get_weather" and stream.usage is not None


async def test_async_streams_close_their_responses_and_share_one_session(
        server: HFServer) -> None:
    """The SDK keeps a client's streamed responses open until the client closes: each
    async stream gets a client of its own, on the loop client's HTTP session, closed when
    the stream ends, is closed early, or fails to open; the loop's client holds none."""
    model = build(server)
    assert (await model.acall("warm")).text == "echo: warm"
    shared = model.aclient()
    session = await shared._get_async_client()
    held = len(shared.exit_stack._exit_callbacks)
    for _ in range(3):
        server.enqueue(sse(chat_chunks(["x", "y"]), done=True))
        stream = await model.acall("b", stream=True)
        assert [d async for d in stream] == ["x", "y"]
    server.enqueue(sse(chat_chunks(["x", "y", "z"]), done=True))
    early = await model.acall("c", stream=True)
    async for _ in early:
        break
    await early.aclose()
    server.enqueue(error_reply(400, "Input validation error: bad", error_type="validation"))
    with pytest.raises(errors.BadRequestError):
        await model.acall("d", stream=True)
    assert len(shared.exit_stack._exit_callbacks) == held
    assert not session.is_closed
    pool = session._transport._pool
    assert sum(1 for c in pool.connections if not c.is_idle()) == 0


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("reply", "cls"), [
    (error_reply(400, "Input validation error: bad", error_type="validation"),
     errors.BadRequestError),
    (error_reply(401, "Invalid credentials in Authorization header", nested=True),
     errors.AuthenticationError),
    (error_reply(404, "Model not found"), errors.NotFoundError)])
def test_http_errors_map_and_are_not_retried(server: HFServer, reply: Any, cls: type) -> None:
    server.enqueue(reply)
    with pytest.raises(cls) as info:
        build(server)("x")
    assert info.value.provider == "huggingface" and info.value.config_name == "h"
    assert info.value.message.startswith(("Input validation", "Invalid credentials", "Model"))
    assert info.value.__context__ is None and len(server.requests) == 1


def test_429_retry_after_honoured_and_503_loading(server: HFServer) -> None:
    server.enqueue(error_reply(429, "Rate limit reached", headers={"retry-after": "0.3"}))
    started = time.monotonic()
    assert build(server)("x").text == "echo: x"
    assert time.monotonic() - started >= 0.3 and len(server.requests) == 2
    server.enqueue(*[error_reply(503, "Model tgi is currently loading",
                                 estimated_time=20.0)] * 3)
    with pytest.raises(errors.ServerError) as info:
        build(server)("x")
    assert info.value.status_code == 503 and "estimated time: 20 s" in info.value.message
    server.enqueue(error_reply(500, "boom"), error_reply(500, "boom"), error_reply(500, "boom"))
    with pytest.raises(errors.ServerError):
        build(server)("x")


def test_error_inside_200_stream(server: HFServer) -> None:
    events: list[Any] = [chat_chunks(["par"])[0],
                         {"error": "Request failed during generation: CUDA OOM",
                          "error_type": "generation"}]
    server.enqueue(sse(events))
    stream = build(server)("x", stream=True)
    with pytest.raises(errors.ServerError) as info:
        list(stream)
    assert info.value.partial_text == "par" and "CUDA OOM" in info.value.message


def test_an_unreachable_server_is_a_connection_error() -> None:
    reg = Registry()
    reg.init({"config_name": "h", "model_type": "hf_inference_chat",
              "base_url": "http://127.0.0.1:9", "max_retries": 0})
    with pytest.raises(errors.ModelConnectionError):
        reg.get("h")("x")


def test_hf_hub_offline_is_said_plainly(server: HFServer,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(errors.ModelConnectionError, match="HF_HUB_OFFLINE"):
        build(server, max_retries=0)("x")


# -- keys and hosts -----------------------------------------------------------------------------
def test_hf_token_goes_only_to_hugging_face_hosts() -> None:
    assert is_hf_host("https://router.huggingface.co/v1")
    assert is_hf_host("https://abc.us-east-1.aws.endpoints.huggingface.cloud")
    assert not is_hf_host("http://router.huggingface.co")  # not over TLS
    assert not is_hf_host("https://huggingface.co.evil.test")
    assert not is_hf_host("https://evilhuggingface.co")


def test_the_key_rule_per_destination(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", CANARY)
    reg = Registry()
    reg.init([
        {"config_name": "router", "model_type": "hf_inference_chat", "model_name": "m"},
        {"config_name": "endpoint", "model_type": "hf_inference_chat",
         "base_url": "https://x.endpoints.huggingface.cloud"},
        {"config_name": "elsewhere", "model_type": "hf_inference_chat",
         "base_url": "https://llm.example.test"},
        {"config_name": "mine", "model_type": "hf_inference_chat",
         "base_url": "https://llm.example.test", "api_key": "sk-mine"}])
    assert reg.get("router").client_args["token"] == CANARY
    assert reg.get("endpoint").client_args["token"] == CANARY
    elsewhere = reg.get("elsewhere").client_args
    assert elsewhere["token"] != CANARY and elsewhere["headers"]["authorization"] is None
    assert reg.get("mine").client_args["token"] == "sk-mine"
    assert CANARY not in repr(reg.get("router")) and CANARY not in str(reg.entry("router").config)


def test_no_hub_lookup_with_base_url(server: HFServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import hf_api

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a Hub lookup")

    monkeypatch.setattr(hf_api.HfApi, "model_info", refuse)
    monkeypatch.setattr(hf_api.HfApi, "_fetch_inference_provider_mapping", refuse,
                        raising=False)
    build(server)("x")
    build(server, "hf_inference_generate")("x")
    build(server, "hf_inference_embedding", "/embed")(["x"])


def test_smolagents_arguments_are_taken() -> None:
    reg = Registry()
    reg.init({"config_name": "s", "model_type": "hf_inference_chat", "model_name": "m",
              "provider": "together", "token": "hf_x", "timeout": 30, "bill_to": "org",
              "client_kwargs": {"headers": {"X-Extra": "1"}},
              "custom_role_conversions": {"tool-response": "user"}})
    cfg = reg.entry("s").config
    assert cfg.api_key.get_secret_value() == "hf_x"  # type: ignore[attr-defined]
    assert cfg.headers == {"X-Extra": "1"} and cfg.provider == "together"  # type: ignore[attr-defined]
    with pytest.raises(errors.ConfigError, match="different values"):
        Registry().init({"config_name": "s", "model_type": "hf_inference_chat",
                         "token": "hf_a", "api_key": "hf_b"})


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from modelhub.providers.huggingface.chat import HFInferenceChatWrapper

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "huggingface_hub" else real(name, *a))
    HFInferenceChatWrapper.check_dependencies.cache_clear()
    try:
        with pytest.raises(errors.MissingDependencyError, match=r"modelhub\[huggingface\]"):
            HFInferenceChatWrapper(config_name="x", base_url="http://127.0.0.1:1")
    finally:
        HFInferenceChatWrapper.check_dependencies.cache_clear()


# -- TGI /generate ----------------------------------------------------------------------------
def test_generate_details_usage_and_prompt(server: HFServer) -> None:
    server.enqueue(json_reply(generation("a b c", prefill=4)))
    model = build(server, "hf_inference_generate")
    resp = model("Once upon", max_new_tokens=3, stop=["\n"])
    assert resp.text == "a b c" and resp.finish_reason == "length"
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == (4, 3)
    assert server.last.path == "/generate"
    assert server.last.json == {"inputs": "Once upon", "parameters": {
        "details": True, "max_new_tokens": 3, "stop": ["\n"]}}
    model([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi",
                                                        "name": "Bob"}])
    assert server.last.json["inputs"] == "Be brief.\n\n## Conversation History\nBob: Hi"


def test_generate_stream_sync_and_async(server: HFServer) -> None:
    server.enqueue(sse(generate_events(["a", "b"], finish="stop_sequence")))
    stream = build(server, "hf_inference_generate")("x", stream=True)
    assert list(stream) == ["a", "b"] and stream.finish_reason == "stop_sequence"
    assert stream.usage is not None and stream.usage.input_tokens == 5
    assert server.last.path == "/generate_stream"

    async def run() -> list[str]:
        astream = await build(server, "hf_inference_generate").acall("x", stream=True)
        return [d async for d in astream]

    import asyncio

    assert "".join(asyncio.run(run())) == "echo x"


def test_generate_grammar_and_what_it_cannot_take(server: HFServer) -> None:
    server.enqueue(json_reply(generation('{"name": "A", "population": 2}')))
    model = build(server, "hf_inference_generate")
    assert model("x", response_format=City).parsed == City(name="A", population=2)
    assert server.last.json["parameters"]["grammar"]["type"] == "json"
    with pytest.raises(errors.InvalidArgumentError, match="presence_penalty"):
        model("x", presence_penalty=1.0)
    with pytest.raises(errors.UnsupportedFeatureError):
        model("x", tools=[get_weather])


def test_generate_stream_error_and_early_end(server: HFServer) -> None:
    server.enqueue(sse([generate_events(["a"])[0],
                        {"error": "Input validation error", "error_type": "validation"}]))
    with pytest.raises(errors.BadRequestError):
        list(build(server, "hf_inference_generate")("x", stream=True))
    server.enqueue(sse(generate_events(["a", "b"])[:2]))
    with pytest.raises(errors.ModelConnectionError) as info:
        list(build(server, "hf_inference_generate", max_retries=0)("x", stream=True))
    assert info.value.partial_text == "ab"


# -- embeddings -------------------------------------------------------------------------------
def test_embeddings_pooled_and_token_level(server: HFServer) -> None:
    model = build(server, "hf_inference_embedding", "/embed")
    assert model(["ab", "abcd"]).embedding == [[2.0, 1.0, 0.5], [4.0, 1.0, 0.5]]
    server.token_level = True
    same = model(["abc", "xyz"]).embedding  # one array: pooled per text
    assert same == [[4.0, 1.0, 0.5], [4.0, 1.0, 0.5]] and len(server.requests) == 2
    ragged = model(["ab", "abcd"]).embedding  # lengths differ: one text per request
    assert ragged == [[2.5, 1.0, 0.5], [5.5, 1.0, 0.5]]
    assert [r.json["inputs"] for r in server.requests[2:]] == [["ab", "abcd"], ["ab"], ["abcd"]]
    with pytest.raises(errors.InvalidArgumentError, match="nomalize"):
        model(["x"], nomalize=True)


async def test_embeddings_async_and_batches(server: HFServer) -> None:
    model = build(server, "hf_inference_embedding", "/embed", batch_size=1,
                  generate_args={"normalize": True})
    resp = await model.acall(["a", "bb"])
    assert resp.embedding == [[1.0, 1.0, 0.5], [2.0, 1.0, 0.5]]
    assert server.last.json == {"inputs": ["bb"], "normalize": True}


# -- images and format() ------------------------------------------------------------------------
def test_images_are_sent_as_image_url_parts(server: HFServer) -> None:
    parts = [{"type": "text", "text": "What is this?"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
             {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]
    build(server)([{"role": "user", "content": parts}])
    assert server.last.json["messages"][0]["content"] == parts


def test_format_in_both_modes_and_with_tool_blocks(server: HFServer) -> None:
    from tests.test_formatting import HISTORY, INPUTS, WITH_TOOLS

    m = build(server)
    assert m.format(*INPUTS) == HISTORY
    assert m.format(*INPUTS, multi_agent_mode=False)[1:] == [
        {"role": "user", "content": "What is the weather today?"},
        {"role": "assistant", "content": "It is sunny today"}]
    m(m.format(*WITH_TOOLS, multi_agent_mode=False))  # tool blocks go out as OpenAI's
    sent = server.last.json["messages"]
    assert [msg["role"] for msg in sent] == ["system", "user", "assistant", "tool"]
    assert sent[2]["tool_calls"][0]["function"]["name"] == "bing_search"
    assert sent[3]["tool_call_id"] == "xxx" and sent[3]["content"] == "It is sunny today"


def test_embedding_errors_map_and_429_is_retried(server: HFServer) -> None:
    model = build(server, "hf_inference_embedding", "/embed")
    server.enqueue(error_reply(401, "Invalid credentials in Authorization header", nested=True))
    with pytest.raises(errors.AuthenticationError):
        model(["ab"])
    server.enqueue(error_reply(400, "Input validation error: too long", error_type="validation"))
    with pytest.raises(errors.BadRequestError, match="too long"):
        model(["ab"])
    assert len(server.requests) == 2  # neither was retried
    server.enqueue(error_reply(429, "Rate limit reached", headers={"retry-after": "0.05"}),
                   error_reply(500, "boom"))
    assert model(["ab"]).embedding == [[2.0, 1.0, 0.5]] and len(server.requests) == 5
