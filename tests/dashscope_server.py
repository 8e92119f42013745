"""A loopback server that speaks DashScope's native HTTP protocol, for tests.

Paths are the SDK's (`/api/v1/services/aigc/text-generation/generation`,
`.../multimodal-generation/generation`, `.../embeddings/text-embedding/text-embedding`,
`.../text2image/image-synthesis`, `/api/v1/tasks/{id}`, `/api/v1/uploads`), bodies
the API reference's (`{"output", "usage", "request_id"}`; errors `{"code", "message",
"request_id"}` with the HTTP status, `Retry-After` on 429), and streams DashScope's SSE
with every quirk of the real wire:

- lines written `id:1`, `event:result`, `data:{...}` with no space after the colon, and
  a comment line `:HTTP_STATUS/200` in every event;
- optionally no blank line between events (`compact=True`);
- `finish_reason` the string `"null"` until the last event; usage cumulative in every
  event; `finish_reason: "stop"` beside `tool_calls`;
- streamed tool-call fragments with `"id": ""` and no name after the first;
- multimodal content as a list of `{"text": ...}`, `[]` in tool-call events;
- an error as `event:error` (with `:HTTP_STATUS/4xx`) inside an HTTP 200.

The real `dashscope` SDK reads every fixture in test_dashscope_server_fidelity.py.
Tests script replies with `enqueue()`; with none queued the server answers by itself
(an echo for chat, vectors for embeddings, a task that succeeds after two polls).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.loopback import LoopbackServer, RecordedRequest, Reply, json_reply, pieces_reply

__all__ = [
    "EMBEDDING",
    "GENERATION",
    "IMAGES",
    "MULTIMODAL",
    "DashScopeServer",
    "RecordedRequest",
    "Reply",
    "embedding_answer",
    "error_event",
    "error_reply",
    "generation_answer",
    "json_reply",
    "sse_reply",
    "stream_events",
    "task_answer",
    "usage",
]

GENERATION = "/services/aigc/text-generation/generation"
MULTIMODAL = "/services/aigc/multimodal-generation/generation"
EMBEDDING = "/services/embeddings/text-embedding/text-embedding"
IMAGES = "/services/aigc/text2image/image-synthesis"

_ids = itertools.count(1)


def request_id() -> str:
    """A request id of DashScope's form."""
    return f"7c1c4e0b-{next(_ids):04d}-9e5b-a8f0-1d2b3c4d5e6f"


def usage(input_tokens: int = 12, output_tokens: int = 8, **extra: Any) -> dict[str, Any]:
    """A `usage` object (Generation's fields; `extra` for details)."""
    return {"input_tokens": input_tokens, "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens, **extra}


def _content(text: str, multimodal: bool) -> Any:
    if multimodal:
        return [{"text": text}] if text else []
    return text


def _calls(tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"index": i, "id": tc["id"], "type": "function",
             "function": {"name": tc["name"], "arguments": tc["arguments"]}}
            for i, tc in enumerate(tool_calls)]


def generation_answer(content: str = "Hello!", *, tool_calls: list[dict[str, Any]] | None = None,
                      reasoning: str | None = None, finish_reason: str = "stop",
                      usage_: dict[str, Any] | None = None,
                      multimodal: bool = False) -> dict[str, Any]:
    """A whole answer with result_format="message" (`finish_reason` is "stop" beside
    tool calls unless told otherwise, as DashScope sends it)."""
    message: dict[str, Any] = {"role": "assistant", "content": _content(content, multimodal)}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    if tool_calls:
        message["tool_calls"] = _calls(tool_calls)
    return {"output": {"choices": [{"finish_reason": finish_reason, "message": message}]},
            "usage": usage_ or usage(), "request_id": request_id()}


