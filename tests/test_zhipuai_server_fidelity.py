"""The Zhipu loopback zhipuai_server's fixtures, read by the real `zai-sdk` client: proof that
they are shaped as the SDK (and so Zhipu's v4 API) has them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from zai import ZhipuAiClient
from zai.core import _errors as sdk_errors

from tests import zhipuai_server as zs
from tests.loopback import json_reply
from tests.zhipuai_server import (
    ERRORS,
    ZhipuAIServer,
    chat_chunks,
    completion,
    embeddings_body,
    error_reply,
    sse_reply,
    stream_error_event,
)

# The Zhipu server fixtures (they live with the server).
zhipuai_server_session = zs.zhipuai_server_session
zhipuai_server = zs.zhipuai_server

CALLS = [{"id": "call_1", "name": "add", "arguments": '{"a": 1, "b": 2}'},
         {"id": "call_2", "name": "mul", "arguments": '{"a": 3, "b": 4}'}]


@pytest.fixture
def client(zhipuai_server: ZhipuAIServer) -> ZhipuAiClient:
    return ZhipuAiClient(api_key="id.secret", base_url=zhipuai_server.base_url, max_retries=0)


def read(stream: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"text": "", "reasoning": "", "args": {}, "names": {}, "ids": {},
                           "finish": None, "usage": None}
    for chunk in stream:
        out["usage"] = chunk.usage or out["usage"]
        for choice in chunk.choices:
            delta = choice.delta
            out["text"] += delta.content or ""
            out["reasoning"] += delta.reasoning_content or ""
            out["finish"] = choice.finish_reason or out["finish"]
            for tc in delta.tool_calls or []:
                out["args"][tc.index] = out["args"].get(tc.index, "") + (tc.function.arguments or "")
                if tc.function.name:
                    out["names"][tc.index] = tc.function.name
                if tc.id:
                    out["ids"][tc.index] = tc.id
    return out


def test_completion_parses_with_reasoning_and_usage(client: ZhipuAiClient,
                                                    zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(json_reply(completion("4", reasoning_content="2+2", model="glm-4.5")))
    done = client.chat.completions.create(model="glm-4.5",
                                          messages=[{"role": "user", "content": "2+2?"}])
    assert done.choices[0].message.content == "4"
    assert done.choices[0].message.reasoning_content == "2+2"
    assert done.choices[0].finish_reason == "stop" and done.model == "glm-4.5"
    assert done.usage.total_tokens == 248 and done.usage.prompt_tokens_details is not None
    req = zhipuai_server.last
    assert req.path == "/api/paas/v4/chat/completions"
    assert req.headers["authorization"] == "Bearer id.secret"
    assert req.json["messages"] == [{"role": "user", "content": "2+2?"}]


def test_completion_with_parallel_tool_calls_parses(client: ZhipuAiClient,
                                                    zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(json_reply(completion(None, tool_calls=CALLS)))
    done = client.chat.completions.create(model="glm-4", messages=[])
    calls = done.choices[0].message.tool_calls or []
    assert done.choices[0].finish_reason == "tool_calls"
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("call_1", "add", {"a": 1, "b": 2}), ("call_2", "mul", {"a": 3, "b": 4})]


@pytest.mark.parametrize("tool_stream", [False, True])
def test_stream_with_reasoning_tool_calls_and_usage(client: ZhipuAiClient,
                                                    zhipuai_server: ZhipuAIServer,
                                                    tool_stream: bool) -> None:
    zhipuai_server.enqueue(sse_reply(chat_chunks(["Let me ", "add."], tool_calls=CALLS,
                                         tool_stream=tool_stream,
                                         reasoning_pieces=["think ", "hard"])))
    out = read(client.chat.completions.create(model="glm-4.6", messages=[], stream=True))
    assert out["text"] == "Let me add." and out["reasoning"] == "think hard"
    assert out["finish"] == "tool_calls"
    assert out["names"] == {0: "add", 1: "mul"} and out["ids"] == {0: "call_1", 1: "call_2"}
    assert json.loads(out["args"][1]) == {"a": 3, "b": 4}
    assert out["usage"].completion_tokens == 2 and out["usage"].total_tokens == 33


@pytest.mark.parametrize("framing", [{}, {"line_ending": "\r\n"}, {"split_bytes": 5}])
def test_stream_framing(client: ZhipuAiClient, zhipuai_server: ZhipuAIServer,
                        framing: dict[str, Any]) -> None:
    zhipuai_server.enqueue(sse_reply(chat_chunks(["你", "好"]), **framing))
    out = read(client.chat.completions.create(model="glm-4", messages=[], stream=True))
    assert out["text"] == "你好" and out["finish"] == "stop"


def test_error_inside_a_200_stream_raises(client: ZhipuAiClient,
                                          zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(sse_reply([*chat_chunks(["partial"])[:1], stream_error_event("sensitive")]))
    stream = client.chat.completions.create(model="glm-4", messages=[], stream=True)
    with pytest.raises(sdk_errors.APIResponseError) as info:
        read(stream)
    assert info.value.json_data == {"code": "1301", "message": ERRORS["sensitive"][2]}


@pytest.mark.parametrize(("kind", "cls"), [
    ("bad_request", sdk_errors.APIRequestFailedError),
    ("unauthorized", sdk_errors.APIAuthenticationError),
    ("concurrency", sdk_errors.APIReachLimitError),
    ("internal", sdk_errors.APIInternalError)])
def test_error_bodies_raise_the_sdks_classes(client: ZhipuAiClient, zhipuai_server: ZhipuAIServer,
                                             kind: str, cls: type[Exception]) -> None:
    zhipuai_server.enqueue(error_reply(kind, retry_after="2"))
    with pytest.raises(cls) as info:
        client.chat.completions.create(model="glm-4", messages=[])
    status, code, _ = ERRORS[kind]
    assert info.value.status_code == status  # type: ignore[attr-defined]
    assert json.loads(info.value.response.text)["error"]["code"] == code  # type: ignore[attr-defined]
    assert info.value.response.headers["retry-after"] == "2"  # type: ignore[attr-defined]


def test_embeddings_parse(client: ZhipuAiClient, zhipuai_server: ZhipuAIServer) -> None:
    zhipuai_server.enqueue(json_reply(embeddings_body([[0.1, 0.2], [0.3, 0.4]], order=[1, 0])))
    answer = client.embeddings.create(model="embedding-3", input=["a", "b"], dimensions=2)
    assert [(d.index, d.embedding) for d in answer.data] == [(1, [0.3, 0.4]), (0, [0.1, 0.2])]
    assert answer.usage.prompt_tokens == 8 and answer.model == "embedding-3"
    assert zhipuai_server.last.path == "/api/paas/v4/embeddings"
    assert zhipuai_server.last.json["dimensions"] == 2


def test_the_default_replies_parse(client: ZhipuAiClient, zhipuai_server: ZhipuAIServer) -> None:
    done = client.chat.completions.create(model="glm-4",
                                          messages=[{"role": "user", "content": "hi there"}])
    assert done.choices[0].message.content == "echo: hi there"
    out = read(client.chat.completions.create(
        model="glm-4", messages=[{"role": "user", "content": "hi there"}], stream=True))
    assert out["text"] == "echo: hi there" and out["usage"].total_tokens > 0
    vectors = client.embeddings.create(model="embedding-2", input="x")
    assert len(vectors.data[0].embedding) == 8
