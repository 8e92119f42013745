"""A loopback server that speaks Ollama's native API, for tests.

Bodies follow Ollama's API reference (api/types.go) and the `ollama` client's own
types (`ChatResponse`, `GenerateResponse`, `EmbedResponse`): an answer is one JSON
object, or, when streaming (Ollama's default when `stream` is absent), NDJSON
(`application/x-ndjson`) objects ending with `done: true`, its `done_reason` ("stop",
"length", "load", "unload"), durations in nanoseconds and the counts
(`prompt_eval_count`, `eval_count`). Errors are `{"error": "..."}` with their status
(404 for a model not pulled, 400 for a bad request, 500), or an `{"error": ...}` line
inside a 200 stream; a proxy in front of Ollama may answer 429 with Retry-After. Tests
script replies with `enqueue()`; with none queued the server answers realistically by
itself. test_ollama_server_fidelity.py reads every fixture with the real client. The
server machinery is `tests.loopback`'s.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.loopback import (
    LoopbackServer,
    RecordedRequest,
    Reply,
    delay_reply,
    json_reply,
    ndjson_reply,
    raw_reply,
)

__all__ = ["OllamaServer", "RecordedRequest", "Reply", "chat_answer", "chat_chunks",
           "delay_reply", "embed_answer", "error_reply", "generate_answer",
           "generate_chunks", "json_reply", "ndjson_reply", "raw_reply",
           "server_fixture", "server_session_fixture", "stream_reply"]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _metrics(prompt: int | None, completion: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"total_duration": 5191566416, "load_duration": 2154458,
                           "prompt_eval_duration": 383809000, "eval_duration": 4799921000}
    if prompt is not None:  # Ollama omits a zero count (omitempty)
        out["prompt_eval_count"] = prompt
    if completion is not None:
        out["eval_count"] = completion
    return out


# -- reply builders ------------------------------------------------------------------------
def error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """Ollama's error body: {"error": "..."} with its status."""
    return json_reply({"error": message}, status, headers)


def stream_reply(objects: list[Any], **kwargs: Any) -> Reply:
    """An NDJSON answer (application/x-ndjson), one object per line."""
    return ndjson_reply(objects, **kwargs)


# -- body builders (API reference shapes) ------------------------------------------------------
def _tool_calls(calls: list[dict[str, Any]], with_ids: bool) -> list[dict[str, Any]]:
    out = []
    for index, call in enumerate(calls):
        entry: dict[str, Any] = {"function": {"index": index, "name": call["name"],
                                              "arguments": call["arguments"]}}
        if with_ids and call.get("id"):
            entry["id"] = call["id"]
        out.append(entry)
    return out


