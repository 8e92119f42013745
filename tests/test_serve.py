"""`modelhub serve`: real servers on 127.0.0.1, called by the real `openai` SDK and by
modelhub's own configs (`openai_chat`, AgentScope's `post_api_chat`).

The served models are an `openai_chat` config in front of the OpenAI loopback server
(so upstream answers and failures can be scripted) and the echo test plugin (a
third-party wrapper with no network)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

import modelhub
from modelhub import ChatRequest, ChatWrapperBase, ModelResponse
from modelhub.errors import MissingDependencyError, ModelhubError
from modelhub.registry import Registry
from modelhub.serve import Limits, create_app, is_loopback, served_models
from tests.openai_server import (
    OpenAIServer,
    chat_chunks,
    chat_completion,
    delay_reply,
    error_reply,
    json_reply,
    sse_reply,
)
from tests.serving import run_app

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}


def _registry(openai_server: OpenAIServer, **upstream: Any) -> Registry:
    registry = Registry()
    registry.init([
        {"config_name": "up", "model_type": "openai_chat", "model_name": "gpt-up",
         "base_url": openai_server.base_url, "api_key": "sk-upstream", "max_retries": 0,
         **upstream},
        {"config_name": "echo", "model_type": "echo_chat", "prefix": "echo: "},
        {"config_name": "emb", "model_type": "openai_embedding", "model_name": "e",
         "base_url": openai_server.base_url, "api_key": "sk-upstream", "max_retries": 0}])
    return registry


@pytest.fixture
def served(openai_server: OpenAIServer) -> Iterator[str]:
    """`modelhub serve`'s app on every config, no key: its address."""
    with run_app(create_app(served_models(_registry(openai_server)).models)) as url:
        yield url


@pytest.fixture
def client(served: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=served + "/v1", api_key="unused", max_retries=0)


# -- the OpenAI API, through the openai SDK -----------------------------------------------------
def test_models_are_listed(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["up", "echo", "emb"]
    assert client.models.retrieve("echo").owned_by == "modelhub"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope")


def test_chat_json_from_the_upstream_and_from_a_plugin(client: openai.OpenAI,
                                                       openai_server: OpenAIServer) -> None:
    resp = client.chat.completions.create(
        model="up", messages=[{"role": "user", "content": "Hi there"}], temperature=0.25,
        max_tokens=7, seed=3)
    assert resp.choices[0].message.content == "echo: Hi there"
    assert resp.model == "up" and resp.choices[0].finish_reason == "stop"
    assert resp.usage is not None and (resp.usage.prompt_tokens, resp.usage.completion_tokens,
                                       resp.usage.total_tokens) == (9, 12, 21)
    sent = openai_server.last.json
    assert sent["model"] == "gpt-up" and sent["temperature"] == 0.25
    assert sent["max_tokens"] == 7 and sent["seed"] == 3
    assert openai_server.last.headers["authorization"] == "Bearer sk-upstream"

    resp = client.chat.completions.create(
        model="echo", messages=[{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "plugin says hi"}])
    assert resp.choices[0].message.content == "echo: plugin says hi"
    assert resp.usage is not None and resp.usage.completion_tokens == 4


def test_chat_stream_sync_and_async(client: openai.OpenAI, served: str) -> None:
    stream = client.chat.completions.create(
        model="up", messages=[{"role": "user", "content": "one two three"}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: one two three"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == 4
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 21

    async def read() -> str:
        aclient = openai.AsyncOpenAI(base_url=served + "/v1", api_key="x", max_retries=0)
        async with aclient:
            astream = await aclient.chat.completions.create(
                model="echo", messages=[{"role": "user", "content": "a b c"}], stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in astream
                            if c.choices])

    assert asyncio.run(read()) == "echo: a b c"


def test_tools_whole_and_streamed(client: openai.OpenAI, openai_server: OpenAIServer) -> None:
    calls = [{"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
             {"id": "call_2", "name": "get_weather", "arguments": '{"city": "Rome"}'}]
    openai_server.enqueue(json_reply(chat_completion(None, tool_calls=calls)))
    resp = client.chat.completions.create(
        model="up", messages=[{"role": "user", "content": "Weather?"}], tools=[WEATHER],
        tool_choice="auto")
    message = resp.choices[0].message
    assert resp.choices[0].finish_reason == "tool_calls"
    assert [(c.id, c.function.name, json.loads(c.function.arguments))
            for c in message.tool_calls or []] == [
        ("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_weather", {"city": "Rome"})]
    sent = openai_server.last.json
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    assert sent["tool_choice"] == "auto"

    openai_server.enqueue(sse_reply(chat_chunks([], tool_calls=calls)))
    stream = client.chat.completions.create(
        model="up", messages=[{"role": "user", "content": "Weather?"}], tools=[WEATHER],
        stream=True)
    found: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for tc in choice.delta.tool_calls or ():
                entry = found.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] += tc.id or ""
                entry["name"] += (tc.function.name or "") if tc.function else ""
                entry["arguments"] += (tc.function.arguments or "") if tc.function else ""
    assert finish == "tool_calls"
    assert [(f["id"], f["name"], json.loads(f["arguments"])) for f in found.values()] == [
        ("call_1", "get_weather", {"city": "Paris"}), ("call_2", "get_weather", {"city": "Rome"})]

    # A follow-up turn carrying the tool call and its result goes upstream intact.
    client.chat.completions.create(model="up", messages=[
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}], tools=[WEATHER])
    sent_messages = openai_server.last.json["messages"]
    assert sent_messages[1]["tool_calls"][0]["id"] == "call_1"
    assert sent_messages[2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}


def test_stop_sequences(client: openai.OpenAI, openai_server: OpenAIServer) -> None:
    resp = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "one two STOP three"}],
        stop=["STOP"])
    assert resp.choices[0].message.content == "echo: one two "
    stream = client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "one two STOP three"}],
        stop="STOP", stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) \
        == "echo: one two "
    client.chat.completions.create(model="up", messages=[{"role": "user", "content": "x"}],
                                   stop=["END", "\n\n"])
    assert openai_server.last.json["stop"] == ["END", "\n\n"]


