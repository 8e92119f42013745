"""A loopback server for the POST wrappers: the answers AgentScope's POST wrappers read
(a chat.completion under `data.response`, OpenAI's embeddings list, images under
`data.response.data`), a custom shape, SSE streams in both, and errors (an error
status with a body, an `error` object in a 200 answer or stream event).

Paths: `/llm/` (AgentScope's chat shape), `/custom` (`{"result": {"text": ...},
"meta": {...}}`), `/embed`, `/draw`. With nothing queued it answers by itself,
echoing the last user message.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests import loopback
from tests.loopback import LoopbackServer, RecordedRequest, Reply, json_reply

__all__ = ["PostAPIServer", "agentscope_chat", "chunk", "custom_chat", "embeddings",
           "error_reply", "images", "sse"]

_ids = itertools.count(1)


def completion(text: str | None, *, tool_calls: list[dict[str, Any]] | None = None,
               reasoning: str | None = None, finish: str = "stop") -> dict[str, Any]:
    """An OpenAI `chat.completion` body."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = [{"id": c["id"], "type": "function",
                                  "function": {"name": c["name"], "arguments": c["arguments"]}}
                                 for c in tool_calls]
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    return {"id": f"chatcmpl-{next(_ids)}", "object": "chat.completion", "created": 0,
            "model": "llama2", "choices": [{"index": 0, "message": message,
                                            "finish_reason": finish}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}}


def agentscope_chat(text: str | None, **kwargs: Any) -> dict[str, Any]:
    """The body AgentScope's PostAPIChatWrapper reads: a chat.completion under
    `data.response`."""
    return {"code": 200, "data": {"response": completion(text, **kwargs)}}


def custom_chat(text: str) -> dict[str, Any]:
    """A shape of an endpoint's own: `result.text`, token counts in `meta`."""
    return {"result": {"text": text}, "meta": {"tokens": {"prompt_tokens": 4,
                                                          "completion_tokens": 2}}}


def chunk(content: str | None = None, *, finish: str | None = None,
          tool_calls: list[dict[str, Any]] | None = None, usage: dict[str, Any] | None = None,
          wrap: bool = True) -> dict[str, Any]:
    """One chat.completion.chunk, under `data.response` when `wrap`."""
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if tool_calls:
        delta["tool_calls"] = tool_calls
    body: dict[str, Any] = {"id": "c", "object": "chat.completion.chunk", "created": 0,
                            "model": "llama2",
                            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage is not None:
        body["choices"], body["usage"] = [], usage
    return {"data": {"response": body}} if wrap else body


def sse(events: list[Any], done: bool = True) -> Reply:
    """An event stream of `events`, ending in `data: [DONE]` unless `done=False`."""
    return loopback.sse_reply(events, done="[DONE]" if done else None)


def embeddings(vectors: list[Any]) -> dict[str, Any]:
    """OpenAI's embeddings list, as AgentScope's PostAPIEmbeddingWrapper reads it."""
    return {"object": "list", "model": "emb",
            "data": [{"object": "embedding", "index": i, "embedding": v}
                     for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": 3 * len(vectors), "total_tokens": 3 * len(vectors)}}


def images(urls: list[str]) -> dict[str, Any]:
    """Images under `data.response.data`, as AgentScope's PostAPIDALLEWrapper reads them."""
    return {"data": {"response": {"created": 0, "data": [{"url": u} for u in urls]}}}


def error_reply(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An error status with a `{"error": {"message", "code"}}` body."""
    return json_reply({"error": {"message": message, "code": status}}, status, headers)


def _last_user_text(messages: Any) -> str:
    for msg in reversed(messages if isinstance(messages, list) else []):
        if isinstance(msg, dict) and msg.get("role") == "user":
            return str(msg.get("content"))
    return str(messages)


def default_reply(req: RecordedRequest) -> Reply:
    """A realistic answer when no reply is queued."""
    body = req.json if isinstance(req.json, dict) else {}
    key = next((k for k in ("messages", "inputs", "input", "prompt") if k in body), None)
    value = body.get(key) if key else None
    if req.path.startswith("/llm"):
        text = "echo: " + _last_user_text(value)
        if body.get("stream"):
            words = text.split(" ")
            return sse([chunk(w + " ") for w in words[:-1]]
                       + [chunk(words[-1], finish="stop"),
                          chunk(usage={"prompt_tokens": 7, "completion_tokens": len(words),
                                       "total_tokens": 7 + len(words)})])
        return json_reply(agentscope_chat(text))
    if req.path.startswith("/custom"):
        return json_reply(custom_chat("echo: " + _last_user_text(value)))
    if req.path.startswith("/embed"):
        texts = [value] if isinstance(value, str) else list(value or [])
        return json_reply(embeddings([[float(len(t)), 1.0, 0.5] for t in texts]))
    if req.path.startswith("/draw"):
        count = int(body.get("n") or 1)
        return json_reply(images([f"https://img.test/{i}.png" for i in range(count)]))
    return json_reply({"error": {"message": f"no route {req.path}"}}, 404)


class PostAPIServer(LoopbackServer):
    """The loopback server answering as the endpoints above."""

    def default_reply(self, req: RecordedRequest) -> Reply:
        """A realistic answer when no reply is queued."""
        return default_reply(req)

    def __enter__(self) -> PostAPIServer:
        self.start()
        return self
