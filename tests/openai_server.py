"""A loopback server that speaks the OpenAI HTTP wire protocol, for tests.

Bodies follow the API reference and the `openai` SDK's own types
(`ChatCompletion`, `ChatCompletionChunk`, `CreateEmbeddingResponse`,
`ImagesResponse`, the `{"error": {...}}` error body); streams are SSE
(`data: <json>` + blank line, ending in `data: [DONE]`). Tests script replies with
`enqueue()`; with none queued the server answers realistically by itself. The same
fixtures are read by the real `openai` SDK in test_openai_server_fidelity.py. The
server machinery is `tests.loopback`'s.
"""

from __future__ import annotations

import base64
import itertools
import struct
import time
from typing import Any

from tests import loopback
from tests.loopback import (
    LoopbackServer,
    RecordedRequest,
    Reply,
    delay_reply,
    json_reply,
    last_user_text,
    raw_reply,
    vector,
)

__all__ = ["OpenAIServer", "RecordedRequest", "Reply", "chat_chunks", "chat_completion",
           "default_reply", "delay_reply", "embedding_response", "error_reply",
           "images_response", "json_reply", "raw_reply", "sse_reply"]

_ids = itertools.count(1)


# -- reply builders ------------------------------------------------------------------------
def error_reply(status: int, message: str, type: str = "invalid_request_error",
                code: str | None = None, param: str | None = None,
                headers: dict[str, str] | None = None) -> Reply:
    """An OpenAI error body: {"error": {"message", "type", "param", "code"}}."""
    extra = dict(headers or {})
    if status == 429:
        extra.setdefault("x-ratelimit-limit-requests", "500")
        extra.setdefault("x-ratelimit-remaining-requests", "0")
    return json_reply({"error": {"message": message, "type": type, "param": param,
                                 "code": code}}, status, extra)


def sse_reply(events: list[Any], *, done: bool = True, **kwargs: Any) -> Reply:
    """An OpenAI event stream: each dict event as `data: <json>`, raw strs verbatim,
    ending in `data: [DONE]` unless `done=False`."""
    return loopback.sse_reply(events, done="[DONE]" if done else None, **kwargs)


# -- body builders (API reference shapes) ------------------------------------------------------
def _usage(prompt: int = 9, completion: int = 12) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0,
                                          "rejected_prediction_tokens": 0}}