def test_response_format_and_reasoning(client: openai.OpenAI,
                                       openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(chat_completion('{"city": "Tokyo"}',
                                                     reasoning_content="Japan...")))
    resp = client.chat.completions.create(
        model="up", messages=[{"role": "user", "content": "Largest city?"}],
        response_format={"type": "json_schema", "json_schema": {
            "name": "city", "schema": {"type": "object",
                                       "properties": {"city": {"type": "string"}}}}})
    assert json.loads(resp.choices[0].message.content or "") == {"city": "Tokyo"}
    assert resp.choices[0].message.model_extra == {"reasoning_content": "Japan..."}
    assert openai_server.last.json["response_format"]["type"] == "json_schema"


def test_embeddings_float_and_base64(client: openai.OpenAI, openai_server: OpenAIServer) -> None:
    resp = client.embeddings.create(model="emb", input=["a", "bb"], dimensions=4)
    assert [d.index for d in resp.data] == [0, 1] and len(resp.data[0].embedding) == 4
    assert resp.usage.prompt_tokens == 6 and openai_server.last.json["dimensions"] == 4
    # The SDK asks for base64 by default and decodes it itself.
    resp64 = client.embeddings.create(model="emb", input="a", dimensions=4,
                                      encoding_format="base64")
    assert isinstance(resp64.data[0].embedding, str)
    plain = client.embeddings.create(model="emb", input="a", dimensions=4)
    import base64
    import struct

    decoded = struct.unpack("<4f", base64.b64decode(resp64.data[0].embedding))
    assert decoded == pytest.approx(plain.data[0].embedding, rel=1e-6)


