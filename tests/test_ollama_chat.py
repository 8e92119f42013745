"""ollama_chat against the loopback Ollama server, through the real `ollama` client:
what goes on the wire, what comes back."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.chat import ChatWrapperBase
from tests.loopback import ndjson_reply
from tests.ollama_server import (  # noqa: F401  (fixtures)
    OllamaServer,
    chat_answer,
    chat_chunks,
    delay_reply,
    error_reply,
    json_reply,
    raw_reply,
    server_fixture,
    server_session_fixture,
    stream_reply,
)

CALLS = [{"id": "call_a", "name": "get_weather", "arguments": {"city": "Paris"}},
         {"id": "call_b", "name": "get_time", "arguments": {"tz": "CET"}}]


def model(server: OllamaServer, **extra: Any) -> ChatWrapperBase:
    reg = Registry()
    reg.init({"config_name": "llama", "model_type": "ollama_chat", "model_name": "llama3.2",
              "base_url": server.url, "max_retries": 0, **extra})
    wrapper = reg.get("llama")
    assert isinstance(wrapper, ChatWrapperBase)
    return wrapper


class Place(BaseModel):
    city: str
    country: str | None = None


def get_weather(city: str, unit: str = "c") -> str:
    """Weather for a city.

    Args:
        city: The city.
    """
    return "sunny"


def find(place: Place, days: int | None = None) -> str:
    """Find a place."""
    return ""


# -- text ------------------------------------------------------------------------------------
def test_text_call_sends_ollama_request(ollama_server: OllamaServer) -> None:
    m = model(ollama_server, options={"temperature": 0.7, "num_ctx": 8192}, keep_alive="5m",
              generate_args={"seed": 1, "temperature": 0.5})
    resp = m("Hi there", temperature=0.1)
    assert resp.text == "echo: Hi there" and resp.finish_reason == "stop"
    assert resp.model == "llama3.2" and resp.raw["done"] is True
    assert (resp.usage.input_tokens, resp.usage.output_tokens, resp.usage.total_tokens) == \
        (26, 298, 324)
    req = ollama_server.last
    assert (req.method, req.path) == ("POST", "/api/chat")
    assert "authorization" not in req.headers
    assert req.json == {"model": "llama3.2",
                        "messages": [{"role": "user", "content": "Hi there"}],
                        "keep_alive": "5m", "stream": False,
                        "options": {"temperature": 0.1, "num_ctx": 8192, "seed": 1}}


def test_arguments_sorted_into_fields_and_options(ollama_server: OllamaServer) -> None:
    m = model(ollama_server, options={"num_ctx": 4096})
    m("x", options={"top_k": 5, "num_ctx": 2048}, keep_alive=0, max_tokens=64, min_p=0.05,
      think=False, my_new_option=3)
    body = ollama_server.last.json
    assert body["keep_alive"] == 0 and body["think"] is False
    assert body["options"] == {"num_ctx": 2048, "top_k": 5, "num_predict": 64,
                               "min_p": 0.05, "my_new_option": 3}


def test_agentscope_host_without_scheme(ollama_server: OllamaServer) -> None:
    port = ollama_server.url.rsplit(":", 1)[1]
    m = model(ollama_server, base_url=None, host=f"127.0.0.1:{port}")
    assert m.config.base_url == ollama_server.url  # type: ignore[attr-defined]
    assert m("hi").text == "echo: hi"


def test_misspelled_argument_is_caught_before_sending(ollama_server: OllamaServer) -> None:
    with pytest.raises(errors.InvalidArgumentError, match="'temperature'"):
        model(ollama_server)("x", temprature=0.2)
    with pytest.raises(errors.ConfigError, match="'num_ctx'"):
        model(ollama_server, options={"num_cxt": 8192})
    assert not ollama_server.requests


def test_per_call_model_overrides(ollama_server: OllamaServer) -> None:
    assert model(ollama_server)("x", model="qwen3").model == "qwen3"


# -- reasoning -------------------------------------------------------------------------------
def test_thinking_goes_to_reasoning(ollama_server: OllamaServer) -> None:
    resp = model(ollama_server)("why?", think=True)
    assert resp.reasoning == "Thinking it over." and resp.text == "echo: why?"
    assert ollama_server.last.json["think"] is True


def test_think_tags_in_content_go_to_reasoning(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(json_reply(chat_answer("<think>2+2</think>\n\n4")))
    resp = model(ollama_server)("2+2?")
    assert (resp.text, resp.reasoning) == ("4", "2+2")


# -- tools -----------------------------------------------------------------------------------
def test_tools_sent_whole_and_parallel_calls_back(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(json_reply(chat_answer("", tool_calls=CALLS)))
    resp = model(ollama_server)("weather?", tools=[get_weather, find], tool_choice="auto")
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("call_a", "get_weather", {"city": "Paris"}), ("call_b", "get_time", {"tz": "CET"})]
    assert resp.text is None and resp.finish_reason == "stop"  # as Ollama reports it
    tools = ollama_server.last.json["tools"]
    assert tools[0] == {"type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city.",
        "parameters": {"type": "object", "required": ["city"], "properties": {
            "city": {"type": "string", "description": "The city."},
            "unit": {"type": "string", "default": "c"}}}}}
    # nothing of the schema is trimmed (the client's public chat() would drop these)
    params = tools[1]["function"]["parameters"]
    assert params["properties"]["days"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert params["$defs"]["Place"]["properties"]["city"] == {"type": "string"}


def test_tool_calls_without_ids_get_ours(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(json_reply(chat_answer("", tool_calls=CALLS, with_ids=False)))
    resp = model(ollama_server)("x", tools=[get_weather])
    assert [c.id for c in resp.tool_calls] == ["call_0", "call_1"]


def test_tool_result_round_trip(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(json_reply(chat_answer("", tool_calls=CALLS[:1])))
    m = model(ollama_server)
    first = m("weather?", tools=[get_weather])
    m([{"role": "user", "content": "weather?"}, first.as_message(),
       {"role": "tool", "tool_call_id": "call_a", "content": "sunny"}], tools=[get_weather])
    sent = ollama_server.last.json["messages"]
    assert sent[1] == {"role": "assistant", "content": "", "tool_calls": [
        {"id": "call_a", "function": {"index": 0, "name": "get_weather",
                                      "arguments": {"city": "Paris"}}}]}
    assert sent[2] == {"role": "tool", "content": "sunny", "tool_call_id": "call_a",
                       "tool_name": "get_weather"}


def test_tool_choice(ollama_server: OllamaServer) -> None:
    m = model(ollama_server)
    m("x", tools=[get_weather], tool_choice="none")
    assert "tools" not in ollama_server.last.json
    with pytest.raises(errors.UnsupportedFeatureError, match="tool_choice"):
        m("x", tools=[get_weather], tool_choice="required")
    with pytest.raises(errors.UnsupportedFeatureError):
        m("x", tools=[get_weather], tool_choice="get_weather")
    assert len(ollama_server.requests) == 1


# -- streams ---------------------------------------------------------------------------------
def test_stream_deltas_usage_reasoning_and_tool_calls(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(stream_reply(
        chat_chunks(["Let me ", "check."], thinking=["Hmm, ", "weather."], tool_calls=CALLS,
                    eval_count=12), split_bytes=11))
    stream = model(ollama_server)("weather?", stream=True, tools=[get_weather])
    assert list(stream) == ["Let me ", "check."]
    assert stream.text == "Let me check." and stream.reasoning == "Hmm, weather."
    assert [(c.id, c.name, c.arguments) for c in stream.tool_calls] == [
        ("call_a", "get_weather", {"city": "Paris"}), ("call_b", "get_time", {"tz": "CET"})]
    assert (stream.usage.input_tokens, stream.usage.output_tokens) == (26, 12)
    assert stream.finish_reason == "stop" and len(stream.raw) == 7
    assert ollama_server.last.json["stream"] is True


def test_config_stream_true_makes_plain_calls_stream(ollama_server: OllamaServer) -> None:
    out = model(ollama_server, stream=True)("one two")
    assert list(out) == ["echo: ", "one ", "two"]  # type: ignore[call-overload]


def test_stream_finish_reason_length(ollama_server: OllamaServer) -> None:
    stream = model(ollama_server)("a b c d e", stream=True, num_predict=3)
    assert "".join(stream) == "echo: a b" and stream.finish_reason == "length"


async def test_async_call_and_stream(ollama_server: OllamaServer) -> None:
    m = model(ollama_server)
    resp = await m.acall("hello", think=True)
    assert (resp.text, resp.reasoning) == ("echo: hello", "Thinking it over.")
    stream = await m.acall("one two", stream=True)
    assert [d async for d in stream] == ["echo: ", "one ", "two"]
    assert stream.usage is not None and stream.usage.output_tokens == 3
    assert stream.finish_reason == "stop"


async def test_async_client_built_once_per_event_loop(ollama_server: OllamaServer) -> None:
    m = model(ollama_server)
    await m.acall("a")
    client = m.async_client()  # type: ignore[attr-defined]
    await m.acall("b")
    assert m.async_client() is client  # type: ignore[attr-defined]


def test_sync_client_built_once(ollama_server: OllamaServer) -> None:
    m = model(ollama_server)
    client = m.client  # type: ignore[attr-defined]
    m("a")
    m("b", stream=True).consume()
    assert m.client is client  # type: ignore[attr-defined]


# -- stop, response_format, images -----------------------------------------------------------
def test_stop_goes_in_options(ollama_server: OllamaServer) -> None:
    resp = model(ollama_server, options={"temperature": 0})("one two three", stop=[" three"])
    assert resp.text == "echo: one two"
    assert ollama_server.last.json["options"] == {"temperature": 0, "stop": [" three"]}


class City(BaseModel):
    name: str
    population: int


def test_response_format_is_ollama_format(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(json_reply(chat_answer('{"name": "Tokyo", "population": 37}')))
    resp = model(ollama_server)("largest city?", response_format=City)
    assert resp.parsed == City(name="Tokyo", population=37)
    assert ollama_server.last.json["format"] == City.model_json_schema()
    resp = model(ollama_server)("x", response_format={"type": "json_object"})
    assert ollama_server.last.json["format"] == "json" and resp.parsed == {"echo": "x"}
    with pytest.raises(TypeError, match="not both"):
        model(ollama_server)("x", response_format=City, format="json")


PNG = b"\x89PNG\r\n\x1a\nfake"


def test_images_as_base64(ollama_server: OllamaServer, tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    data = base64.b64encode(PNG).decode()
    parts = [{"type": "text", "text": "What is this?"},
             {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
             {"type": "image_url", "image_url": {"url": str(path)}}]
    model(ollama_server)([{"role": "user", "content": parts}])
    assert ollama_server.last.json["messages"] == [
        {"role": "user", "content": "What is this?", "images": [data, data]}]


def test_web_image_is_a_clear_error_before_sending(ollama_server: OllamaServer) -> None:
    parts = [{"type": "image_url", "image_url": {"url": "https://x/cat.png"}}]
    with pytest.raises(ValueError, match="web URL"):
        model(ollama_server)([{"role": "user", "content": parts}])
    with pytest.raises(errors.UnsupportedFeatureError, match="input_audio"):
        model(ollama_server)([{"role": "user", "content": [
            {"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}}]}])
    assert not ollama_server.requests


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.BadRequestError), (401, errors.AuthenticationError),
    (403, errors.PermissionDeniedError), (404, errors.NotFoundError),
    (500, errors.ServerError), (502, errors.ServerError)])
@pytest.mark.parametrize("stream", [False, True])
def test_error_statuses(ollama_server: OllamaServer, status: int, cls: type, stream: bool) -> None:
    ollama_server.enqueue(error_reply(status, f"failure {status}"))
    with pytest.raises(cls) as info:
        model(ollama_server)("x", stream=stream)
    err = info.value
    assert err.status_code == status and f"failure {status}" in str(err)
    assert (err.config_name, err.provider) == ("llama", "ollama")
    assert err.url == f"{ollama_server.url}/api/chat"
    assert err.__context__ is None and err.__cause__ is None


def test_model_not_pulled_is_not_found(ollama_server: OllamaServer) -> None:
    with pytest.raises(errors.NotFoundError, match="try pulling it first"):
        model(ollama_server, model_name="missing-model")("x")


def test_429_retry_after_is_honoured(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(error_reply(429, "slow down", {"retry-after": "0.3"}))
    started = time.monotonic()
    assert model(ollama_server, max_retries=1)("x").text == "echo: x"
    assert time.monotonic() - started >= 0.3 and len(ollama_server.requests) == 2


def test_429_exhausted_carries_retry_after(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(error_reply(429, "slow down", {"retry-after": "7"}))
    with pytest.raises(errors.RateLimitError) as info:
        model(ollama_server)("x", stream=True)
    assert info.value.retry_after == 7.0 and info.value.body == {"error": "slow down"}


def test_server_error_retried_once_per_retry_not_by_the_client(
        ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(error_reply(500, "a"), error_reply(503, "b"))
    with pytest.raises(errors.ServerError):
        model(ollama_server, max_retries=1)("x")
    assert len(ollama_server.requests) == 2  # ours: one try and one retry, nothing more


def test_error_inside_a_200_stream(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(stream_reply(
        [*chat_chunks(["Yes", "."])[:2],
         {"error": "an error was encountered while running the model"}]))
    stream = model(ollama_server)("x", stream=True)
    with pytest.raises(errors.ServerError, match="while running the model") as info:
        list(stream)
    assert info.value.partial_text == "Yes." and info.value.status_code == 500


def test_error_object_as_a_whole_answer(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(json_reply({"error": "model runner crashed"}))
    with pytest.raises(errors.ServerError, match="runner crashed"):
        model(ollama_server)("x")


def test_stream_that_ends_before_done(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(stream_reply(chat_chunks(["a", "b"])[:2]))
    with pytest.raises(errors.ModelConnectionError, match="ended early") as info:
        list(model(ollama_server)("x", stream=True))
    assert info.value.partial_text == "ab"


def test_answers_that_are_not_ollama_json(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(raw_reply(200, b"<html><title>Login</title></html>",
                                    {"content-type": "text/html"}))
    with pytest.raises(errors.ResponseParseError, match="not JSON"):
        model(ollama_server)("x")
    ollama_server.enqueue(ndjson_reply(["[1, 2]\n"]))
    with pytest.raises(errors.ResponseParseError):
        list(model(ollama_server)("x", stream=True))
    ollama_server.enqueue(json_reply({"model": "m", "done": True}))
    with pytest.raises(errors.ResponseParseError, match="'message'"):
        model(ollama_server)("x")


def test_html_error_page_from_a_proxy(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(raw_reply(502, b"<html><title>Bad Gateway</title></html>",
                                    {"content-type": "text/html"}))
    with pytest.raises(errors.ServerError, match="Bad Gateway"):
        model(ollama_server)("x")


def test_refused_connection_and_timeout(ollama_server: OllamaServer) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    with pytest.raises(errors.ModelConnectionError):
        model(ollama_server, base_url=f"http://127.0.0.1:{free}")("x")
    ollama_server.enqueue(delay_reply(1.0, json_reply(chat_answer())))
    with pytest.raises(errors.ModelTimeoutError):
        model(ollama_server, timeout=0.2)("x")


def test_unknown_path_answer_is_not_found(ollama_server: OllamaServer) -> None:
    # a base_url with a path Ollama does not serve: Go's plain-text 404
    with pytest.raises(errors.NotFoundError, match="404 page not found"):
        model(ollama_server, base_url=ollama_server.url + "/v1")("x")


async def test_async_errors(ollama_server: OllamaServer) -> None:
    m = model(ollama_server, max_retries=1)
    ollama_server.enqueue(error_reply(429, "slow down", {"retry-after": "0.2"}))
    started = time.monotonic()
    assert (await m.acall("x")).text == "echo: x"
    assert time.monotonic() - started >= 0.2 and len(ollama_server.requests) == 2
    ollama_server.enqueue(error_reply(401, "unauthorized"))
    with pytest.raises(errors.AuthenticationError, match="unauthorized"):
        await m.acall("x", stream=True)
    ollama_server.enqueue(stream_reply(
        [*chat_chunks(["Yes"])[:1], {"error": "an error was encountered"}]))
    stream = await m.acall("x", stream=True)
    with pytest.raises(errors.ServerError) as info:
        async for _ in stream:
            pass
    assert info.value.partial_text == "Yes" and info.value.__context__ is None
