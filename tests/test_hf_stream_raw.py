"""hf_inference_chat streams keep their lines, not the SDK's chunk objects, for `raw`:
`raw` is still the SDK's own chunks (equal to what a bare InferenceClient yields for
the same answer), the lines of concurrent streams do not mix, an SDK without the hook
falls back to keeping its objects, and a stream's response is still closed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from modelhub.providers.huggingface import lines as hf_lines
from modelhub.providers.huggingface.lines import SDKChunks, record_lines
from modelhub.registry import Registry
from tests.hf_server import HFServer, chat_chunks, generate_events, sse

CALLS = [{"id": "0", "name": "get_weather", "arguments": '{"city": "Paris"}'}]


@pytest.fixture(scope="module")
def server_module() -> Iterator[HFServer]:
    with HFServer() as server:
        yield server


@pytest.fixture
def server(server_module: HFServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> HFServer:
    server_module.reset()
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    return server_module


def build(server: HFServer) -> Any:
    reg = Registry()
    reg.init({"config_name": "h", "model_type": "hf_inference_chat", "model_name": "tgi",
              "base_url": server.url, "max_retries": 0})
    return reg.get("h")


def events() -> list[dict[str, Any]]:
    out = chat_chunks(["Check", "ing."], tool_calls=CALLS, reasoning=["hm"])
    out[0]["choices"][0]["delta"]["extra_field"] = "kept"  # beyond the SDK's fields
    out[0]["x_top"] = 1
    return out


def bare_chunks(server: HFServer) -> list[Any]:
    """What a bare InferenceClient yields for the same answer."""
    from huggingface_hub import InferenceClient

    server.enqueue(sse(events(), done=True))
    with InferenceClient(base_url=server.url, token="k") as client:
        return list(client.chat_completion([{"role": "user", "content": "x"}], model="tgi",
                                           stream=True))


def test_raw_is_the_sdks_own_chunks_built_from_the_lines(server: HFServer) -> None:
    from huggingface_hub import ChatCompletionStreamOutput

    expected = bare_chunks(server)
    server.enqueue(sse(events(), done=True))
    stream = build(server)("x", stream=True)
    assert "".join(stream) == "Checking."
    raw = stream.raw
    assert isinstance(raw, SDKChunks) and not raw.built  # nothing parsed yet
    assert len(raw) == len(expected) == len(events())
    assert raw == expected and list(raw) == expected and raw[-2:] == expected[-2:]
    assert all(type(c) is ChatCompletionStreamOutput for c in raw)
    assert raw[0].choices[0].delta.reasoning == "hm"
    assert raw[0].choices[0].delta["extra_field"] == "kept" and raw[0]["x_top"] == 1
    assert raw[-1].usage.prompt_tokens == 10
    # and the response read from the same stream is exact
    assert stream.reasoning == "hm" and stream.finish_reason == "tool_calls"
    assert [c.arguments for c in stream.tool_calls] == [{"city": "Paris"}]


async def test_async_streams_keep_their_own_lines(server: HFServer) -> None:
    model = build(server)
    first, second = await asyncio.gather(model.acall("one two three", stream=True),
                                         model.acall("four", stream=True))
    texts = await asyncio.gather(*(_text(s) for s in (first, second)))
    assert texts == ["echo: one two three", "echo: four"]
    for stream, text in ((first, texts[0]), (second, texts[1])):
        pieces = [c.choices[0].delta.content for c in stream.raw if c.choices]
        assert "".join(p or "" for p in pieces) == text
    # a call that does not stream, on the same client, is untouched
    assert (await model.acall("five")).text == "echo: five"


async def _text(stream: Any) -> str:
    return "".join([d async for d in stream])


def test_without_the_hook_the_sdks_objects_are_kept(server: HFServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    expected = bare_chunks(server)
    monkeypatch.setattr(hf_lines, "record_lines", lambda client: None)
    server.enqueue(sse(events(), done=True))
    stream = build(server)("x", stream=True)
    assert "".join(stream) == "Checking."
    assert type(stream.raw) is list and stream.raw == expected


def test_a_client_without_inner_post_is_left_alone() -> None:
    class Other:
        pass

    client = Other()
    record_lines(client)
    assert vars(client) == {}


def test_the_streamed_response_is_closed(server: HFServer,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2

    responses: list[Any] = []
    send = httpx2.Client.send

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        responses.append(send(self, *args, **kwargs))
        return responses[-1]

    monkeypatch.setattr(httpx2.Client, "send", spy)
    model = build(server)
    assert "".join(model("one two", stream=True)) == "echo: one two"
    stream = model("three four five", stream=True)
    next(iter(stream))
    stream.close()  # closed before its end
    assert len(responses) == 2 and all(r.is_closed for r in responses)


def test_sdk_chunks_read_the_lines_as_the_sdk_does() -> None:
    seen: list[str] = []

    def parse(payload: str) -> str:
        seen.append(payload)
        return payload.upper()

    chunks = SDKChunks(["", ": comment", 'data: {"a": 1}', "", 'data:{"b": 2} ',
                        "data: [DONE]", 'data: {"c": 3}'], parse)
    assert list(chunks) == ['{"A": 1}', '{"B": 2}'] and len(chunks) == 2
    assert chunks == ['{"A": 1}', '{"B": 2}'] and chunks != ["other"]
    assert repr(chunks) == repr(['{"A": 1}', '{"B": 2}'])
    assert seen == ['{"a": 1}', '{"b": 2}']  # parsed once, on first use


def test_generate_stream_raw_is_the_sdks_own_events(server: HFServer) -> None:
    from huggingface_hub import InferenceClient, TextGenerationStreamOutput

    server.enqueue(sse(generate_events(["a", "b"])))
    with InferenceClient(token="k") as client:
        expected = list(client.text_generation("x", model=server.url + "/generate_stream",
                                               stream=True, details=True))
    server.enqueue(sse(generate_events(["a", "b"])))
    reg = Registry()
    reg.init({"config_name": "g", "model_type": "hf_inference_generate",
              "base_url": server.url, "max_retries": 0})
    stream = reg.get("g")("x", stream=True)
    assert "".join(stream) == "ab" and stream.finish_reason == "eos_token"
    assert isinstance(stream.raw, SDKChunks) and stream.raw == expected
    assert all(type(e) is TextGenerationStreamOutput for e in stream.raw)
    assert stream.raw[-1].details.generated_tokens == 3