# -- AgentScope's POST shape, through modelhub configs --------------------------------------------
def test_post_api_chat_config_against_llm_route(served: str,
                                                openai_server: OpenAIServer) -> None:
    registry = Registry()
    registry.init([
        {"config_name": "as", "model_type": "post_api_chat", "api_url": served + "/llm/",
         "json_args": {"max_length": 64, "temperature": 0.5}},
        {"config_name": "as-echo", "model_type": "post_api_chat",
         "api_url": served + "/llm/echo", "json_args": {"temperature": 0.1}},
        {"config_name": "as-stream", "model_type": "post_api_chat",
         "api_url": served + "/llm/", "json_args": {"model": "echo"}, "stream": True}])
    resp = registry.get("as")([{"role": "user", "content": "hello"}])
    assert resp.text == "echo: hello" and resp.usage is not None and resp.usage.total_tokens == 21
    assert openai_server.last.json["max_length"] == 64
    assert openai_server.last.json["temperature"] == 0.5
    assert registry.get("as-echo")("named by path").text == "echo: named by path"
    stream = registry.get("as-stream")("streamed through AgentScope's shape", stream=True)
    assert list(stream) == ["echo: ", "streamed ", "through ", "AgentScope's ", "shape"]
    assert stream.finish_reason == "stop" and stream.usage is not None

    openai_server.enqueue(json_reply(chat_completion(None, tool_calls=[
        {"id": "c9", "name": "get_weather", "arguments": '{"city": "Oslo"}'}])))
    resp = registry.get("as")("Weather?", tools=[WEATHER])
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("c9", "get_weather", {"city": "Oslo"})]


def test_agentscope_answer_shape(served: str) -> None:
    body = httpx.post(served + "/llm/", json={
        "messages": [{"role": "user", "content": "shape"}], "model": "echo"}).json()
    choice = body["data"]["response"]["choices"][0]
    assert choice["message"]["content"] == "echo: shape"
    assert body["data"]["response"]["usage"]["total_tokens"] == 3


def test_openai_chat_config_against_the_server(served: str) -> None:
    registry = Registry()
    registry.init([{"config_name": "via", "model_type": "openai_chat", "model_name": "echo",
                    "base_url": served + "/v1", "api_key": "x"}])
    model = registry.get("via")
    assert model("modelhub to modelhub").text == "echo: modelhub to modelhub"
    stream = model("streamed hop", stream=True)
    assert "".join(stream) == "echo: streamed hop" and stream.usage is not None


# -- errors and bounds -------------------------------------------------------------------------------
def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


def test_failed_calls_are_openai_errors_and_the_server_goes_on(
        client: openai.OpenAI, served: str, openai_server: OpenAIServer) -> None:
    chat = {"model": "up", "messages": [{"role": "user", "content": "x"}]}
    openai_server.enqueue(error_reply(500, "upstream exploded", type="server_error"))
    r = httpx.post(served + "/v1/chat/completions", json=chat)
    assert r.status_code == 502 and "upstream exploded" in _error(r)["message"]
    assert _error(r)["type"] == "upstream_error"

    openai_server.enqueue(error_reply(429, "slow down", type="rate_limit_error",
                                      headers={"retry-after": "7"}))
    r = httpx.post(served + "/v1/chat/completions", json=chat)
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert _error(r)["type"] == "rate_limit_error"

    openai_server.enqueue(error_reply(400, "context too long", code="context_length_exceeded"))
    with pytest.raises(openai.BadRequestError, match="context too long"):
        client.chat.completions.create(**chat)

    openai_server.enqueue(error_reply(401, "bad upstream key", type="authentication_error"))
    r = httpx.post(served + "/v1/chat/completions", json=chat)
    assert r.status_code == 502 and "HTTP 401" in _error(r)["message"]
    assert "sk-upstream" not in r.text

    # Still serving, upstream and plugin alike.
    assert client.chat.completions.create(**chat).choices[0].message.content == "echo: x"
    assert client.chat.completions.create(model="echo", messages=chat["messages"]) \
        .choices[0].message.content == "echo: x"


def test_one_failure_does_not_disturb_calls_in_flight(served: str,
                                                      openai_server: OpenAIServer) -> None:
    openai_server.enqueue(delay_reply(0.3, error_reply(503, "down")))

    async def both() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=10) as c:
            return await asyncio.gather(
                c.post(served + "/v1/chat/completions",
                       json={"model": "up", "messages": [{"role": "user", "content": "a"}]}),
                *(c.post(served + "/v1/chat/completions",
                         json={"model": "echo", "messages": [{"role": "user", "content": str(i)}]})
                  for i in range(5)))

    failed, *fine = asyncio.run(both())
    assert failed.status_code == 502
    assert [r.json()["choices"][0]["message"]["content"] for r in fine] == [
        f"echo: {i}" for i in range(5)]


