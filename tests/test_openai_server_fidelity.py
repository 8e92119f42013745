"""The loopback server's fixtures, read by the real `openai` SDK: proof that they are
faithful to the wire protocol the SDK (and so OpenAI) speaks."""

from __future__ import annotations

import json

import openai
import pytest

from tests.openai_server import (
    OpenAIServer,
    chat_chunks,
    chat_completion,
    embedding_response,
    error_reply,
    images_response,
    json_reply,
    raw_reply,
    sse_reply,
)

CALLS = [{"id": "call_1", "name": "add", "arguments": '{"a": 1, "b": 2}'},
         {"id": "call_2", "name": "mul", "arguments": '{"a": 3, "b": 4}'}]


@pytest.fixture
def client(openai_server: OpenAIServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)


def test_chat_completion_with_tool_calls_parses(client: openai.OpenAI,
                                                openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(chat_completion(None, tool_calls=CALLS)))
    done = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    message = done.choices[0].message
    assert done.choices[0].finish_reason == "tool_calls"
    assert [(c.id, c.function.name, json.loads(c.function.arguments))
            for c in message.tool_calls or []] == [("call_1", "add", {"a": 1, "b": 2}),
                                                    ("call_2", "mul", {"a": 3, "b": 4})]
    assert done.usage is not None and done.usage.completion_tokens_details is not None
    req = openai_server.last
    assert req.method == "POST" and req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer sk-test"
    assert req.json["messages"] == [{"role": "user", "content": "x"}]


def test_reasoning_content_is_an_extra_field(client: openai.OpenAI,
                                             openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(chat_completion("4", reasoning_content="2+2")))
    message = client.chat.completions.create(model="m", messages=[]).choices[0].message
    assert message.content == "4" and (message.model_extra or {})["reasoning_content"] == "2+2"


@pytest.mark.parametrize("framing", [{}, {"line_ending": "\r\n"}, {"split_bytes": 7},
                                     {"comments": True}])
def test_stream_with_tool_call_deltas_and_usage(client: openai.OpenAI,
                                                openai_server: OpenAIServer,
                                                framing: dict) -> None:
    openai_server.enqueue(sse_reply(chat_chunks(["Let me ", "add."], tool_calls=CALLS),
                                    **framing))
    stream = client.chat.completions.create(model="m", messages=[], stream=True,
                                            stream_options={"include_usage": True})
    text, args, names, usage, finish = "", {}, {}, None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
            for tc in choice.delta.tool_calls or []:
                args[tc.index] = args.get(tc.index, "") + (tc.function.arguments or "")
                if tc.function.name:
                    names[tc.index] = tc.function.name
    assert text == "Let me add." and finish == "tool_calls"
    assert names == {0: "add", 1: "mul"} and json.loads(args[1]) == {"a": 3, "b": 4}
    assert usage is not None and usage.total_tokens == 21


def test_error_inside_200_stream_raises(client: openai.OpenAI,
                                        openai_server: OpenAIServer) -> None:
    openai_server.enqueue(sse_reply([chat_chunks(["a"])[0],
                                     {"error": {"message": "The server had an error",
                                                "type": "server_error"}}], done=False))
    with pytest.raises(openai.APIError, match="The server had an error"):
        list(client.chat.completions.create(model="m", messages=[], stream=True))


@pytest.mark.parametrize("fmt", ["float", "base64"])
def test_embeddings(client: openai.OpenAI, openai_server: OpenAIServer, fmt: str) -> None:
    vectors = [[0.5, -1.25, 3.0], [0.0, 1.0, 2.0]]
    openai_server.enqueue(json_reply(embedding_response(vectors, encoding_format=fmt)))
    out = client.embeddings.create(model="m", input=["a", "b"], encoding_format=fmt)
    got = [d.embedding for d in out.data]
    if fmt == "base64":  # the SDK hands explicit base64 back undecoded
        import base64
        import struct

        got = [list(struct.unpack("<3f", base64.b64decode(g))) for g in got]  # type: ignore[arg-type]
    assert got == vectors and out.usage.total_tokens == 6


def test_embeddings_default_server_honours_sdk_default_encoding(client: openai.OpenAI) -> None:
    out = client.embeddings.create(model="m", input="hello", dimensions=4)
    assert len(out.data[0].embedding) == 4  # the SDK asked base64 and decoded it itself


def test_images_url_and_b64(client: openai.OpenAI, openai_server: OpenAIServer) -> None:
    openai_server.enqueue(json_reply(images_response(["https://i/1.png"], revised_prompt="r")))
    assert client.images.generate(prompt="p").data[0].url == "https://i/1.png"  # type: ignore[index]
    out = client.images.generate(prompt="p", n=2, response_format="b64_json")
    assert [d.b64_json for d in out.data or []] == ["cG5nMA==", "cG5nMQ=="]


@pytest.mark.parametrize(("status", "cls"), [
    (400, openai.BadRequestError), (401, openai.AuthenticationError),
    (403, openai.PermissionDeniedError), (404, openai.NotFoundError),
    (422, openai.UnprocessableEntityError), (429, openai.RateLimitError),
    (500, openai.InternalServerError)])
def test_error_bodies_map_to_sdk_exceptions(client: openai.OpenAI, openai_server: OpenAIServer,
                                            status: int, cls: type) -> None:
    openai_server.enqueue(error_reply(status, f"failure {status}", code="c",
                                      headers={"retry-after": "7"}))
    with pytest.raises(cls) as info:
        client.chat.completions.create(model="m", messages=[])
    assert f"failure {status}" in str(info.value)
    assert info.value.code == "c"  # type: ignore[attr-defined]
    assert info.value.response.headers["retry-after"] == "7"  # type: ignore[attr-defined]


def test_html_error_page(client: openai.OpenAI, openai_server: OpenAIServer) -> None:
    openai_server.enqueue(raw_reply(502, b"<html>Bad Gateway</html>",
                                    {"content-type": "text/html"}))
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=[])


def test_azure_deployment_path(openai_server: OpenAIServer) -> None:
    azure = openai.AzureOpenAI(azure_endpoint=openai_server.url, api_key="az-key",
                               api_version="2024-10-21", max_retries=0)
    out = azure.chat.completions.create(model="dep1", messages=[{"role": "user", "content": "hi"}])
    assert out.choices[0].message.content == "echo: hi"
    req = openai_server.last
    assert req.path == "/openai/deployments/dep1/chat/completions"
    assert req.query == {"api-version": "2024-10-21"} and req.headers["api-key"] == "az-key"


async def test_async_client_stream(openai_server: OpenAIServer) -> None:
    client = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="k", max_retries=0)
    stream = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "a b c"}], stream=True,
        stream_options={"include_usage": True})
    chunks = [c async for c in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "echo: a b c"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    await client.close()
