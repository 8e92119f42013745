"""The Ollama loopback server's fixtures, read by the real `ollama` client through its
public methods and its own types (`ChatResponse`, `GenerateResponse`, `EmbedResponse`,
`ResponseError`): proof that they are faithful to the wire the client (and so Ollama)
speaks."""

from __future__ import annotations

import ollama
import pytest

from tests.ollama_server import (  # noqa: F401  (fixtures)
    OllamaServer,
    chat_answer,
    chat_chunks,
    embed_answer,
    error_reply,
    generate_answer,
    generate_chunks,
    json_reply,
    server_fixture,
    server_session_fixture,
    stream_reply,
)

CALLS = [{"id": "call_a", "name": "get_weather", "arguments": {"city": "Paris"}},
         {"id": "call_b", "name": "get_time", "arguments": {"tz": "CET", "n": 2}}]


@pytest.fixture
def client(ollama_server: OllamaServer) -> ollama.Client:
    return ollama.Client(host=ollama_server.url)


def test_chat_answer_with_tool_calls_and_thinking(client: ollama.Client,
                                                  ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(json_reply(chat_answer("", thinking="hmm", tool_calls=CALLS)))
    out = client.chat(model="llama3.2", messages=[{"role": "user", "content": "x"}])
    assert isinstance(out, ollama.ChatResponse) and out.done and out.done_reason == "stop"
    assert out.message.thinking == "hmm"
    assert [(c.function.name, dict(c.function.arguments)) for c in out.message.tool_calls or []] \
        == [("get_weather", {"city": "Paris"}), ("get_time", {"tz": "CET", "n": 2})]
    assert (out.prompt_eval_count, out.eval_count) == (26, 298)
    assert out.total_duration and out.eval_duration  # nanoseconds, as ints
    req = ollama_server.last
    assert (req.method, req.path) == ("POST", "/api/chat")
    assert req.json["stream"] is False and req.json["messages"] == [{"role": "user",
                                                                     "content": "x"}]


def test_chat_stream_ends_with_done_and_counts(client: ollama.Client,
                                               ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(stream_reply(chat_chunks(["Hel", "lo"], thinking=["t"],
                                                   tool_calls=CALLS), split_bytes=7))
    parts = list(client.chat(model="m", messages=[], stream=True))
    assert all(isinstance(p, ollama.ChatResponse) for p in parts)
    assert "".join(p.message.content or "" for p in parts) == "Hello"
    assert "".join(p.message.thinking or "" for p in parts) == "t"
    assert [c.function.name for p in parts for c in p.message.tool_calls or []] == \
        ["get_weather", "get_time"]
    assert [p.done for p in parts].count(True) == 1 and parts[-1].done
    assert parts[-1].done_reason == "stop" and parts[-1].eval_count == 3


@pytest.mark.parametrize("reason", ["stop", "length", "load", "unload"])
def test_done_reasons(client: ollama.Client, ollama_server: OllamaServer, reason: str) -> None:
    ollama_server.enqueue(json_reply(chat_answer("x", done_reason=reason)))
    assert client.chat(model="m", messages=[]).done_reason == reason


def test_default_server_loads_and_unloads_on_an_empty_chat(client: ollama.Client) -> None:
    assert client.chat(model="m", messages=[]).done_reason == "load"
    assert client.chat(model="m", messages=[], keep_alive=0).done_reason == "unload"


def test_default_server_obeys_stop_num_predict_and_format(client: ollama.Client) -> None:
    msgs = [{"role": "user", "content": "one two three four"}]
    out = client.chat(model="m", messages=msgs, options={"num_predict": 2})
    assert (out.message.content, out.done_reason) == ("echo: one", "length")
    out = client.chat(model="m", messages=msgs, options={"stop": [" three"]})
    assert (out.message.content, out.done_reason) == ("echo: one two", "stop")
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert client.chat(model="m", messages=msgs, format=schema).message.content == '{"n": 1}'


def test_generate_whole_and_streamed(client: ollama.Client,
                                     ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(json_reply(generate_answer("blue", thinking="sky")))
    out = client.generate(model="m", prompt="Why?")
    assert isinstance(out, ollama.GenerateResponse)
    assert (out.response, out.thinking, out.done_reason) == ("blue", "sky", "stop")
    assert list(out.context or []) == [1, 2, 3] and out.eval_count == 290
    assert ollama_server.last.path == "/api/generate"
    ollama_server.enqueue(stream_reply(generate_chunks(["a", "b"], thinking=["c"])))
    parts = list(client.generate(model="m", prompt="Why?", stream=True))
    assert "".join(p.response or "" for p in parts) == "ab"
    assert parts[-1].done and parts[-1].prompt_eval_count == 26


def test_embed(client: ollama.Client, ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(json_reply(embed_answer([[0.5, -1.0], [2.0, 0.25]])))
    out = client.embed(model="all-minilm", input=["a", "b"])
    assert isinstance(out, ollama.EmbedResponse)
    assert [list(v) for v in out.embeddings] == [[0.5, -1.0], [2.0, 0.25]]
    assert out.prompt_eval_count == 8
    assert ollama_server.last.json["input"] == ["a", "b"]


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 502])
def test_error_bodies(client: ollama.Client, ollama_server: OllamaServer, status: int) -> None:
    ollama_server.enqueue(error_reply(status, f"failure {status}", {"retry-after": "3"}))
    with pytest.raises(ollama.ResponseError) as info:
        client.chat(model="m", messages=[])
    assert info.value.status_code == status and info.value.error == f"failure {status}"


def test_model_not_found_is_404(client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as info:
        client.generate(model="missing-model", prompt="x")
    assert info.value.status_code == 404 and "not found" in info.value.error


def test_error_status_on_a_stream(client: ollama.Client, ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(error_reply(500, "boom"))
    with pytest.raises(ollama.ResponseError) as info:
        list(client.chat(model="m", messages=[], stream=True))
    assert (info.value.status_code, info.value.error) == (500, "boom")


def test_error_line_inside_a_200_stream(client: ollama.Client,
                                        ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(stream_reply(
        [*generate_chunks(["Yes", "."])[:2],
         {"error": "an error was encountered while running the model"}]))
    seen = []
    with pytest.raises(ollama.ResponseError) as info:
        for part in client.generate(model="m", prompt="x", stream=True):
            seen.append(part.response)
    assert seen == ["Yes", "."] and "while running the model" in info.value.error
    assert ollama_server.requests[-1].headers["accept"] == "application/json"


async def test_async_client_stream(ollama_server: OllamaServer) -> None:
    client = ollama.AsyncClient(host=ollama_server.url)
    parts = [p async for p in await client.chat(
        model="m", messages=[{"role": "user", "content": "hi there"}], stream=True)]
    assert "".join(p.message.content or "" for p in parts) == "echo: hi there"
    assert parts[-1].done_reason == "stop"
