"""A loopback server that speaks the OpenAI HTTP wire protocol, for tests.

Bodies follow the API reference and the `openai` SDK's own types
(`ChatCompletion`, `ChatCompletionChunk`, `CreateEmbeddingResponse`,
`ImagesResponse`, the `{"error": {...}}` error body); streams are SSE
(`data: <json>` + blank line, ending in `data: [DONE]`). Tests script replies with
`enqueue()`; with none queued the server answers realistically by itself. The same
fixtures are read by the real `openai` SDK in test_openai_server_fidelity.py.
"""

from __future__ import annotations

import base64
import itertools
import json
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_ids = itertools.count(1)


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any


@dataclass
class Reply:
    """What the server sends for one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    sse: list[bytes] | None = None  # pieces written one by one, with a flush between
    delay: float = 0.0  # before the answer
    piece_delay: float = 0.0  # between pieces


# -- reply builders ------------------------------------------------------------------------
def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer."""
    return Reply(status, {"content-type": "application/json", **(headers or {})},
                 json.dumps(body).encode())


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


def sse_reply(events: list[Any], *, done: bool = True, line_ending: str = "\n",
              split_bytes: int | None = None, comments: bool = False,
              headers: dict[str, str] | None = None) -> Reply:
    """A text/event-stream answer: each dict event as `data: <json>`, raw strs verbatim."""
    nl = line_ending
    parts: list[str] = []
    for event in events:
        if comments:
            parts.append(f": keep-alive{nl}{nl}")
        parts.append(event if isinstance(event, str) else f"data: {json.dumps(event)}{nl}{nl}")
    if done:
        parts.append(f"data: [DONE]{nl}{nl}")
    data = "".join(parts).encode()
    if split_bytes:
        pieces = [data[i:i + split_bytes] for i in range(0, len(data), split_bytes)]
    else:
        pieces = [p.encode() for p in parts]
    return Reply(200, {"content-type": "text/event-stream", "cache-control": "no-cache",
                       **(headers or {})}, sse=pieces)


def raw_reply(status: int, body: bytes, headers: dict[str, str]) -> Reply:
    """Any other answer, e.g. a proxy's HTML error page."""
    return Reply(status, headers, body)


def delay_reply(seconds: float, then: Reply) -> Reply:
    """`then`, after sleeping `seconds` (for timeout tests)."""
    then.delay = seconds
    return then


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
def _last_user_text(body: Any) -> str:
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if p.get("type") == "text")
            return str(content)
    return ""


def _vector(text: str, dims: int) -> list[float]:
    return [float(((sum(map(ord, text)) + i * 7) % 97) / 97) for i in range(dims)]


def default_reply(req: RecordedRequest) -> Reply:
    """A realistic answer when no reply is queued."""
    body = req.json if isinstance(req.json, dict) else {}
    path = req.path
    if req.method == "POST" and path.endswith("/chat/completions"):
        text = "echo: " + _last_user_text(body)
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
        return json_reply(embedding_response([_vector(t, dims) for t in inputs],
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
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            decoded = json.loads(raw) if raw else None
        except ValueError:
            decoded = None
        parts = urlsplit(self.path)
        req = RecordedRequest(self.command, parts.path, dict(parse_qsl(parts.query)),
                              {k.lower(): v for k, v in self.headers.items()}, raw, decoded)
        reply = self.server.owner._take(req) or default_reply(req)
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.sse is not None:
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for piece in reply.sse:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                if reply.piece_delay:
                    time.sleep(reply.piece_delay)
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        self.wfile.flush()

    do_GET = do_POST = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    owner: OpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # a client hanging up is normal


class OpenAIServer:
    """Threaded HTTP/1.1 server on 127.0.0.1 speaking the OpenAI protocol."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str | None, deque[Reply]] = {}
        self.requests: list[RecordedRequest] = []
        self._server: _Server | None = None
        self.url = ""
        self.base_url = ""

    def start(self) -> OpenAIServer:
        """Listen on a free port and serve in a daemon thread."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.base_url = self.url + "/v1"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def enqueue(self, *replies: Reply, path: str | None = None) -> None:
        """Script the next replies (FIFO), for any path or for paths ending in `path`."""
        with self._lock:
            self._queues.setdefault(path, deque()).extend(replies)

    def reset(self) -> None:
        """Forget queued replies and recorded requests."""
        with self._lock:
            self._queues.clear()
            self.requests.clear()

    @property
    def last(self) -> RecordedRequest:
        """The most recent request."""
        return self.requests[-1]

    def _take(self, req: RecordedRequest) -> Reply | None:
        with self._lock:
            self.requests.append(req)
            for key, queue in self._queues.items():
                if key is not None and req.path.endswith(key) and queue:
                    return queue.popleft()
            queue = self._queues.get(None)
            return queue.popleft() if queue else None