def chat_completion(content: str | None = "Hello!", *, model: str = "gpt-4o-mini",
                    tool_calls: list[dict[str, Any]] | None = None,
                    finish_reason: str | None = None, usage: dict[str, Any] | None = None,
                    reasoning_content: str | None = None,
                    refusal: str | None = None) -> dict[str, Any]:
    """A `chat.completion` object."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal,
                               "annotations": []}
    if tool_calls:
        message["tool_calls"] = [{"id": tc["id"], "type": "function",
                                  "function": {"name": tc["name"],
                                               "arguments": tc["arguments"]}}
                                 for tc in tool_calls]
    if reasoning_content is not None:
        message["reasoning_content"] = reasoning_content
    return {"id": f"chatcmpl-{next(_ids)}", "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": finish_reason or ("tool_calls" if tool_calls
                                                            else "stop")}],
            "usage": usage or _usage(), "service_tier": "default",
            "system_fingerprint": "fp_test"}


def chat_chunks(pieces: list[str], *, model: str = "gpt-4o-mini",
                tool_calls: list[dict[str, Any]] | None = None,
                finish_reason: str | None = None, usage: dict[str, Any] | None = None,
                include_usage: bool = True,
                reasoning_pieces: list[str] | None = None) -> list[dict[str, Any]]:
    """The `chat.completion.chunk` sequence OpenAI streams for this answer."""
    cid, created = f"chatcmpl-{next(_ids)}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": cid, "object": "chat.completion.chunk",
                               "created": created, "model": model,
                               "system_fingerprint": "fp_test",
                               "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                            "finish_reason": finish}]}
        if include_usage:
            out["usage"] = None
        return out

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
    chunks += [chunk({"reasoning_content": p}) for p in reasoning_pieces or ()]
    chunks += [chunk({"content": p}) for p in pieces]
    for index, tc in enumerate(tool_calls or ()):
        chunks.append(chunk({"tool_calls": [{"index": index, "id": tc["id"], "type": "function",
                                             "function": {"name": tc["name"],
                                                          "arguments": ""}}]}))
        args = tc["arguments"]
        step = max(1, len(args) // 3)
        for i in range(0, len(args), step):
            chunks.append(chunk({"tool_calls": [{"index": index,
                                                 "function": {"arguments": args[i:i + step]}}]}))
    chunks.append(chunk({}, finish_reason or ("tool_calls" if tool_calls else "stop")))
    if include_usage:
        last = chunk({})
        last["choices"] = []
        last["usage"] = usage or _usage()
        chunks.append(last)
    return chunks


def embedding_response(vectors: list[list[float]], *, model: str = "text-embedding-3-small",
                       encoding_format: str = "float") -> dict[str, Any]:
    """A `list` of `embedding` objects; base64 is little-endian float32."""
    def encode(v: list[float]) -> Any:
        if encoding_format == "base64":
            return base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode()
        return v

    return {"object": "list", "model": model,
            "data": [{"object": "embedding", "index": i, "embedding": encode(v)}
                     for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": 3 * len(vectors), "total_tokens": 3 * len(vectors)}}


def images_response(urls: list[str] | None = None, b64: list[str] | None = None,
                    revised_prompt: str | None = None) -> dict[str, Any]:
    """An `ImagesResponse`."""
    data: list[dict[str, Any]] = [{"url": u} for u in urls or ()]
    data += [{"b64_json": b} for b in b64 or ()]
    if revised_prompt:
        for item in data:
            item["revised_prompt"] = revised_prompt
    return {"created": int(time.time()), "data": data}


# -- default behaviour ------------------------------------------------------------------------
def default_reply(req: RecordedRequest) -> Reply:
    """A realistic answer when no reply is queued."""
    body = req.json if isinstance(req.json, dict) else {}
    path = req.path
    if req.method == "POST" and path.endswith("/chat/completions"):
        text = "echo: " + last_user_text(body)
        model = body.get("model", "gpt-4o-mini")
        if body.get("stream"):
            words = text.split(" ")
            pieces = [w + " " for w in words[:-1]] + [words[-1]]
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return sse_reply(chat_chunks(pieces, model=model, include_usage=usage))
        return json_reply(chat_completion(text, model=model))
    if req.method == "POST" and path.endswith("/embeddings"):
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dims = int(body.get("dimensions") or 8)
        return json_reply(embedding_response([vector(t, dims) for t in inputs],
                                             model=body.get("model", "m"),
                                             encoding_format=body.get("encoding_format",
                                                                      "float")))
    if req.method == "POST" and path.endswith("/images/generations"):
        n = int(body.get("n") or 1)
        if body.get("response_format") == "b64_json":
            return json_reply(images_response(b64=[base64.b64encode(b"png%d" % i).decode()
                                                   for i in range(n)]))
        return json_reply(images_response([f"https://img.test/{i}.png" for i in range(n)]))
    if req.method == "GET" and path.endswith("/models"):
        return json_reply({"object": "list", "data": [
            {"id": "gpt-4o-mini", "object": "model", "created": 0, "owned_by": "test"}]})
    return error_reply(404, f"Unknown request URL: {req.method} {path}.", code="unknown_url")


# -- the server -------------------------------------------------------------------------------
class OpenAIServer(LoopbackServer):
    """Threaded HTTP/1.1 server on 127.0.0.1 speaking the OpenAI protocol (`base_url`
    ends in /v1)."""

    api_prefix = "/v1"

    def default_reply(self, req: RecordedRequest) -> Reply:
        """A realistic OpenAI answer when no reply is queued."""
        return default_reply(req)

    def start(self) -> OpenAIServer:
        """Listen on a free port and serve in a daemon thread."""
        super().start()
        return self

    def __enter__(self) -> OpenAIServer:
        return self.start()
