"""The loopback Anthropic server's fixtures, read by the real `anthropic` SDK: proof
that they are faithful to the Messages API wire the SDK (and so Anthropic) speaks."""

from __future__ import annotations

import anthropic
import pytest

from tests.anthropic_server import (  # noqa: F401 (fixtures)
    AnthropicServer,
    anthropic_server,
    anthropic_server_session,
    error_event,
    error_reply,
    message,
    redacted_thinking,
    stream_events,
    stream_reply,
    text,
    thinking,
    tool_use,
)
from tests.loopback import json_reply

CONTENT = [thinking("2+2 is 4."), redacted_thinking(), text("Let me add."),
           tool_use("toolu_01", "add", {"a": 1, "b": 2}), tool_use("toolu_02", "mul", {"a": 3})]


@pytest.fixture
def server(anthropic_server: AnthropicServer) -> AnthropicServer:  # noqa: F811
    return anthropic_server


@pytest.fixture
def client(server: AnthropicServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=server.url, max_retries=0)


def test_message_with_every_block_parses(client: anthropic.Anthropic,
                                         server: AnthropicServer) -> None:
    server.enqueue(json_reply(message(CONTENT)))
    done = client.messages.create(model="m", max_tokens=10,
                                  messages=[{"role": "user", "content": "x"}])
    assert isinstance(done, anthropic.types.Message)
    kinds = [type(b).__name__ for b in done.content]
    assert kinds == ["ThinkingBlock", "RedactedThinkingBlock", "TextBlock", "ToolUseBlock",
                     "ToolUseBlock"]
    assert done.content[0].signature == "sig-EqQBCkYIBRgC"  # type: ignore[union-attr]
    assert done.content[3].input == {"a": 1, "b": 2}  # type: ignore[union-attr]
    assert done.stop_reason == "tool_use" and done.usage.input_tokens == 25
    req = server.last
    assert req.method == "POST" and req.path == "/v1/messages"
    assert "anthropic-version" in req.headers
    assert req.json == {"model": "m", "max_tokens": 10,
                        "messages": [{"role": "user", "content": "x"}]}


@pytest.mark.parametrize("split", [None, 7])
def test_stream_events_parse_and_accumulate(client: anthropic.Anthropic,
                                            server: AnthropicServer, split: int | None) -> None:
    server.enqueue(stream_reply(stream_events(CONTENT, input_tokens=30, output_tokens=42),
                                split_bytes=split))
    events = list(client.messages.create(model="m", max_tokens=10, messages=[], stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert "ping" not in kinds  # the SDK skips pings
    deltas = {type(e.delta).__name__ for e in events if e.type == "content_block_delta"}
    assert deltas == {"ThinkingDelta", "SignatureDelta", "TextDelta", "InputJSONDelta"}
    assert events[0].message.usage.input_tokens == 30  # type: ignore[union-attr]
    assert events[-2].usage.output_tokens == 42  # type: ignore[union-attr]
    assert events[-2].delta.stop_reason == "tool_use"  # type: ignore[union-attr]


def test_sdk_stream_helper_rebuilds_the_message(client: anthropic.Anthropic,
                                                server: AnthropicServer) -> None:
    server.enqueue(stream_reply(stream_events(CONTENT)))
    with client.messages.stream(model="m", max_tokens=10, messages=[]) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == [b["type"] for b in CONTENT]
    assert final.content[0].thinking == "2+2 is 4."  # type: ignore[union-attr]
    assert final.content[0].signature == "sig-EqQBCkYIBRgC"  # type: ignore[union-attr]
    assert final.content[4].input == {"a": 3}  # type: ignore[union-attr]
    assert final.usage.output_tokens == 15


def test_error_event_inside_200_stream_raises(client: anthropic.Anthropic,
                                              server: AnthropicServer) -> None:
    events = [*stream_events([text("partial")])[:3], error_event("overloaded_error", "Overloaded")]
    server.enqueue(stream_reply(events))
    with pytest.raises(anthropic.APIStatusError, match="Overloaded") as info:
        list(client.messages.create(model="m", max_tokens=10, messages=[], stream=True))
    assert info.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


@pytest.mark.parametrize(("status", "cls"), [
    (400, anthropic.BadRequestError), (401, anthropic.AuthenticationError),
    (403, anthropic.PermissionDeniedError), (404, anthropic.NotFoundError),
    (429, anthropic.RateLimitError), (500, anthropic.InternalServerError),
    (529, anthropic.APIStatusError)])
def test_error_bodies_map_to_sdk_exceptions(client: anthropic.Anthropic,
                                            server: AnthropicServer, status: int,
                                            cls: type) -> None:
    server.enqueue(error_reply(status, f"failure {status}", headers={"retry-after": "7"}))
    with pytest.raises(cls) as info:
        client.messages.create(model="m", max_tokens=10, messages=[])
    err = info.value
    assert err.status_code == status and f"failure {status}" in str(err)  # type: ignore[attr-defined]
    assert err.response.headers["retry-after"] == "7"  # type: ignore[attr-defined]
    assert err.body["type"] == "error"  # type: ignore[attr-defined]


def test_default_server_checks_headers_and_body(server: AnthropicServer) -> None:
    client = anthropic.Anthropic(api_key="k", base_url=server.url, max_retries=0)
    out = client.messages.create(model="m", max_tokens=5, system="be brief",
                                 messages=[{"role": "user", "content": "hi"}])
    assert out.content[0].text == "echo: hi"  # type: ignore[union-attr]
    with pytest.raises(anthropic.BadRequestError, match="system"):
        client.messages.create(model="m", max_tokens=5,
                               messages=[{"role": "system", "content": "x"}])  # type: ignore[misc,list-item]


async def test_async_client_stream(server: AnthropicServer) -> None:
    client = anthropic.AsyncAnthropic(api_key="k", base_url=server.url, max_retries=0)
    stream = await client.messages.create(model="m", max_tokens=5, stream=True,
                                          messages=[{"role": "user", "content": "a b"}])
    events = [e async for e in stream]
    assert "".join(e.delta.text for e in events  # type: ignore[union-attr]
                   if e.type == "content_block_delta") == "echo: a b"
    await client.close()
