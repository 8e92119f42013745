"""ollama_generate (/api/generate) and ollama_embedding (/api/embed) against the
loopback Ollama server, through the real `ollama` client."""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.base import ModelWrapperBase
from tests.ollama_server import (  # noqa: F401  (fixtures)
    OllamaServer,
    embed_answer,
    error_reply,
    generate_answer,
    generate_chunks,
    json_reply,
    server_fixture,
    server_session_fixture,
    stream_reply,
)


def build(server: OllamaServer, model_type: str, **extra: Any) -> Any:
    reg = Registry()
    reg.init({"config_name": "m", "model_type": model_type, "model_name": "llama3.2",
              "base_url": server.url, "max_retries": 0, **extra})
    wrapper = reg.get("m")
    assert isinstance(wrapper, ModelWrapperBase)
    return wrapper


def msg(name: str, content: str, role: str) -> SimpleNamespace:
    return SimpleNamespace(name=name, content=content, role=role, url=None)


# -- generate --------------------------------------------------------------------------------
def test_prompt_sent_as_it_is(ollama_server: OllamaServer) -> None:
    model = build(ollama_server, "ollama_generate", keep_alive="5m",
                  options={"temperature": 0.7})
    resp = model("1+1=", system="Be brief.", raw=True, num_ctx=4096)
    assert resp.text == "echo: 1+1=" and resp.finish_reason == "stop"
    assert (resp.usage.input_tokens, resp.usage.output_tokens) == (26, 290)
    assert resp.raw["context"] == [1, 2, 3]
    assert ollama_server.last.path == "/api/generate"
    assert ollama_server.last.json == {
        "model": "llama3.2", "prompt": "1+1=", "keep_alive": "5m", "system": "Be brief.",
        "raw": True, "options": {"temperature": 0.7, "num_ctx": 4096}, "stream": False}


def test_messages_flattened_as_agentscope_did(ollama_server: OllamaServer) -> None:
    model = build(ollama_server, "ollama_generate")
    inputs = [msg("system", "You are a helpful assistant", "system"),
              [msg("user", "What is the weather today?", "user"),
               msg("Bob", "It is sunny today", "assistant")]]
    # AgentScope's Ollama generate wrapper formatted the conversation into this prompt
    expected = ("You are a helpful assistant\n\n## Conversation History\n"
                "user: What is the weather today?\nBob: It is sunny today")
    model(model.format(*inputs))
    assert ollama_server.last.json["prompt"] == expected
    # chat mode is AgentScope's common chat layout: roles, no speaker names
    model(model.format(*inputs, multi_agent_mode=False))
    assert ollama_server.last.json["prompt"] == expected.replace("Bob:", "assistant:")
    model([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])
    assert ollama_server.last.json["prompt"] == "## Conversation History\nuser: a\nassistant: b"