def chat_answer(content: str = "Hello!", *, model: str = "llama3.2",
                thinking: str | None = None, tool_calls: list[dict[str, Any]] | None = None,
                done_reason: str = "stop", prompt_eval_count: int | None = 26,
                eval_count: int | None = 298, with_ids: bool = True) -> dict[str, Any]:
    """A whole /api/chat answer (`stream: false`)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if thinking is not None:
        message["thinking"] = thinking
    if tool_calls:
        message["tool_calls"] = _tool_calls(tool_calls, with_ids)
    return {"model": model, "created_at": _now(), "message": message,
            "done_reason": done_reason, "done": True,
            **_metrics(prompt_eval_count, eval_count)}


def chat_chunks(pieces: list[str], *, model: str = "llama3.2",
                thinking: list[str] | None = None,
                tool_calls: list[dict[str, Any]] | None = None, done_reason: str = "stop",
                prompt_eval_count: int | None = 26, eval_count: int | None = None,
                with_ids: bool = True) -> list[dict[str, Any]]:
    """The objects /api/chat streams: thinking deltas, content deltas, a chunk per tool
    call (Ollama sends each whole), then `done: true` with empty content and the
    metrics."""
    def chunk(message: dict[str, Any]) -> dict[str, Any]:
        return {"model": model, "created_at": _now(),
                "message": {"role": "assistant", "content": "", **message}, "done": False}

    out = [chunk({"thinking": t}) for t in thinking or ()]
    out += [chunk({"content": p}) for p in pieces]
    for i, call in enumerate(_tool_calls(tool_calls or [], with_ids)):
        call["function"]["index"] = i
        out.append(chunk({"tool_calls": [call]}))
    count = eval_count if eval_count is not None else len(pieces) + len(thinking or ())
    out.append({"model": model, "created_at": _now(),
                "message": {"role": "assistant", "content": ""},
                "done_reason": done_reason, "done": True,
                **_metrics(prompt_eval_count, count)})
    return out


def generate_answer(response: str = "The sky is blue.", *, model: str = "llama3.2",
                    thinking: str | None = None, done_reason: str = "stop",
                    prompt_eval_count: int | None = 26,
                    eval_count: int | None = 290) -> dict[str, Any]:
    """A whole /api/generate answer, with its `context` (tokens of the exchange)."""
    out: dict[str, Any] = {"model": model, "created_at": _now(), "response": response,
                           "done": True, "done_reason": done_reason, "context": [1, 2, 3]}
    if thinking is not None:
        out["thinking"] = thinking
    return {**out, **_metrics(prompt_eval_count, eval_count)}


def generate_chunks(pieces: list[str], *, model: str = "llama3.2",
                    thinking: list[str] | None = None, done_reason: str = "stop",
                    prompt_eval_count: int | None = 26,
                    eval_count: int | None = None) -> list[dict[str, Any]]:
    """The objects /api/generate streams; the last has `done: true`, the metrics and
    the `context`."""
    def chunk(**fields: Any) -> dict[str, Any]:
        return {"model": model, "created_at": _now(), "response": "", **fields,
                "done": False}

    out = [chunk(thinking=t) for t in thinking or ()]
    out += [chunk(response=p) for p in pieces]
    count = eval_count if eval_count is not None else len(pieces) + len(thinking or ())
    out.append({"model": model, "created_at": _now(), "response": "", "done": True,
                "done_reason": done_reason, "context": [1, 2, 3],
                **_metrics(prompt_eval_count, count)})
    return out


def embed_answer(vectors: list[list[float]], *, model: str = "all-minilm",
                 prompt_eval_count: int | None = 8) -> dict[str, Any]:
    """An /api/embed answer: one vector per input, in input order."""
    out: dict[str, Any] = {"model": model, "embeddings": vectors,
                           "total_duration": 14143917, "load_duration": 1019500}
    if prompt_eval_count is not None:
        out["prompt_eval_count"] = prompt_eval_count
    return out


# -- default behaviour ------------------------------------------------------------------------
def _last_user_text(body: dict[str, Any]) -> str:
    if "prompt" in body:
        return str(body.get("prompt") or "")
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") == "user":
            return str(msg.get("content") or "")
    return ""


def _answer_text(body: dict[str, Any]) -> tuple[str, str]:
    """(text, done_reason) of the echo, with `options.stop` and `num_predict` obeyed."""
    options = body.get("options") or {}
    text = "echo: " + _last_user_text(body)
    fmt = body.get("format")
    if fmt == "json":
        text = json.dumps({"echo": _last_user_text(body)})
    elif isinstance(fmt, dict):
        text = json.dumps({k: 1 if (v or {}).get("type") == "integer" else "x"
                           for k, v in (fmt.get("properties") or {}).items()})
    for stop in options.get("stop") or ():
        if stop in text:
            return text[:text.index(stop)], "stop"
    limit = options.get("num_predict")
    words = text.split(" ")
    if isinstance(limit, int) and 0 < limit < len(words):
        return " ".join(words[:limit]), "length"
    return text, "stop"


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + " " for w in words[:-1]] + [words[-1]]


def default_reply(req: RecordedRequest) -> Reply:
    """A realistic Ollama answer when no reply is queued."""
    body = req.json if isinstance(req.json, dict) else {}
    path, model = req.path, str(body.get("model") or "")
    stream = body.get("stream", True)  # Ollama streams unless told not to
    if req.method == "POST" and path in ("/api/chat", "/api/generate", "/api/embed"):
        if not model:
            return error_reply(400, "model is required")
        if model.startswith("missing"):
            return error_reply(404, f'model "{model}" not found, try pulling it first')
    if req.method == "POST" and path == "/api/chat":
        if not body.get("messages"):  # an empty chat loads (or, keep_alive 0, unloads)
            reason = "unload" if body.get("keep_alive") in (0, "0") else "load"
            return json_reply({"model": model, "created_at": _now(),
                               "message": {"role": "assistant", "content": ""},
                               "done_reason": reason, "done": True})
        text, reason = _answer_text(body)
        thinking = "Thinking it over." if body.get("think") else None
        if stream:
            return stream_reply(chat_chunks(_pieces(text), model=model, done_reason=reason,
                                            thinking=[thinking] if thinking else None))
        return json_reply(chat_answer(text, model=model, done_reason=reason,
                                      thinking=thinking))
    if req.method == "POST" and path == "/api/generate":
        text, reason = _answer_text(body)
        thinking = "Thinking it over." if body.get("think") else None
        if stream:
            return stream_reply(generate_chunks(_pieces(text), model=model,
                                                done_reason=reason,
                                                thinking=[thinking] if thinking else None))
        return json_reply(generate_answer(text, model=model, done_reason=reason,
                                          thinking=thinking))
    if req.method == "POST" and path == "/api/embed":
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dims = int(body.get("dimensions") or 4)
        vectors = [[float(((sum(map(ord, t)) + i * 7) % 97) / 97) for i in range(dims)]
                   for t in inputs]
        return json_reply(embed_answer(vectors, model=model,
                                       prompt_eval_count=2 * len(inputs)))
    if req.method == "GET" and path == "/api/version":
        return json_reply({"version": "0.12.6"})
    # Ollama's router answers an unknown path with Go's plain-text 404
    return raw_reply(404, b"404 page not found", {"content-type": "text/plain"})


# -- the server -------------------------------------------------------------------------------
class OllamaServer(LoopbackServer):
    """Threaded HTTP/1.1 server on 127.0.0.1 speaking Ollama's native API (`url` is the
    bare host, what Ollama's client calls `host`)."""

    def default_reply(self, req: RecordedRequest) -> Reply:
        """A realistic Ollama answer when no reply is queued."""
        return default_reply(req)

    def start(self) -> OllamaServer:
        """Listen on a free port and serve in a daemon thread."""
        super().start()
        return self

    def __enter__(self) -> OllamaServer:
        return self.start()


# Test modules import these two (under their function names, so that a test's
# `ollama_server` argument shadows no import): the fixtures are named by `name=`.
@pytest.fixture(scope="session", name="ollama_server_session")
def server_session_fixture() -> Iterator[OllamaServer]:
    """One server for the session."""
    with OllamaServer() as server:
        yield server


@pytest.fixture(name="ollama_server")
def server_fixture(ollama_server_session: OllamaServer) -> OllamaServer:
    """The server, with no queued replies or recorded requests."""
    ollama_server_session.reset()
    return ollama_server_session

