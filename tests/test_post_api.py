"""post_api_chat / post_api_embedding / post_api_dall_e against the loopback POST server:
what goes on the wire, how answers are read by path, and every error."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.base import ModelWrapperBase
from modelhub.wrappers.chat import ChatWrapperBase
from tests.loopback import ndjson_reply, raw_reply
from tests.postapi_server import (
    PostAPIServer,
    agentscope_chat,
    chunk,
    embeddings,
    error_reply,
    images,
    json_reply,
    sse,
)

ROOT = Path(__file__).resolve().parent.parent
CALLS = [{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
         {"id": "call_2", "name": "get_time", "arguments": '{"tz": "CET"}'}]
KEY = "sk-post-canary-0123456789"


@pytest.fixture(scope="module")
def server_module() -> Iterator[PostAPIServer]:
    with PostAPIServer() as server:
        yield server


@pytest.fixture
def server(server_module: PostAPIServer) -> PostAPIServer:
    server_module.reset()
    return server_module


def build(server: PostAPIServer, model_type: str = "post_api_chat", path: str = "/llm/",
          **extra: Any) -> Any:
    reg = Registry()
    reg.init({"config_name": "p", "model_type": model_type, "api_url": server.url + path,
              **extra})
    return reg.get("p")


def chat(server: PostAPIServer, **extra: Any) -> ChatWrapperBase:
    wrapper = build(server, **extra)
    assert isinstance(wrapper, ChatWrapperBase)
    return wrapper


def get_weather(city: str) -> str:
    """Weather for a city.

    Args:
        city: The city.
    """
    return "sunny"


# -- AgentScope's configs ---------------------------------------------------------------
def test_agentscope_post_config_shapes_load_and_mean_the_same() -> None:
    reg = Registry()
    names = reg.init(ROOT / "configs" / "agentscope" / "post_api.json")
    assert len(names) == 6
    flask = reg.entry("post_api_chat-flask_llama2-7b-chat-hf").config
    assert flask.base_url == "http://127.0.0.1:8000/llm/"  # type: ignore[attr-defined]
    assert flask.json_args == {"max_length": 4096, "temperature": 0.5}  # type: ignore[attr-defined]
    old = reg.entry("post_api_v004_style").config
    assert old.model_type == "post_api" and old.messages_key == "inputs"  # type: ignore[attr-defined]
    assert old.default_query["version"] == "2" and old.retry_interval == 2  # type: ignore[attr-defined]
    img = reg.entry("post_api_img_syn_config").config
    assert img.messages_key == "prompt"  # type: ignore[attr-defined]
    assert reg.wrapper_class("post_api_dalle_config") is \
        reg.wrapper_class("post_api_img_syn_config")  # the old spelling, post_api_dalle
    # The Authorization header is a secret from load on.
    assert "YOUR_API_TOKEN" not in repr(img) and "YOUR_API_TOKEN" not in str(img.model_dump())
    wrapper = reg.get("post_api_v004_style")
    assert wrapper._retry.base_delay == 2 and wrapper._retry.max_retries == 3


def test_an_unknown_model_type_is_an_error_not_the_post_wrapper() -> None:
    with pytest.raises(errors.UnknownModelTypeError):
        Registry().init({"config_name": "x", "model_type": "my_own_llm",
                         "api_url": "http://127.0.0.1:1/x"})


def test_a_post_config_needs_its_url_and_valid_post_args() -> None:
    with pytest.raises(errors.ConfigError, match="api_url"):
        Registry().init({"config_name": "x", "model_type": "post_api_chat"})
    with pytest.raises(errors.ConfigError, match="cookies"):
        Registry().init({"config_name": "x", "model_type": "post_api_chat",
                         "api_url": "http://127.0.0.1:1/x", "post_args": {"cookies": {}}})
    with pytest.raises(errors.ConfigError, match="response path"):
        Registry().init({"config_name": "x", "model_type": "post_api_chat",
                         "api_url": "http://127.0.0.1:1/x", "response_path": "a..b"})


# -- chat ---------------------------------------------------------------------------------
def test_chat_sends_agentscope_body_to_the_exact_url(server: PostAPIServer) -> None:
    model = chat(server, json_args={"temperature": 0.5, "max_length": 4096},
                 generate_args={"seed": 1},
                 headers={"Authorization": f"Bearer {KEY}", "content-type": "application/json"},
                 post_args={"params": {"v": "2"}, "headers": {"X-Team": "a"}})
    resp = model("Hi there", temperature=0.1)
    assert resp.text == "echo: Hi there" and resp.finish_reason == "stop"
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == (7, 5)  # type: ignore[union-attr]
    assert resp.model == "llama2" and resp.raw["data"]["response"]["object"] == "chat.completion"
    req = server.last
    assert req.path == "/llm/" and req.query == {"v": "2"}
    assert req.json == {"messages": [{"role": "user", "content": "Hi there"}],
                        "temperature": 0.1, "max_length": 4096, "seed": 1}
    assert req.headers["authorization"] == f"Bearer {KEY}" and req.headers["x-team"] == "a"
    assert req.headers["content-type"] == "application/json"


def test_messages_key_and_a_custom_shape_with_usage(server: PostAPIServer) -> None:
    model = chat(server, path="/custom", messages_key="inputs", response_path="result.text",
                 usage_path="meta.tokens")
    resp = model([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "x"}])
    assert resp.text == "echo: x" and resp.usage is not None and resp.usage.total_tokens == 6
    assert resp.tool_calls == [] and resp.finish_reason is None
    assert list(server.last.json) == ["inputs"]


def test_tool_calls_parallel_and_tools_sent(server: PostAPIServer) -> None:
    server.enqueue(json_reply(agentscope_chat(None, tool_calls=CALLS, finish="tool_calls")))
    resp = chat(server)("weather?", tools=[get_weather], tool_choice="auto")
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_time", {"tz": "CET"})]
    assert resp.text is None and resp.finish_reason == "tool_calls"
    body = server.last.json
    assert body["tools"][0]["function"]["name"] == "get_weather" and body["tool_choice"] == "auto"


def test_tool_calls_at_a_path_of_their_own(server: PostAPIServer) -> None:
    server.enqueue(json_reply({"out": {"calls": [{"id": "a", "type": "function", "function": {
        "name": "f", "arguments": '{"x": 1}'}}]}}))
    resp = chat(server, path="/custom", response_path="out.text",
                tool_calls_path="out.calls")("x", tools=[get_weather])
    assert resp.text is None and resp.tool_calls[0].arguments == {"x": 1}


def test_reasoning_kept_out_of_text(server: PostAPIServer) -> None:
    server.enqueue(json_reply(agentscope_chat("Four.", reasoning="2+2")))
    resp = chat(server)("2+2?")
    assert resp.text == "Four." and resp.reasoning == "2+2"
    server.enqueue(json_reply(agentscope_chat("<think>add</think>Four.")))
    resp = chat(server)("2+2?")
    assert resp.text == "Four." and resp.reasoning == "add"


def test_stop_is_trimmed_and_sent_under_stop_key(server: PostAPIServer) -> None:
    server.enqueue(json_reply(agentscope_chat("Thought: x\nObservation: y")))
    resp = chat(server)("x", stop=["\nObservation:"])
    assert resp.text == "Thought: x" and "stop" not in server.last.json
    server.enqueue(json_reply(agentscope_chat("a END b")))
    assert chat(server, stop_key="stop_sequences")("x", stop="END").text == "a "
    assert server.last.json["stop_sequences"] == ["END"]


class City(BaseModel):
    name: str
    population: int


def test_response_format_sent_and_parsed(server: PostAPIServer) -> None:
    server.enqueue(json_reply(agentscope_chat('{"name": "Tokyo", "population": 37}')))
    resp = chat(server)("largest city?", response_format=City)
    assert resp.parsed == City(name="Tokyo", population=37)
    assert server.last.json["response_format"]["json_schema"]["name"] == "City"


def test_images_travel_as_openai_parts(server: PostAPIServer) -> None:
    parts = [{"type": "text", "text": "What is this?"},
             {"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]
    chat(server)([{"role": "user", "content": parts}])
    assert server.last.json["messages"][0]["content"] == parts


# -- streams ------------------------------------------------------------------------------
def stream_events() -> list[Any]:
    frags = [{"index": 0, "id": "call_1", "type": "function",
              "function": {"name": "get_weather", "arguments": '{"ci'}},
             {"index": 1, "id": "call_2", "type": "function",
              "function": {"name": "get_time", "arguments": '{"tz": "CET"}'}},
             {"index": 0, "function": {"arguments": 'ty": "Paris"}'}}]
    return [chunk("Check"), chunk("ing."), chunk(tool_calls=frags[:2]),
            chunk(tool_calls=frags[2:], finish="tool_calls"),
            chunk(usage={"prompt_tokens": 7, "completion_tokens": 9, "total_tokens": 16})]


def test_stream_sse_text_tools_and_usage(server: PostAPIServer) -> None:
    server.enqueue(sse(stream_events()))
    stream = chat(server)("weather?", stream=True, tools=[get_weather])
    assert list(stream) == ["Check", "ing."]
    assert stream.finish_reason == "tool_calls" and stream.usage.total_tokens == 16  # type: ignore[union-attr]
    assert [c.arguments for c in stream.tool_calls] == [{"city": "Paris"}, {"tz": "CET"}]
    assert server.last.json["stream"] is True
    assert server.last.headers["accept"] == "text/event-stream"


def test_stream_raw_is_every_event_as_it_came_decoded_on_first_read(
        server: PostAPIServer) -> None:
    from modelhub.wrappers.raw_events import BuiltOnRead

    events = stream_events()
    events[0]["x_extra"] = {"kept": [1, 2.5, None]}
    server.enqueue(sse(events))
    stream = chat(server)("weather?", stream=True)
    assert "".join(stream) == "Checking."
    raw = stream.raw
    assert isinstance(raw, BuiltOnRead) and not raw.built  # kept as text until read
    assert raw == events and list(raw) == events and len(raw) == len(events)
    assert raw.built and raw[0]["x_extra"] == {"kept": [1, 2.5, None]}
    assert raw[-1:] == events[-1:]
    assert stream.response.raw is raw


def test_ndjson_stream_raw_is_its_lines_decoded(server: PostAPIServer) -> None:
    lines = [{"delta": {"text": "a"}}, {"delta": {"text": "é"}}, {"done": True}]
    server.enqueue(ndjson_reply(lines))
    model = chat(server, path="/custom", response_path="result.text",
                 stream_delta_path="delta.text", stream_framing="ndjson", stream_end=None)
    stream = model("x", stream=True)
    assert "".join(stream) == "aé" and stream.raw == lines


async def test_stream_async_and_config_stream_default(server: PostAPIServer) -> None:
    server.enqueue(sse(stream_events()))
    stream = await chat(server, stream=True).acall("weather?")
    assert [d async for d in stream] == ["Check", "ing."]
    assert stream.tool_calls[1].name == "get_time"
    resp = await chat(server).acall("a b")
    assert resp.text == "echo: a b"


def test_stream_custom_delta_path_ndjson_without_terminator(server: PostAPIServer) -> None:
    server.enqueue(ndjson_reply([{"delta": {"text": "a"}}, {"delta": {"text": "b"}},
                                 {"meta": {"tokens": {"prompt_tokens": 1,
                                                      "completion_tokens": 2}}}]))
    model = chat(server, path="/custom", response_path="result.text", usage_path="meta.tokens",
                 stream_delta_path="delta.text", stream_framing="ndjson", stream_end=None)
    stream = model("x", stream=True)
    assert "".join(stream) == "ab" and stream.usage.output_tokens == 2  # type: ignore[union-attr]


def test_stream_that_ends_early_is_an_error(server: PostAPIServer) -> None:
    server.enqueue(sse([chunk("par")], done=False))
    with pytest.raises(errors.ModelConnectionError) as info:
        list(chat(server, max_retries=0)("x", stream=True))
    assert info.value.partial_text == "par"


def test_error_inside_200_stream(server: PostAPIServer) -> None:
    server.enqueue(sse([chunk("par"), {"error": {"message": "Rate limit reached",
                                                 "type": "rate_limit_exceeded"}}], done=False))
    stream = chat(server)("x", stream=True)
    with pytest.raises(errors.RateLimitError) as info:
        list(stream)
    assert info.value.status_code == 429 and info.value.partial_text == "par"


def test_stream_needs_a_delta_path_before_any_request(server: PostAPIServer) -> None:
    with pytest.raises(errors.UnsupportedFeatureError, match="stream_delta_path"):
        chat(server, path="/custom", response_path="result.text")("x", stream=True)
    assert server.requests == []


# -- reading answers ----------------------------------------------------------------------
def test_a_path_that_does_not_match_names_it_and_shows_the_shape(server: PostAPIServer) -> None:
    server.enqueue(json_reply({"data": {"result": "the secret text", KEY: 1, "n": [1, 2]}}))
    with pytest.raises(errors.ResponseParseError) as info:
        chat(server, headers={"x-api-key": KEY}, max_retries=0)("x")
    message = str(info.value)
    assert "'data.response.choices.0.message.content'" in message
    assert "at 'data' there is no key 'response'" in message
    assert '"result": "<string of 15>"' in message and '"n": ["<number>", "... 1 more"]' in message
    assert "the secret text" not in message and KEY not in message and KEY[:12] not in message
    assert info.value.config_name == "p" and info.value.url.endswith("/llm/")  # type: ignore[union-attr]


def test_text_that_is_not_text_is_a_parse_error(server: PostAPIServer) -> None:
    server.enqueue(json_reply({"result": {"text": {"nested": 1}}}))
    with pytest.raises(errors.ResponseParseError, match="leads to a dict"):
        chat(server, path="/custom", response_path="result.text")("x")


def test_an_error_object_in_a_200_answer_is_raised_as_its_error(server: PostAPIServer) -> None:
    server.enqueue(json_reply({"data": {"response": {"error": {
        "message": "bad prompt", "code": "invalid_request_error"}}}}))
    with pytest.raises(errors.BadRequestError, match="bad prompt"):
        chat(server)("x")


# -- errors and retries -------------------------------------------------------------------
@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.BadRequestError), (401, errors.AuthenticationError),
    (404, errors.NotFoundError), (422, errors.BadRequestError)])
def test_http_errors_map_and_are_not_retried(server: PostAPIServer, status: int,
                                             cls: type) -> None:
    server.enqueue(error_reply(status, f"bad {status} {KEY}"))
    with pytest.raises(cls) as info:
        chat(server, max_retries=3, headers={"x-api-key": KEY})("x")
    assert info.value.status_code == status and info.value.provider == "post_api"
    assert KEY not in str(info.value) and KEY not in json.dumps(info.value.body)
    assert len(server.requests) == 1


def test_429_retry_after_is_honoured_then_success(server: PostAPIServer) -> None:
    server.enqueue(error_reply(429, "slow down", headers={"retry-after": "0.3"}))
    started = time.monotonic()
    resp = chat(server, max_retries=1, retry_interval=0)("x")
    assert resp.text == "echo: x" and len(server.requests) == 2
    assert time.monotonic() - started >= 0.3


def test_500_is_retried_with_retry_interval_as_backoff(server: PostAPIServer) -> None:
    server.enqueue(error_reply(500, "boom"), raw_reply(502, b"<html><title>Bad gateway</title>",
                                                       {"content-type": "text/html"}))
    started = time.monotonic()
    assert chat(server, max_retries=2, retry_interval=0)("x").text == "echo: x"
    assert time.monotonic() - started < 0.5 and len(server.requests) == 3
    server.enqueue(*[error_reply(500, "boom")] * 3)
    with pytest.raises(errors.ServerError) as info:
        chat(server, max_retries=2, retry_interval=0)("x")
    assert info.value.status_code == 500 and info.value.message == "boom"


def test_missing_httpx_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from modelhub.providers.post_api.chat import PostAPIChatWrapper

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "httpx" else real(name, *a))
    PostAPIChatWrapper.check_dependencies.cache_clear()
    try:
        with pytest.raises(errors.MissingDependencyError, match=r"modelhub\[post_api\]"):
            PostAPIChatWrapper(config_name="x", api_url="http://127.0.0.1:1/x")
    finally:
        PostAPIChatWrapper.check_dependencies.cache_clear()


# -- format --------------------------------------------------------------------------------
class Msg:
    def __init__(self, name: str, role: str, content: Any) -> None:
        self.name, self.role, self.content = name, role, content


def test_format_as_agentscope_post_wrapper() -> None:
    msgs = [Msg("system", "system", "You are a bot."), Msg("Bob", "user", "Hi"),
            Msg("bot", "assistant", "Hello")]
    common: ModelWrapperBase = chat_offline()
    assert common.format(*msgs) == [
        {"role": "system", "content": "You are a bot."},
        {"role": "user", "content": "## Conversation History\nBob: Hi\nbot: Hello"}]
    # AgentScope's common chat layout: role and content, no speaker name
    assert common.format(*msgs, multi_agent_mode=False)[1] == {"role": "user", "content": "Hi"}
    gpt = chat_offline(json_args={"model": "gpt-4o"})
    assert gpt.format(*msgs)[1] == {"role": "user", "name": "Bob",
                                    "content": [{"type": "text", "text": "Hi"}]}
    gemini = chat_offline(json_args={"model_name": "gemini-1.5-pro"})
    assert gemini.format(*msgs) == [{"role": "user", "parts": [
        "You are a bot.\n\n## Conversation History\nBob: Hi\nbot: Hello"]}]
    assert gemini.format(*msgs, multi_agent_mode=False)[2] == {"role": "model",
                                                               "parts": "Hello"}
    with pytest.raises(ValueError, match="text only"):
        gemini.format(Msg("Bob", "user", [{"type": "image", "url": "https://x/a.png"}]))
    with pytest.raises(TypeError):
        common.format(42)


def chat_offline(**extra: Any) -> ChatWrapperBase:
    reg = Registry()
    reg.init({"config_name": "f", "model_type": "post_api_chat",
              "api_url": "http://127.0.0.1:1/llm", **extra})
    wrapper = reg.get("f")
    assert isinstance(wrapper, ChatWrapperBase)
    return wrapper


# -- embeddings and images ------------------------------------------------------------------
def test_embeddings_batches_in_order_with_usage(server: PostAPIServer) -> None:
    model = build(server, "post_api_embedding", "/embed", messages_key="input",
                  json_args={"model": "m", "encoding_format": "float"}, batch_size=2)
    resp = model(["a", "bbb", "cc"])
    assert resp.embedding == [[1.0, 1.0, 0.5], [3.0, 1.0, 0.5], [2.0, 1.0, 0.5]]
    assert resp.usage is not None and resp.usage.total_tokens == 9
    assert server.requests[0].json == {"input": ["a", "bbb"], "model": "m",
                                       "encoding_format": "float"}


def test_embedding_one_text_as_a_string_and_token_level_pooled(server: PostAPIServer) -> None:
    model = build(server, "post_api_embedding", "/embed", messages_key="input", batch_size=1)
    server.enqueue(json_reply(embeddings([[[1.0, 2.0], [3.0, 4.0]]])))
    assert model("hello").embedding == [[2.0, 3.0]]
    assert server.last.json == {"input": "hello"}
    custom = build(server, "post_api_embedding", "/embed", response_path="vectors")
    server.enqueue(json_reply({"vectors": [[0.5, 0.5], [1.0, 0.0]]}))
    assert custom(["a", "b"]).embedding == [[0.5, 0.5], [1.0, 0.0]]
    server.enqueue(json_reply({"vectors": [[0.5, 0.5]]}))
    with pytest.raises(errors.ResponseParseError, match="expected 2 embeddings"):
        custom(["a", "b"])


async def test_embedding_async_and_missing_path(server: PostAPIServer) -> None:
    model = build(server, "post_api_embedding", "/embed", messages_key="input")
    assert (await model.acall(["ab"])).embedding == [[2.0, 1.0, 0.5]]
    server.enqueue(json_reply({"object": "list", "items": []}))
    with pytest.raises(errors.ResponseParseError, match=r"data\.\*\.embedding"):
        await model.acall(["ab"])


def test_images_read_as_agentscope_does(server: PostAPIServer) -> None:
    model = build(server, "post_api_dalle", "/draw", messages_key="prompt",
                  json_args={"n": 2, "size": "512x512"})
    resp = model("a red bicycle")
    assert resp.image_urls == ["https://img.test/0.png", "https://img.test/1.png"]
    assert server.last.json == {"prompt": "a red bicycle", "n": 2, "size": "512x512"}
    server.enqueue(json_reply({"data": {"response": {"error": {
        "message": "Your request was rejected", "code": "content_policy_violation"}}}}))
    with pytest.raises(errors.ModelAPIError, match="rejected"):
        model("x")
    server.enqueue(json_reply(images([])))
    with pytest.raises(errors.ResponseParseError, match="no image"):
        model("x")


@pytest.mark.parametrize(("model_type", "path"), [("post_api_embedding", "/embed"),
                                                  ("post_api_dall_e", "/images")])
def test_embedding_and_image_errors_map_and_429_is_retried(server: PostAPIServer,
                                                           model_type: str, path: str) -> None:
    model = build(server, model_type, path, retry_interval=0.01)
    for status, cls in ((401, errors.AuthenticationError), (400, errors.BadRequestError)):
        server.enqueue(error_reply(status, f"refused {status}"))
        with pytest.raises(cls, match=f"refused {status}"):
            model(["ab"] if model_type == "post_api_embedding" else "a cat")
    assert len(server.requests) == 2  # neither was retried
    server.enqueue(error_reply(429, "slow down", {"Retry-After": "7"}))
    with pytest.raises(errors.RateLimitError) as info:
        build(server, model_type, path, max_retries=0)(
            ["ab"] if model_type == "post_api_embedding" else "a cat")
    assert info.value.retry_after == 7.0
