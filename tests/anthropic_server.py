"""A loopback server that speaks Anthropic's Messages API wire protocol, for tests.

`POST /v1/messages` with the `x-api-key` (or `Authorization: Bearer`) and
`anthropic-version` headers. Bodies follow the API reference and the `anthropic` SDK's
own types (`Message`, the `Raw*Event` stream events, the `{"type": "error", "error":
{...}}` error body); streams are SSE with `event:` names: `message_start`,
`content_block_start` / `content_block_delta` / `content_block_stop` per block, `ping`,
`message_delta` (stop reason and cumulative output usage), `message_stop`, and an
`error` event inside a 200 stream. test_anthropic_server_fidelity.py has the real SDK
read every fixture. The server machinery is `tests.loopback`'s.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.loopback import LoopbackServer, RecordedRequest, Reply, json_reply, pieces_reply

__all__ = ["AnthropicServer", "anthropic_server", "anthropic_server_session", "error_event", "error_reply", "message", "redacted_thinking",
           "sse_events", "stream_events", "stream_reply", "text", "thinking", "tool_use"]

_ids = itertools.count(1)
MODEL = "claude-sonnet-4-5"

# The status each error type comes with (API reference, "Errors").
ERROR_STATUS = {"invalid_request_error": 400, "authentication_error": 401,
                "billing_error": 402, "permission_error": 403, "not_found_error": 404,
                "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
                "overloaded_error": 529}


# -- content blocks -----------------------------------------------------------------------
def text(value: str) -> dict[str, Any]:
    """A `text` block."""
    return {"type": "text", "text": value, "citations": None}


def tool_use(id: str, name: str, input: dict[str, Any]) -> dict[str, Any]:
    """A `tool_use` block."""
    return {"type": "tool_use", "id": id, "name": name, "input": input}


def thinking(value: str, signature: str = "sig-EqQBCkYIBRgC") -> dict[str, Any]:
    """A `thinking` block with its signature."""
    return {"type": "thinking", "thinking": value, "signature": signature}


def redacted_thinking(data: str = "EmwKAhgBEgy3va3pzix") -> dict[str, Any]:
    """A `redacted_thinking` block (encrypted reasoning)."""
    return {"type": "redacted_thinking", "data": data}


def _usage(input_tokens: int = 25, output_tokens: int = 15) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "service_tier": "standard"}


# -- answers ----------------------------------------------------------------------------------
def message(content: list[dict[str, Any]], *, stop_reason: str | None = None,
            stop_sequence: str | None = None, model: str = MODEL,
            usage: dict[str, Any] | None = None) -> dict[str, Any]:
    """A `message` object."""
    if stop_reason is None:
        stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
    return {"id": f"msg_{next(_ids):024d}", "type": "message", "role": "assistant",
            "model": model, "content": content, "stop_reason": stop_reason,
            "stop_sequence": stop_sequence, "usage": usage or _usage()}


def _pieces(value: str, n: int = 3) -> list[str]:
    step = max(1, -(-len(value) // n))
    return [value[i:i + step] for i in range(0, len(value), step)] or [""]


def stream_events(content: list[dict[str, Any]], *, stop_reason: str | None = None,
                  stop_sequence: str | None = None, model: str = MODEL,
                  input_tokens: int = 25, output_tokens: int = 15,
                  ping: bool = True) -> list[dict[str, Any]]:
    """The event sequence the API streams for this answer: each block started empty,
    filled by deltas (text in pieces, tool input as partial JSON, thinking then its
    signature), stopped; usage input at message_start, cumulative output at
    message_delta."""
    done = message(content, stop_reason=stop_reason, stop_sequence=stop_sequence, model=model)
    start = {**done, "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": _usage(input_tokens, 1)}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(content):
        kind = block["type"]
        deltas: list[dict[str, Any]] = []
        if kind == "text":
            first: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"])]
        elif kind == "tool_use":
            first = {**block, "input": {}}
            args = json.dumps(block["input"])
            deltas = [{"type": "input_json_delta", "partial_json": ""}]
            deltas += [{"type": "input_json_delta", "partial_json": p} for p in _pieces(args)]
        elif kind == "thinking":
            first = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": p}
                      for p in _pieces(block["thinking"])]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        else:  # redacted_thinking and others arrive whole
            first = block
        events.append({"type": "content_block_start", "index": index, "content_block": first})
        if ping and index == 0:
            events.append({"type": "ping"})
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    events.append({"type": "message_delta",
                   "delta": {"stop_reason": done["stop_reason"],
                             "stop_sequence": stop_sequence},
                   "usage": {"output_tokens": output_tokens}})
    events.append({"type": "message_stop"})
    return events


def error_event(error_type: str, message: str) -> dict[str, Any]:
    """An `error` event, as the API sends inside a 200 stream."""
    return {"type": "error", "error": {"type": error_type, "message": message}}


def sse_events(events: list[dict[str, Any]]) -> list[str]:
    """Events framed as the API frames them: `event: <type>` then `data: <json>`."""
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events]


def stream_reply(events: list[dict[str, Any]], *, split_bytes: int | None = None) -> Reply:
    """A `text/event-stream` answer carrying these events."""
    return pieces_reply(sse_events(events), "text/event-stream", split_bytes=split_bytes,
                        headers={"cache-control": "no-cache", "request-id": "req_stream"})


def error_reply(status: int, message: str, error_type: str | None = None,
                headers: dict[str, str] | None = None) -> Reply:
    """An error answer: `{"type": "error", "error": {"type", "message"}, "request_id"}`."""
    if error_type is None:
        error_type = next((t for t, s in ERROR_STATUS.items() if s == status), "api_error")
    extra = {"request-id": "req_err", **(headers or {})}
    if status == 429:
        extra.setdefault("anthropic-ratelimit-requests-remaining", "0")
    return json_reply({"type": "error", "error": {"type": error_type, "message": message},
                       "request_id": "req_err"}, status, extra)


# -- default behaviour ------------------------------------------------------------------------
def _last_user_text(body: Any) -> str:
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, list):
                return " ".join(str(b.get("text", "")) for b in content if b.get("type") == "text")
            return str(content)
    return ""


def default_reply(req: RecordedRequest) -> Reply:
    """A realistic answer when no reply is queued: the API's own checks of headers and
    body, then an echo of the last user text."""
    if req.method != "POST" or req.path != "/v1/messages":
        return error_reply(404, f"Not found: {req.method} {req.path}", "not_found_error")
    if "anthropic-version" not in req.headers:
        return error_reply(400, "anthropic-version: header is required")
    if not (req.headers.get("x-api-key") or req.headers.get("authorization")):
        return error_reply(401, "x-api-key header is required", "authentication_error")
    body = req.json if isinstance(req.json, dict) else {}
    for field in ("model", "max_tokens", "messages"):
        if field not in body:
            return error_reply(400, f"{field}: Field required")
    if any(m.get("role") == "system" for m in body["messages"]):
        return error_reply(400, "messages: Unexpected role \"system\". The Messages API "
                                "accepts a top-level `system` parameter, not \"system\" as "
                                "an input message role.")
    answer = [text("echo: " + _last_user_text(body))]
    if body.get("stream"):
        return stream_reply(stream_events(answer, model=body["model"]))
    return json_reply(message(answer, model=body["model"]), headers={"request-id": "req_1"})


# -- the server -------------------------------------------------------------------------------
class AnthropicServer(LoopbackServer):
    """Threaded HTTP/1.1 server on 127.0.0.1 speaking the Messages API (`base_url` is
    the bare host, as the SDK's `base_url` is)."""

    def default_reply(self, req: RecordedRequest) -> Reply:
        """A realistic Messages API answer when no reply is queued."""
        return default_reply(req)

    def start(self) -> AnthropicServer:
        """Listen on a free port and serve in a daemon thread."""
        super().start()
        return self

    def __enter__(self) -> AnthropicServer:
        return self.start()


# -- fixtures (import both into a test module to use them) -----------------------------------
@pytest.fixture(scope="module")
def anthropic_server_session() -> Iterator[AnthropicServer]:
    """One server for the test module."""
    with AnthropicServer() as server:
        yield server


@pytest.fixture
def anthropic_server(anthropic_server_session: AnthropicServer) -> AnthropicServer:
    """The server, with no queued replies or recorded requests."""
    anthropic_server_session.reset()
    return anthropic_server_session
