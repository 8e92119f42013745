"""The DashScope loopback server's fixtures, read by the real `dashscope` SDK: proof
that they are faithful to the wire protocol the SDK (and so DashScope) speaks. Every
SDK call here gets its address and key per call, as the wrappers do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dashscope
import pytest
from dashscope.api_entities.dashscope_response import ImageSynthesisResponse
from dashscope.client.base_api import BaseAsyncApi
from dashscope.utils.oss_utils import OssUtils, check_and_upload_local

from tests.dashscope_server import (
    DashScopeServer,
    embedding_answer,
    error_event,
    error_reply,
    generation_answer,
    json_reply,
    sse_reply,
    stream_events,
    task_answer,
)

CALLS = [{"id": "call_1", "name": "add", "arguments": '{"a": 1, "b": 2}'},
         {"id": "call_2", "name": "mul", "arguments": '{"a": 3, "b": 4}'}]
MESSAGES = [{"role": "user", "content": "x"}]


@pytest.fixture
def server(dashscope_server: DashScopeServer) -> DashScopeServer:
    return dashscope_server  # the session's DashScope server, reset (see conftest)


def per_call(server: DashScopeServer) -> dict[str, Any]:
    return {"api_key": "sk-fixture", "base_address": server.base_url}


def test_generation_answer_with_tool_calls_and_stop(server: DashScopeServer) -> None:
    server.enqueue(json_reply(generation_answer("", tool_calls=CALLS, reasoning="think")))
    out = dashscope.Generation.call(model="qwen-plus", messages=MESSAGES,
                                    result_format="message", **per_call(server))
    assert out.status_code == 200
    choice = out.output.choices[0]
    assert choice.finish_reason == "stop"  # "stop" beside tool_calls, as DashScope sends it
    calls = choice.message.tool_calls
    assert [(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
            for c in calls] == [("call_1", "add", {"a": 1, "b": 2}),
                                ("call_2", "mul", {"a": 3, "b": 4})]
    assert choice.message.reasoning_content == "think"
    assert out.usage.input_tokens == 12 and out.usage.total_tokens == 20
    req = server.last
    assert req.path == "/api/v1/services/aigc/text-generation/generation"
    assert req.headers["authorization"] == "Bearer sk-fixture"
    assert req.json["input"]["messages"] == MESSAGES
    assert req.json["parameters"]["result_format"] == "message"


@pytest.mark.parametrize("framing", [{}, {"compact": True}, {"line_ending": "\r\n"},
                                     {"split_bytes": 7}, {"compact": True, "split_bytes": 3}])
def test_incremental_stream_with_tool_call_fragments(server: DashScopeServer,
                                                     framing: dict[str, Any]) -> None:
    server.enqueue(sse_reply(stream_events(["Let me ", "add."], tool_calls=CALLS,
                                           reasoning_pieces=["hm"]), **framing))
    chunks = list(dashscope.Generation.call(
        model="qwen-plus", messages=MESSAGES, result_format="message", stream=True,
        incremental_output=True, **per_call(server)))
    assert all(c.status_code == 200 for c in chunks)
    finishes = [c.output.choices[0].finish_reason for c in chunks]
    assert set(finishes[:-1]) == {"null"} and finishes[-1] == "stop"
    text = "".join(c.output.choices[0].message.content for c in chunks)
    assert text == "Let me add."
    fragments = [tc for c in chunks for tc in c.output.choices[0].message.get("tool_calls") or []]
    assert [f["id"] for f in fragments if f["id"]] == ["call_1", "call_2"]
    assert all("name" not in f["function"] for f in fragments if not f["id"])
    args = {i: "".join(f["function"]["arguments"] for f in fragments if f["index"] == i)
            for i in (0, 1)}
    assert json.loads(args[1]) == {"a": 3, "b": 4}
    outs = [c.usage.output_tokens for c in chunks]
    assert outs == sorted(outs) and len(set(outs)) == len(outs)  # cumulative in every event
    assert server.last.headers["x-dashscope-sse"] == "enable"


def test_error_event_inside_200_stream(server: DashScopeServer) -> None:
    server.enqueue(sse_reply([*stream_events(["par"])[:1],
                              error_event("Throttling.RateQuota", "Requests rate limit exceeded")]))
    chunks = list(dashscope.Generation.call(
        model="qwen-plus", messages=MESSAGES, result_format="message", stream=True,
        incremental_output=True, **per_call(server)))
    assert chunks[0].status_code == 200 and chunks[0].output.choices[0].message.content == "par"
    error = chunks[-1]
    assert error.status_code == 400  # the SDK's status for any event:error
    assert (error.code, error.message) == ("Throttling.RateQuota", "Requests rate limit exceeded")


async def test_async_stream_and_error_event(server: DashScopeServer,
                                            dashscope_aio_cleanup: None) -> None:
    server.enqueue(sse_reply(stream_events(["a ", "b"], tool_calls=CALLS[:1]), compact=True))
    stream = await dashscope.AioGeneration.call(
        model="qwen-plus", messages=MESSAGES, result_format="message", stream=True,
        incremental_output=True, **per_call(server))
    chunks = [c async for c in stream]
    assert "".join(c.output.choices[0].message.content for c in chunks) == "a b"
    server.enqueue(sse_reply([error_event("DataInspectionFailed", "inappropriate")]))
    stream = await dashscope.AioGeneration.call(
        model="qwen-plus", messages=MESSAGES, result_format="message", stream=True,
        incremental_output=True, **per_call(server))
    errors = [c async for c in stream]
    assert (errors[0].status_code, errors[0].code) == (400, "DataInspectionFailed")


@pytest.mark.parametrize(("status", "code"), [
    (400, "InvalidParameter"), (401, "InvalidApiKey"), (403, "AccessDenied"),
    (429, "Throttling.RateQuota"), (500, "InternalError")])
def test_error_answers(server: DashScopeServer, status: int, code: str) -> None:
    server.enqueue(error_reply(status, code, f"failure {status}", headers={"Retry-After": "7"}))
    out = dashscope.Generation.call(model="qwen-plus", messages=MESSAGES,
                                    result_format="message", **per_call(server))
    assert (out.status_code, out.code, out.message) == (status, code, f"failure {status}")
    assert out.request_id and out.headers["Retry-After"] == "7"


async def test_async_error_answer(server: DashScopeServer, dashscope_aio_cleanup: None) -> None:
    server.enqueue(error_reply(429, "Throttling", "slow down", headers={"Retry-After": "2"}))
    out = await dashscope.AioGeneration.call(model="qwen-plus", messages=MESSAGES,
                                             result_format="message", **per_call(server))
    assert (out.status_code, out.code) == (429, "Throttling")
    assert out.headers["Retry-After"] == "2"


def test_multimodal_stream_content_lists(server: DashScopeServer) -> None:
    server.enqueue(sse_reply(stream_events(["A cat", "."], tool_calls=CALLS[:1],
                                           multimodal=True)))
    chunks = list(dashscope.MultiModalConversation.call(
        model="qwen-vl-max", stream=True, incremental_output=True, result_format="message",
        messages=[{"role": "user", "content": [{"image": "https://x/cat.png"},
                                               {"text": "what?"}]}], **per_call(server)))
    contents = [c.output.choices[0].message.content for c in chunks]
    assert contents[0] == [{"text": "A cat"}] and [] in contents  # [] in tool-call events
    assert server.last.path.endswith("/services/aigc/multimodal-generation/generation")
    server.enqueue(json_reply(generation_answer("A cat.", multimodal=True)))
    out = dashscope.MultiModalConversation.call(model="qwen-vl-max", messages=MESSAGES,
                                                **per_call(server))
    assert out.output.choices[0].message.content == [{"text": "A cat."}]


def test_text_embedding(server: DashScopeServer) -> None:
    server.enqueue(json_reply(embedding_answer([[0.5, 1.0], [2.0, 3.0]], reverse=True)))
    out = dashscope.TextEmbedding.call(model="text-embedding-v3", input=["a", "b"],
                                       dimension=2, **per_call(server))
    assert [e["text_index"] for e in out.output["embeddings"]] == [1, 0]
    assert out.usage["total_tokens"] == 6
    assert server.last.json["input"] == {"texts": ["a", "b"]}
    assert server.last.json["parameters"]["dimension"] == 2


def test_image_synthesis_task_and_fetch(server: DashScopeServer) -> None:
    created = dashscope.ImageSynthesis.async_call(model="wanx-v1", prompt="a red bicycle", n=2,
                                                  **per_call(server))
    assert created.status_code == 200 and created.output.task_status == "PENDING"
    assert server.last.headers["x-dashscope-async"] == "enable"
    task_id = created.output.task_id
    seen = []
    for _ in range(2):
        got = BaseAsyncApi.fetch(task_id, api_key="sk-fixture", base_address=server.base_url)
        seen.append(ImageSynthesisResponse.from_api_response(got))
    assert [s.output.task_status for s in seen] == ["RUNNING", "SUCCEEDED"]
    assert [r.url for r in seen[-1].output.results] == [
        f"https://img.test/{task_id}/0.png", f"https://img.test/{task_id}/1.png"]
    assert seen[-1].usage.image_count == 2
    failed = task_answer("t-f", "FAILED", code="InvalidParameter", message="bad size")
    server.enqueue(json_reply(failed))
    got = BaseAsyncApi.fetch("t-f", api_key="sk-fixture", base_address=server.base_url)
    assert (got.output["task_status"], got.output["code"]) == ("FAILED", "InvalidParameter")


def test_upload_policy_and_upload(server: DashScopeServer, tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG fake")
    policy = OssUtils.get_upload_certificate(model="qwen-vl-max", api_key="sk-fixture",
                                             base_address=server.base_url)
    assert policy.status_code == 200 and policy.output["upload_host"] == server.url + "/oss"
    assert server.last.query == {"action": "getPolicy", "model": "qwen-vl-max"}
    uploaded, url, _ = check_and_upload_local("qwen-vl-max", f"file://{image}", "sk-fixture",
                                              policy.output)
    assert uploaded and url == "oss://dashscope-instant/abc/2030-01-01/cat.png"
    assert b"\x89PNG fake" in server.uploads[-1].body
    assert "authorization" not in server.uploads[-1].headers  # the key never goes to OSS