def test_request_errors(served: str) -> None:
    url = served + "/v1/chat/completions"
    r = httpx.post(url, json={"model": "nope", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 404 and _error(r)["code"] == "model_not_found"
    assert "up, echo, emb" in _error(r)["message"]
    r = httpx.post(url, json={"model": "emb", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 400 and "embedding" in _error(r)["message"]
    r = httpx.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and _error(r)["code"] == "invalid_json"
    r = httpx.post(url, json={"model": "echo", "messages": []})
    assert r.status_code == 400 and _error(r)["param"] == "messages"
    r = httpx.post(url, json={"model": "echo", "messages": [{"role": "user", "content": "x"}],
                              "n": 2})
    assert r.status_code == 400 and _error(r)["param"] == "n"
    r = httpx.post(url, json={"model": "echo", "messages": [{"role": "user", "content": "x"}],
                              "tools": [WEATHER]})
    assert r.status_code == 400 and "tools" in _error(r)["message"]
    r = httpx.post(url, json={"model": "up", "messages": [{"role": "user", "content": "x"}],
                              "temprature": 0.2})
    assert r.status_code == 400 and "temperature" in _error(r)["message"]
    r = httpx.post(served + "/v1/embeddings", json={"model": "emb", "input": [[1, 2, 3]]})
    assert r.status_code == 400 and _error(r)["param"] == "input"
    r = httpx.post(served + "/v1/embeddings", json={"model": "echo", "input": "x"})
    assert r.status_code == 400
    r = httpx.get(served + "/v1/nothing")
    assert r.status_code == 404 and _error(r)["code"] == "unknown_url"
    r = httpx.get(url)
    assert r.status_code == 405 and _error(r)["type"] == "invalid_request_error"
    # The first chat model answers when none is named.
    r = httpx.post(url, json={"messages": [{"role": "user", "content": "default"}]})
    assert r.json()["model"] == "up"


def test_stream_errors(client: openai.OpenAI, served: str, openai_server: OpenAIServer) -> None:
    # An error before the first piece keeps its status.
    openai_server.enqueue(error_reply(429, "later", type="rate_limit_error"))
    with pytest.raises(openai.RateLimitError):
        list(client.chat.completions.create(
            model="up", messages=[{"role": "user", "content": "x"}], stream=True))
    # An error inside the upstream's 200 stream is an error event, which the SDK raises.
    chunks = chat_chunks(["Hel", "lo"], include_usage=False)[:2]
    openai_server.enqueue(sse_reply([*chunks, {"error": {"message": "overloaded mid-way",
                                                         "type": "server_error"}}], done=False))
    pieces: list[str] = []
    with pytest.raises(openai.APIError, match="overloaded mid-way"):
        for chunk in client.chat.completions.create(
                model="up", messages=[{"role": "user", "content": "x"}], stream=True):
            pieces += [c.delta.content or "" for c in chunk.choices]
    assert "".join(pieces) == "Hel"
    # ... and the server goes on.
    assert client.chat.completions.create(
        model="up", messages=[{"role": "user", "content": "ok"}]).choices[0].message.content \
        == "echo: ok"


def test_client_leaving_mid_stream(served: str, openai_server: OpenAIServer) -> None:
    slow = sse_reply(chat_chunks([f"w{i} " for i in range(40)]))
    slow.piece_delay = 0.05
    openai_server.enqueue(slow)
    with httpx.stream("POST", served + "/v1/chat/completions", json={
            "model": "up", "stream": True,
            "messages": [{"role": "user", "content": "x"}]}) as r:
        for line in r.iter_lines():
            if "w2" in line:
                break
    r2 = httpx.post(served + "/v1/chat/completions",
                    json={"model": "up", "messages": [{"role": "user", "content": "next"}]})
    assert r2.json()["choices"][0]["message"]["content"] == "echo: next"


@pytest.fixture
def tight(openai_server: OpenAIServer) -> Iterator[str]:
    """The server with small bounds: 1 KiB bodies arriving within 0.5 s, calls of 0.5 s."""
    app = create_app(served_models(_registry(openai_server)).models,
                     limits=Limits(max_body=1024, body_timeout=0.5, timeout=0.5))
    with run_app(app) as url:
        yield url


def test_body_size_and_time_are_bounded(tight: str) -> None:
    url = tight + "/v1/chat/completions"
    big = {"model": "echo", "messages": [{"role": "user", "content": "x" * 2000}]}
    r = httpx.post(url, json=big)
    assert r.status_code == 413 and _error(r)["code"] == "request_too_large"

    def chunked() -> Iterator[bytes]:  # no content-length: counted as it arrives
        for _ in range(20):
            yield b" " * 100

    r = httpx.post(url, content=chunked())
    assert r.status_code == 413

    # A body that trickles in is cut off.
    host, port = tight.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
                  b"content-type: application/json\r\ncontent-length: 100\r\n\r\n{")
        started = time.monotonic()
        answer = b""
        while piece := s.recv(4096):
            answer += piece
            if b"request_timeout" in answer:
                break
    assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 3
    assert b"request_timeout" in answer
    # The server still answers.
    ok = httpx.post(url, json={"model": "echo", "messages": [{"role": "user", "content": "y"}]})
    assert ok.status_code == 200


def test_model_calls_are_bounded_in_time(tight: str, openai_server: OpenAIServer) -> None:
    url = tight + "/v1/chat/completions"
    openai_server.enqueue(delay_reply(2.0, json_reply(chat_completion("late"))))
    started = time.monotonic()
    r = httpx.post(url, json={"model": "up", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 504 and _error(r)["type"] == "timeout_error"
    assert time.monotonic() - started < 1.5
    # A stream that outlives the limit ends with an error event.
    slow = sse_reply(chat_chunks([f"w{i} " for i in range(30)]))
    slow.piece_delay = 0.05
    openai_server.enqueue(slow)
    client = openai.OpenAI(base_url=tight + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.APIError, match="did not answer within"):
        for _ in client.chat.completions.create(
                model="up", messages=[{"role": "user", "content": "x"}], stream=True):
            pass


# -- the key ---------------------------------------------------------------------------------------
def test_bearer_key(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    key = "serve-key-0123456789"
    app = create_app(served_models(_registry(openai_server)).models, api_key=key)
    assert key not in repr(vars(app))
    with run_app(app) as url:
        chat = {"model": "echo", "messages": [{"role": "user", "content": "x"}]}
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": key},
                        {"authorization": "Bearer " + key[:-1]},
                        {"authorization": "Basic " + key}):
            r = httpx.post(url + "/v1/chat/completions", json=chat, headers=headers)
            assert r.status_code == 401 and _error(r)["code"] == "invalid_api_key"
            assert key not in r.text
        assert httpx.get(url + "/v1/models").status_code == 401
        assert httpx.get(url + "/health").json()["status"] == "ok"
        client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)
        assert client.chat.completions.create(**chat).choices[0].message.content == "echo: x"
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url + "/v1", api_key="nope", max_retries=0).models.list()
    # Every check compared two SHA-256 digests (same length whatever was sent).
    assert compared and all(len(a) == len(b) == 32 for a, b in compared)


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.1.2.3"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.4", "example.com"))


class _NeedsAnSDK(ChatWrapperBase):
    model_type = "needs_sdk_chat"
    required_modules = ("modelhub_sdk_that_is_not_installed",)
    extra = "nothing"

    def _complete(self, request: ChatRequest) -> ModelResponse:
        raise AssertionError("never built")


def test_which_configs_are_served(openai_server: OpenAIServer) -> None:
    registry = _registry(openai_server)
    modelhub.register("needs_sdk_chat", _NeedsAnSDK)
    try:
        registry.init([{"config_name": "painter", "model_type": "openai_dall_e",
                        "base_url": openai_server.base_url},
                       {"config_name": "no-sdk", "model_type": "needs_sdk_chat"}])
        served = served_models(registry)
        assert list(served.models) == ["up", "echo", "emb"]
        assert "image" in served.skipped["painter"]
        assert "modelhub[nothing]" in served.skipped["no-sdk"]
        assert list(served_models(registry, ["echo"]).models) == ["echo"]
        with pytest.raises(ModelhubError, match="image"):
            served_models(registry, ["painter"])
        with pytest.raises(MissingDependencyError):
            served_models(registry, ["echo", "no-sdk"])
    finally:
        modelhub.unregister("needs_sdk_chat")


def test_stream_sends_json_events_only(served: str) -> None:
    with httpx.stream("POST", served + "/v1/chat/completions", json={
            "model": "echo", "stream": True,
            "messages": [{"role": "user", "content": "x y"}]}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert all(e["object"] == "chat.completion.chunk" for e in events)
    assert len({e["id"] for e in events}) == 1
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
