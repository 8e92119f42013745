"""The HF loopback server's fixtures, read by the real `huggingface_hub` client: proof
that they are faithful to what InferenceClient (and so HF's servers) speak."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from huggingface_hub import InferenceClient
from huggingface_hub import errors as hf

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

CALLS = [{"id": "0", "name": "add", "arguments": '{"a": 1, "b": 2}'},
         {"id": "1", "name": "mul", "arguments": '{"a": 3, "b": 4}'}]


@pytest.fixture(scope="module")
def server_module() -> Iterator[HFServer]:
    with HFServer() as server:
        yield server


@pytest.fixture
def server(server_module: HFServer) -> HFServer:
    server_module.reset()
    server_module.token_level = False
    return server_module


@pytest.fixture
def client(server: HFServer) -> InferenceClient:
    return InferenceClient(base_url=server.url, token="hf_test")


def test_chat_completion_with_tools_and_reasoning(client: InferenceClient,
                                                  server: HFServer) -> None:
    server.enqueue(json_reply(chat_completion(None, tool_calls=CALLS, reasoning="think")))
    out = client.chat_completion([{"role": "user", "content": "x"}], model="tgi")
    message = out.choices[0].message
    assert out.choices[0].finish_reason == "tool_calls" and message.reasoning == "think"
    assert [(c.id, c.function.name, json.loads(c.function.arguments))
            for c in message.tool_calls or []] == [("0", "add", {"a": 1, "b": 2}),
                                                   ("1", "mul", {"a": 3, "b": 4})]
    assert out.usage.total_tokens == 14
    assert server.last.path == "/v1/chat/completions"
    assert server.last.headers["authorization"] == "Bearer hf_test"


def test_chat_stream_chunks(client: InferenceClient, server: HFServer) -> None:
    server.enqueue(sse(chat_chunks(["Let me ", "add."], tool_calls=CALLS,
                                   reasoning=["hm"]), done=True))
    text, args, usage, finish, reasoning = "", {}, None, None, ""
    for chunk in client.chat_completion([], model="tgi", stream=True,
                                        stream_options={"include_usage": True}):
        usage = chunk.usage or usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            reasoning += choice.delta.reasoning or ""
            finish = choice.finish_reason or finish
            for tc in choice.delta.tool_calls or []:
                args[tc.index] = args.get(tc.index, "") + tc.function.arguments
    assert text == "Let me add." and reasoning == "hm" and finish == "tool_calls"
    assert json.loads(args[1]) == {"a": 3, "b": 4} and usage is not None


def test_generate_with_details(client: InferenceClient, server: HFServer) -> None:
    server.enqueue(json_reply(generation("a b c", prefill=2)))
    out = client.text_generation("x", model=server.url + "/generate", details=True)
    assert out.generated_text == "a b c" and out.details is not None
    assert out.details.finish_reason == "length" and out.details.generated_tokens == 3
    assert len(out.details.prefill) == 2 and server.last.path == "/generate"


def test_generate_stream_events(client: InferenceClient, server: HFServer) -> None:
    server.enqueue(sse(generate_events(["a", "b"])))
    events = list(client.text_generation("x", model=server.url + "/generate_stream",
                                         details=True, stream=True))
    assert [e.token.text for e in events] == ["a", "b", "</s>"] and events[-1].token.special
    assert events[-1].generated_text == "ab" and events[-1].details is not None
    assert events[-1].details.input_length == 5


@pytest.mark.parametrize("token_level", [False, True])
def test_feature_extraction(client: InferenceClient, server: HFServer,
                            token_level: bool) -> None:
    server.token_level = token_level
    out = client.feature_extraction(["abc", "xyz"], model=server.url + "/embed")
    assert out.shape == ((2, 3, 3) if token_level else (2, 3))


@pytest.mark.parametrize(("reply", "status"), [
    (error_reply(400, "Input validation error", error_type="validation"), 400),
    (error_reply(401, "Invalid credentials", nested=True), 401),
    (error_reply(429, "Rate limit reached", headers={"retry-after": "3"}), 429),
    (error_reply(503, "Model is loading", estimated_time=20.0), 503)])
def test_errors_raise_hf_http_errors(client: InferenceClient, server: HFServer,
                                     reply: object, status: int) -> None:
    server.enqueue(reply)  # type: ignore[arg-type]
    with pytest.raises(hf.HfHubHTTPError) as info:
        client.chat_completion([], model="tgi")
    assert info.value.response.status_code == status


def test_error_inside_a_200_stream(client: InferenceClient, server: HFServer) -> None:
    server.enqueue(sse([generate_events(["a"])[0],
                        {"error": "CUDA out of memory", "error_type": "generation"}]))
    with pytest.raises(hf.GenerationError, match="out of memory"):
        list(client.text_generation("x", model=server.url + "/generate_stream", stream=True))
