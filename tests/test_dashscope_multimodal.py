"""dashscope_multimodal on the real SDK against the loopback DashScope server: image,
audio and video parts, local files uploaded at the config's address, content lists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.chat import ChatWrapperBase
from tests.dashscope_server import (
    MULTIMODAL,
    DashScopeServer,
    error_event,
    error_reply,
    generation_answer,
    json_reply,
    sse_reply,
    stream_events,
)

CALLS = [{"id": "call_1", "name": "zoom", "arguments": '{"x": 1}'},
         {"id": "call_2", "name": "crop", "arguments": '{"y": 2}'}]
KEY = "sk-multimodal-test-key-987654"


@pytest.fixture
def server(dashscope_server: DashScopeServer) -> DashScopeServer:
    return dashscope_server  # the session's DashScope server, reset (see conftest)


def model(server: DashScopeServer, **extra: Any) -> ChatWrapperBase:
    reg = Registry()
    reg.init({"config_name": "vl", "model_type": "dashscope_multimodal",
              "model_name": "qwen-vl-max", "api_key": KEY, "base_url": server.base_url,
              **extra})
    wrapper = reg.get("vl")
    assert isinstance(wrapper, ChatWrapperBase)
    return wrapper


def sent(server: DashScopeServer) -> list[dict[str, Any]]:
    req = [r for r in server.requests if r.path.endswith(MULTIMODAL)][-1]
    messages: list[dict[str, Any]] = req.json["input"]["messages"]
    return messages


def test_neutral_parts_become_dashscope_parts(server: DashScopeServer) -> None:
    resp = model(server)([
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
            {"type": "video", "video": ["https://x/f1.jpg", "https://x/f2.jpg"]}]}])
    assert resp.text == "echo: What is this?"  # content [{"text": ...}] read back
    assert sent(server) == [
        {"role": "system", "content": [{"text": "Be brief."}]},
        {"role": "user", "content": [
            {"text": "What is this?"}, {"image": "https://x/cat.png"},
            {"audio": "data:audio/wav;base64,UklGRg=="},
            {"video": ["https://x/f1.jpg", "https://x/f2.jpg"]}]}]
    assert server.last.headers["authorization"] == f"Bearer {KEY}"


def test_local_files_uploaded_at_the_configs_address(server: DashScopeServer,
                                                     tmp_path: Path) -> None:
    image, audio = tmp_path / "cat.png", tmp_path / "meow.wav"
    image.write_bytes(b"\x89PNG cat")
    audio.write_bytes(b"RIFF meow")
    messages = [{"role": "user", "content": [{"image": f"file://{image}"},
                                             {"audio": str(audio)}, {"text": "describe"}]}]
    model(server)(messages)
    assert [p for p in sent(server)[0]["content"]] == [
        {"image": "oss://dashscope-instant/abc/2030-01-01/cat.png"},
        {"audio": "oss://dashscope-instant/abc/2030-01-01/meow.wav"}, {"text": "describe"}]
    policy = [r for r in server.requests if r.path.endswith("/uploads")]
    assert len(policy) == 1 and policy[0].headers["authorization"] == f"Bearer {KEY}"
    assert [u.body.count(b"cat") + u.body.count(b"meow") > 0 for u in server.uploads] == [True] * 2
    assert server.last.headers["x-dashscope-ossresourceresolve"] == "enable"
    assert messages[0]["content"][0] == {"image": f"file://{image}"}  # caller's list untouched


async def test_async_upload_and_stream(server: DashScopeServer, tmp_path: Path,
                                       dashscope_aio_cleanup: None) -> None:
    image = tmp_path / "dog.jpg"
    image.write_bytes(b"jpeg dog")
    events = stream_events(["A dog", "."], tool_calls=CALLS, multimodal=True)
    server.enqueue(sse_reply(events, compact=True), path=MULTIMODAL)
    stream = await model(server).acall(
        [{"role": "user", "content": [{"image": str(image)}, {"text": "what?"}]}], stream=True)
    assert [d async for d in stream] == ["A dog", "."]
    assert [(c.name, c.arguments) for c in stream.tool_calls] == [("zoom", {"x": 1}),
                                                                  ("crop", {"y": 2})]
    assert stream.usage is not None and stream.usage.output_tokens == len(events)
    assert sent(server)[0]["content"][0] == {"image": "oss://dashscope-instant/abc/2030-01-01/dog.jpg"}


def test_stream_with_empty_content_in_tool_call_events(server: DashScopeServer) -> None:
    server.enqueue(sse_reply(stream_events([], tool_calls=CALLS[:1], multimodal=True,
                                           finish_reason="tool_calls")))
    stream = model(server)("zoom in", stream=True, tools=[{"type": "function", "function": {
        "name": "zoom", "parameters": {"type": "object", "properties": {}}}}])
    assert list(stream) == [] and not stream.text
    assert stream.finish_reason == "tool_calls" and stream.tool_calls[0].arguments == {"x": 1}


def test_whole_answer_with_reasoning(server: DashScopeServer) -> None:
    server.enqueue(json_reply(generation_answer("A cat.", reasoning="looks feline",
                                                multimodal=True)))
    resp = model(server)([{"role": "user", "content": [{"image": "https://x/c.png"}]}])
    assert resp.text == "A cat." and resp.reasoning == "looks feline"


def test_missing_local_file_is_a_clear_error(server: DashScopeServer, tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidRequestError, match="not exists"):
        model(server)([{"role": "user", "content": [{"image": f"file://{tmp_path}/no.png"}]}])


def test_upload_policy_refused_maps_the_error(server: DashScopeServer, tmp_path: Path) -> None:
    image = tmp_path / "x.png"
    image.write_bytes(b"x")
    server.enqueue(error_reply(401, "InvalidApiKey", "Invalid API-key provided."),
                   path="/uploads")
    with pytest.raises(errors.AuthenticationError):
        model(server, max_retries=0)([{"role": "user", "content": [{"image": str(image)}]}])


def test_error_inside_200_stream(server: DashScopeServer) -> None:
    server.enqueue(sse_reply([stream_events(["A"], multimodal=True)[0],
                              error_event("InvalidParameter.DataInspection", "bad media")]))
    with pytest.raises(errors.BadRequestError) as info:
        list(model(server)("x", stream=True))
    assert info.value.partial_text == "A"


def test_agentscope_messages_with_urls_keep_them(server: DashScopeServer) -> None:
    class Msg:
        def __init__(self, name: str, content: Any, role: str, url: Any = None) -> None:
            self.name, self.content, self.role, self.url = name, content, role, url

    model(server)([Msg("user", "look", "user", url="https://x/a.mp3"),
                   Msg("user", [{"type": "image", "url": "https://x/b.png"}], "user")])
    assert sent(server) == [{"role": "user", "content": [{"text": "look"},
                                                         {"audio": "https://x/a.mp3"}]},
                            {"role": "user", "content": [{"image": "https://x/b.png"}]}]


def test_stop_response_format_and_parallel_tool_calls(server: DashScopeServer) -> None:
    image = [{"role": "user", "content": [{"image": "https://x/c.png"}, {"text": "json?"}]}]
    server.enqueue(json_reply(generation_answer('{"animal": "cat"}', multimodal=True)))
    resp = model(server)(image, stop=["END"], response_format={"type": "json_object"})
    params = server.last.json["parameters"]
    assert params["stop"] == ["END"] and params["response_format"] == {"type": "json_object"}
    assert resp.parsed == {"animal": "cat"} and resp.finish_reason == "stop"
    server.enqueue(json_reply(generation_answer("", tool_calls=CALLS, multimodal=True)))
    resp = model(server)(image, tools=[{"type": "function", "function": {
        "name": n, "parameters": {"type": "object", "properties": {}}}} for n in ("zoom", "crop")])
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("call_1", "zoom", {"x": 1}), ("call_2", "crop", {"y": 2})]
    assert [t["function"]["name"] for t in server.last.json["parameters"]["tools"]] == \
        ["zoom", "crop"]