def test_generate_images(ollama_server: OllamaServer) -> None:
    data = base64.b64encode(b"png").decode()
    model = build(ollama_server, "ollama_generate")
    model([{"role": "user", "content": [
        {"type": "text", "text": "What is it?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}]}],
        images=["ZXh0cmE="])
    body = ollama_server.last.json
    assert body["prompt"] == "What is it?" and body["images"] == [data, "ZXh0cmE="]


def test_generate_stream_sync_and_reasoning(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(stream_reply(generate_chunks(["The sky ", "is blue."],
                                                       thinking=["Rayleigh."]),
                                       split_bytes=5))
    stream = build(ollama_server, "ollama_generate")("Why?", stream=True)
    assert list(stream) == ["The sky ", "is blue."]
    assert stream.reasoning == "Rayleigh." and stream.usage.output_tokens == 3
    assert stream.finish_reason == "stop" and stream.raw[-1]["context"] == [1, 2, 3]


async def test_generate_async(ollama_server: OllamaServer) -> None:
    model = build(ollama_server, "ollama_generate")
    resp = await model.acall("hi", think=True)
    assert (resp.text, resp.reasoning) == ("echo: hi", "Thinking it over.")
    stream = await model.acall("a b", stream=True, stop=[" b"])
    assert [d async for d in stream] == ["echo: ", "a"]
    assert ollama_server.last.json["options"] == {"stop": [" b"]}


def test_generate_response_format_and_length(ollama_server: OllamaServer) -> None:
    model = build(ollama_server, "ollama_generate")
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert model("x", response_format=schema).parsed == {"n": 1}
    assert ollama_server.last.json["format"] == schema
    resp = model("a b c d", max_tokens=2)
    assert (resp.text, resp.finish_reason) == ("echo: a", "length")
    assert ollama_server.last.json["options"] == {"num_predict": 2}


def test_generate_refuses_tools_before_sending(ollama_server: OllamaServer) -> None:
    model = build(ollama_server, "ollama_generate")
    with pytest.raises(errors.UnsupportedFeatureError, match="tools"):
        model("x", tools=[{"type": "function", "function": {"name": "f"}}])
    with pytest.raises(ValueError, match="ollama_chat"):
        model([{"role": "user", "content": "x"},
               {"role": "tool", "tool_call_id": "c", "content": "r"}])
    assert not ollama_server.requests


@pytest.mark.parametrize("stream", [False, True])
def test_generate_errors(ollama_server: OllamaServer, stream: bool) -> None:
    with pytest.raises(errors.NotFoundError, match="try pulling it first"):
        build(ollama_server, "ollama_generate", model_name="missing-model")("x", stream=stream)
    ollama_server.enqueue(error_reply(429, "busy", {"retry-after": "0"}))
    assert build(ollama_server, "ollama_generate", max_retries=1)("x", stream=stream).text \
        == "echo: x"
    ollama_server.enqueue(stream_reply(
        [*generate_chunks(["Yes"])[:1], {"error": "an error was encountered"}]))
    with pytest.raises(errors.ServerError) as info:
        list(build(ollama_server, "ollama_generate")("x", stream=True))
    assert info.value.partial_text == "Yes"


# -- embedding -------------------------------------------------------------------------------
def test_embed_batch_in_order(ollama_server: OllamaServer) -> None:
    model = build(ollama_server, "ollama_embedding", keep_alive="5m",
                  options={"temperature": 0.7})
    resp = model(["first", "second", "third"], truncate=True, dimensions=3)
    assert len(resp.embedding) == 3 and all(len(v) == 3 for v in resp.embedding)
    assert resp.embedding[0] != resp.embedding[1]
    assert resp.usage.input_tokens == 6 and resp.model == "llama3.2"
    assert ollama_server.last.path == "/api/embed"
    assert ollama_server.last.json == {"model": "llama3.2", "input": ["first", "second", "third"],
                                       "keep_alive": "5m", "truncate": True, "dimensions": 3,
                                       "options": {"temperature": 0.7}}
    assert model("first", dimensions=3).embedding == [resp.embedding[0]]  # one text: a list of one


def test_embed_vectors_as_given(ollama_server: OllamaServer) -> None:
    ollama_server.enqueue(json_reply(embed_answer([[0.5, -1], [2, 0.25]], prompt_eval_count=None)))
    resp = build(ollama_server, "ollama_embedding")(["a", "b"])
    assert resp.embedding == [[0.5, -1.0], [2.0, 0.25]] and resp.usage is None


async def test_embed_async(ollama_server: OllamaServer) -> None:
    resp = await build(ollama_server, "ollama_embedding").acall(["a", "b"])
    assert len(resp.embedding) == 2


def test_embed_errors(ollama_server: OllamaServer) -> None:
    with pytest.raises(errors.NotFoundError):
        build(ollama_server, "ollama_embedding", model_name="missing-embedder")(["x"])
    ollama_server.enqueue(error_reply(400, "input is too long"))
    with pytest.raises(errors.BadRequestError, match="too long"):
        build(ollama_server, "ollama_embedding")(["x"])
    ollama_server.enqueue(json_reply(embed_answer([[1.0]])))
    with pytest.raises(errors.ResponseParseError, match="expected 2 embeddings"):
        build(ollama_server, "ollama_embedding")(["x", "y"])
    ollama_server.enqueue(json_reply({"model": "m"}))
    with pytest.raises(errors.ResponseParseError, match="'embeddings'"):
        build(ollama_server, "ollama_embedding")(["x"])


@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.BadRequestError), (401, errors.AuthenticationError),
    (429, errors.RateLimitError), (500, errors.ServerError)])
@pytest.mark.parametrize("model_type", ["ollama_generate", "ollama_embedding"])
def test_error_statuses(ollama_server: OllamaServer, model_type: str, status: int,
                        cls: type) -> None:
    ollama_server.enqueue(error_reply(status, f"failure {status}", {"retry-after": "9"}))
    model = build(ollama_server, model_type)
    with pytest.raises(cls) as info:
        model(["x"] if model_type == "ollama_embedding" else "x")
    assert info.value.status_code == status and f"failure {status}" in str(info.value)
    assert info.value.url == f"{ollama_server.url}{model.path}"
    if status == 429:
        assert info.value.retry_after == 9.0
