"""A scriptable HTTP/1.1 server on 127.0.0.1, for tests: the machinery every provider's
fixture server shares.

A provider's fixture module supplies only what is specific to its API: the bodies
(built from the API reference and the SDK's own types) and `default_reply`, the
answer given when a test has queued none. Tests script replies with `enqueue()` (for
any path, or for paths ending in a given suffix) and read what was sent from
`requests`. Replies can be JSON, raw bytes, or written piece by piece (SSE, NDJSON,
a JSON array streamed), with delays before the answer and between pieces.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["LoopbackServer", "RecordedRequest", "Reply", "delay_reply", "json_reply",
           "last_user_text", "ndjson_reply", "pieces_reply", "raw_reply", "sse_reply",
           "vector"]


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any
    client_port: int = 0  # the client's port: requests on one connection share it


@dataclass
class Reply:
    """What the server sends for one request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    sse: list[bytes] | None = None  # pieces written one by one (chunked), flushed each
    delay: float = 0.0  # before the answer
    piece_delay: float = 0.0  # between pieces
    # Reset the connection (TCP RST) instead of answering: before anything is sent, or,
    # for a reply with `sse` pieces, after the headers and those pieces.
    reset: bool = False


# -- reply builders ------------------------------------------------------------------------
def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer."""
    return Reply(status, {"content-type": "application/json", **(headers or {})},
                 json.dumps(body).encode())


def raw_reply(status: int, body: bytes, headers: dict[str, str]) -> Reply:
    """Any other answer, e.g. a proxy's HTML error page."""
    return Reply(status, headers, body)


def delay_reply(seconds: float, then: Reply) -> Reply:
    """`then`, after sleeping `seconds` (for timeout tests)."""
    then.delay = seconds
    return then


def pieces_reply(parts: Iterable[str | bytes], content_type: str, *,
                 split_bytes: int | None = None, status: int = 200,
                 headers: dict[str, str] | None = None) -> Reply:
    """A streamed answer written part by part (or cut every `split_bytes` bytes)."""
    encoded = [p.encode() if isinstance(p, str) else p for p in parts]
    if split_bytes:
        data = b"".join(encoded)
        encoded = [data[i:i + split_bytes] for i in range(0, len(data), split_bytes)]
    return Reply(status, {"content-type": content_type, **(headers or {})}, sse=encoded)


def sse_reply(events: list[Any], *, done: str | None = None, line_ending: str = "\n",
              split_bytes: int | None = None, comments: bool = False,
              headers: dict[str, str] | None = None) -> Reply:
    """A text/event-stream answer: each dict event as `data: <json>`, raw strs verbatim;
    `done` is a last `data:` line (OpenAI's `[DONE]`)."""
    nl = line_ending
    parts: list[str] = []
    for event in events:
        if comments:
            parts.append(f": keep-alive{nl}{nl}")
        parts.append(event if isinstance(event, str) else f"data: {json.dumps(event)}{nl}{nl}")
    if done is not None:
        parts.append(f"data: {done}{nl}{nl}")
    return pieces_reply(parts, "text/event-stream", split_bytes=split_bytes,
                        headers={"cache-control": "no-cache", **(headers or {})})


def ndjson_reply(lines: list[Any], *, split_bytes: int | None = None,
                 content_type: str = "application/x-ndjson",
                 headers: dict[str, str] | None = None) -> Reply:
    """A newline-delimited JSON answer: each item a line (raw strs verbatim)."""
    parts = [line if isinstance(line, str) else json.dumps(line) + "\n" for line in lines]
    return pieces_reply(parts, content_type, split_bytes=split_bytes, headers=headers)


# -- what default replies are made of -----------------------------------------------------------
def last_user_text(body: Any) -> str:
    """The text of the last user message of a chat request body."""
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if p.get("type") == "text")
            return str(content)
    return ""


def vector(text: str, dims: int) -> list[float]:
    """A deterministic embedding of `text`."""
    return [float(((sum(map(ord, text)) + i * 7) % 97) / 97) for i in range(dims)]


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
                              {k.lower(): v for k, v in self.headers.items()}, raw, decoded,
                              self.client_address[1])
        owner = self.server.owner
        reply = owner._take(req) or owner.default_reply(req)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.reset and reply.sse is None:
            self._reset()
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
            if reply.reset:
                self._reset()
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        self.wfile.flush()

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (what a crashed proxy does)."""
        import socket
        import struct

        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
        raise ConnectionResetError("reset on purpose")  # handle_error lets it pass

    do_GET = do_POST = do_PUT = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    owner: LoopbackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # a client hanging up is normal


class LoopbackServer:
    """Threaded HTTP/1.1 server on 127.0.0.1 answering with queued replies, else with
    `default_reply` (a provider's fixture passes its own, or subclasses and overrides
    it). `url` is `http://127.0.0.1:PORT`; `base_url` adds `api_prefix`."""

    api_prefix = ""

    def __init__(self, default_reply: Callable[[RecordedRequest], Reply] | None = None
                 ) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str | None, deque[Reply]] = {}
        self._default = default_reply
        self.requests: list[RecordedRequest] = []
        self._server: _Server | None = None
        self.url = ""
        self.base_url = ""

    def default_reply(self, req: RecordedRequest) -> Reply:
        """The answer when nothing is queued: the given function's, else a 404."""
        if self._default is not None:
            return self._default(req)
        return json_reply({"error": f"no reply queued for {req.method} {req.path}"}, 404)

    def start(self) -> LoopbackServer:
        """Listen on a free port and serve in a daemon thread."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.base_url = self.url + self.api_prefix
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackServer:
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