def stream_events(pieces: list[str], *, tool_calls: list[dict[str, Any]] | None = None,
                  reasoning_pieces: list[str] | None = None, finish_reason: str | None = None,
                  multimodal: bool = False, input_tokens: int = 12) -> list[dict[str, Any]]:
    """The events of an incremental stream: reasoning, text, tool-call fragments, then a
    last event with the finish reason; usage cumulative in each."""
    rid = request_id()
    events: list[dict[str, Any]] = []

    def event(message: dict[str, Any], finish: str = "null") -> None:
        out = len(events) + 1
        events.append({"output": {"choices": [{"message": {"role": "assistant", **message},
                                               "finish_reason": finish}]},
                       "usage": usage(input_tokens, out), "request_id": rid})

    for piece in reasoning_pieces or ():
        event({"content": _content("", multimodal), "reasoning_content": piece})
    for piece in pieces:
        event({"content": _content(piece, multimodal)})
    for index, tc in enumerate(tool_calls or ()):
        args = tc["arguments"]
        step = max(1, len(args) // 3)
        chunks = [args[i:i + step] for i in range(0, len(args), step)] or [""]
        event({"content": _content("", multimodal), "tool_calls": [{
            "index": index, "id": tc["id"], "type": "function",
            "function": {"name": tc["name"], "arguments": chunks[0]}}]})
        for chunk in chunks[1:]:
            event({"content": _content("", multimodal), "tool_calls": [{
                "index": index, "id": "", "type": "function",
                "function": {"arguments": chunk}}]})
    event({"content": _content("", multimodal)}, finish_reason or "stop")
    return events


def error_event(code: str, message: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    """An `event:error` for `sse_reply` (its status goes in the comment line)."""
    return status, {"code": code, "message": message, "request_id": request_id()}


def sse_reply(events: list[Any], *, compact: bool = False, split_bytes: int | None = None,
              line_ending: str = "\n") -> Reply:
    """DashScope's event stream: `id:`, `event:result`, `:HTTP_STATUS/200`, `data:`
    lines, no space after any colon; an `error_event` as `event:error`; raw strs
    verbatim. `compact` leaves out the blank line between events."""
    nl = line_ending
    parts = []
    for i, item in enumerate(events, 1):
        if isinstance(item, str):
            parts.append(item)
            continue
        kind, status, body = ("result", 200, item) if isinstance(item, dict) \
            else ("error", *item)
        parts.append(f"id:{i}{nl}event:{kind}{nl}:HTTP_STATUS/{status}{nl}"
                     f"data:{json.dumps(body, ensure_ascii=False)}{nl}" + ("" if compact else nl))
    return pieces_reply(parts, "text/event-stream;charset=UTF-8", split_bytes=split_bytes,
                        headers={"cache-control": "no-cache", "x-dashscope-call-gateway": "true"})


def error_reply(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                ) -> Reply:
    """An error answer: `{"code", "message", "request_id"}` with the HTTP status."""
    return json_reply({"code": code, "message": message, "request_id": request_id()}, status,
                      headers)


def embedding_answer(vectors: list[list[float]], *, reverse: bool = False) -> dict[str, Any]:
    """A TextEmbedding answer (`reverse`: items out of input order, by `text_index`)."""
    items = [{"text_index": i, "embedding": v} for i, v in enumerate(vectors)]
    return {"output": {"embeddings": items[::-1] if reverse else items},
            "usage": {"total_tokens": 3 * len(vectors)}, "request_id": request_id()}


def task_answer(task_id: str, status: str, urls: list[str] | None = None,
                failed: list[dict[str, str]] | None = None, code: str | None = None,
                message: str | None = None) -> dict[str, Any]:
    """A task as created or fetched: PENDING, RUNNING, SUCCEEDED (with results and
    image_count usage) or FAILED (with its code and message)."""
    output: dict[str, Any] = {"task_id": task_id, "task_status": status}
    body: dict[str, Any] = {"request_id": request_id(), "output": output}
    if status == "SUCCEEDED":
        results: list[dict[str, Any]] = [{"url": u, "orig_prompt": "p"} for u in urls or ()]
        results += failed or []
        output["results"] = results
        output["task_metrics"] = {"TOTAL": len(results), "SUCCEEDED": len(urls or ()),
                                  "FAILED": len(failed or ())}
        body["usage"] = {"image_count": len(urls or ())}
    elif status == "FAILED":
        output.update(code=code or "InternalError", message=message or "task failed")
    return body


# -- default behaviour ------------------------------------------------------------------
def _last_user_text(body: Any) -> str:
    messages = ((body or {}).get("input") or {}).get("messages") or []
    for msg in reversed(messages):
        if msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, list):
                return " ".join(str(p["text"]) for p in content if "text" in p)
            return str(content)
    return ""


def _vector(text: str, dims: int) -> list[float]:
    return [float(((sum(map(ord, text)) + i * 7) % 97) / 97) for i in range(dims)]


class DashScopeServer(LoopbackServer):
    """Threaded HTTP/1.1 server on 127.0.0.1 speaking DashScope's native protocol
    (`base_url` ends in /api/v1)."""

    api_prefix = "/api/v1"

    def __init__(self) -> None:
        super().__init__()
        self.task_steps = ["RUNNING", "SUCCEEDED"]  # what each poll of a new task sees
        self._tasks: dict[str, list[str]] = {}
        self._images: dict[str, int] = {}
        self.uploads: list[RecordedRequest] = []

    def reset(self) -> None:
        """Forget queued replies, recorded requests, tasks and uploads."""
        super().reset()
        self.task_steps = ["RUNNING", "SUCCEEDED"]
        self._tasks.clear()
        self._images.clear()
        self.uploads.clear()

    def default_reply(self, req: RecordedRequest) -> Reply:
        """A realistic DashScope answer when no reply is queued."""
        body = req.json if isinstance(req.json, dict) else {}
        path = req.path.rstrip("/")
        stream = req.headers.get("x-dashscope-sse") == "enable"
        if req.method == "POST" and path.endswith((GENERATION, MULTIMODAL)):
            multimodal = path.endswith(MULTIMODAL)
            text = "echo: " + _last_user_text(body)
            if stream:
                words = text.split(" ")
                pieces = [w + " " for w in words[:-1]] + [words[-1]]
                return sse_reply(stream_events(pieces, multimodal=multimodal))
            return json_reply(generation_answer(text, multimodal=multimodal))
        if req.method == "POST" and path.endswith(EMBEDDING):
            texts = (body.get("input") or {}).get("texts") or []
            dims = int((body.get("parameters") or {}).get("dimension") or 8)
            return json_reply(embedding_answer([_vector(t, dims) for t in texts]))
        if req.method == "POST" and path.endswith(IMAGES):
            if req.headers.get("x-dashscope-async") != "enable":
                return error_reply(403, "AccessDenied", "current user api does not support "
                                                        "synchronous calls")
            task_id = f"task-{next(_ids)}"
            self._tasks[task_id] = list(self.task_steps)
            self._images[task_id] = int((body.get("parameters") or {}).get("n", 1))
            return json_reply(task_answer(task_id, "PENDING"))
        if req.method == "GET" and "/tasks/" in path:
            task_id = path.rsplit("/", 1)[1]
            steps = self._tasks.get(task_id)
            if steps is None:
                return error_reply(404, "NotFound", f"task {task_id} not found")
            status = steps.pop(0) if len(steps) > 1 else steps[0]
            n = self._images[task_id]
            return json_reply(task_answer(task_id, status,
                                          [f"https://img.test/{task_id}/{i}.png"
                                           for i in range(n)]))
        if req.method == "GET" and path.endswith("/uploads"):
            return json_reply({"request_id": request_id(), "data": {
                "policy": "eyJleHBpcmF0aW9uIjoiMjAzMC0wMS0wMVQwMDowMDowMFoifQ==",
                "signature": "c2lnbmF0dXJl", "upload_dir": "dashscope-instant/abc/2030-01-01",
                "upload_host": self.url + "/oss", "expire_in_seconds": 300,
                "max_file_size_mb": 100, "capacity_limit_mb": 999999,
                "oss_access_key_id": "LTAI-test-id", "x_oss_object_acl": "private",
                "x_oss_forbid_overwrite": "true"}})
        if req.method == "POST" and path == "/oss":
            self.uploads.append(req)
            return Reply(200, {"content-type": "text/plain"}, b"")
        return error_reply(404, "InvalidURL", f"no such API: {req.method} {req.path}")
