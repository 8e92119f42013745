"""The OpenAI wire shapes `modelhub serve` reads and writes: a chat completions or
embeddings request into a wrapper call's arguments, and a `ModelResponse` (or a
stream's pieces) into `chat.completion`, `chat.completion.chunk` and embedding bodies.
Pure Python: no web framework here."""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.serve.errors import ServeError

__all__ = ["ChatCall", "EmbeddingCall", "ResponseIds", "chat_call", "chunk", "completion",
           "embedding_call", "embeddings_body", "finish_reason", "tool_call_deltas",
           "usage_body"]

# Request fields the server itself acts on; every other field is a generation argument
# passed to the model (overriding its config's generate_args).
_CHAT_FIELDS = frozenset({"model", "messages", "stream", "stream_options", "stop", "tools",
                          "tool_choice", "response_format", "n", "user"})
_EMBEDDING_FIELDS = frozenset({"model", "input", "encoding_format", "user"})

# Finish reasons in OpenAI's words (other providers' names for the same thing).
_FINISH = {"stop": "stop", "end_turn": "stop", "stop_sequence": "stop", "eos": "stop",
           "eos_token": "stop", "complete": "stop", "finished": "stop",
           "length": "length", "max_tokens": "length", "max_length": "length",
           "tool_calls": "tool_calls", "tool_use": "tool_calls", "function_call": "tool_calls",
           "content_filter": "content_filter", "safety": "content_filter"}


def _bad(message: str, param: str | None = None) -> ServeError:
    return ServeError(400, message, param=param, code="invalid_request")


@dataclass(slots=True)
class ChatCall:
    """A chat request read: what to pass to `wrapper.acall(messages, **kwargs)`."""

    model: str | None
    messages: list[Any]
    stream: bool
    include_usage: bool
    kwargs: dict[str, Any] = field(default_factory=dict)


def chat_call(body: Any, *, messages_key: str = "messages") -> ChatCall:
    """Read a chat completions request body (or AgentScope's POST body, whose keys
    other than the messages are all generation arguments)."""
    if not isinstance(body, Mapping):
        raise _bad("the request body must be a JSON object")
    messages = body.get(messages_key)
    if not isinstance(messages, list) or not messages:
        raise _bad(f"'{messages_key}' must be a non-empty list of messages", messages_key)
    if not all(isinstance(m, Mapping) for m in messages):
        raise _bad(f"every item of '{messages_key}' must be a message object", messages_key)
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise _bad("'model' must be a string", "model")
    n = body.get("n")
    if n is not None and n != 1:
        raise _bad("only n=1 is supported: make one request per answer", "n")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad("'stream' must be true or false", "stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, Mapping):
        raise _bad("'stream_options' must be an object", "stream_options")
    kwargs = {k: v for k, v in body.items()
              if k not in _CHAT_FIELDS and k != messages_key and v is not None}
    for name in ("stop", "tools", "tool_choice", "response_format"):
        if body.get(name) is not None:
            kwargs[name] = body[name]
    return ChatCall(model=model, messages=list(messages), stream=bool(stream),
                    include_usage=bool((options or {}).get("include_usage")), kwargs=kwargs)


@dataclass(slots=True)
class EmbeddingCall:
    """An embeddings request read."""

    model: str | None
    texts: list[str]
    base64: bool
    kwargs: dict[str, Any] = field(default_factory=dict)


def embedding_call(body: Any) -> EmbeddingCall:
    """Read an embeddings request body."""
    if not isinstance(body, Mapping):
        raise _bad("the request body must be a JSON object")
    given = body.get("input")
    texts = [given] if isinstance(given, str) else given
    if not isinstance(texts, list) or not texts:
        raise _bad("'input' must be a string or a non-empty list of strings", "input")
    if not all(isinstance(t, str) for t in texts):
        raise _bad("'input' must hold strings (token arrays are not supported)", "input")
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise _bad("'encoding_format' must be 'float' or 'base64'", "encoding_format")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise _bad("'model' must be a string", "model")
    kwargs = {k: v for k, v in body.items() if k not in _EMBEDDING_FIELDS and v is not None}
    return EmbeddingCall(model=model, texts=texts, base64=fmt == "base64", kwargs=kwargs)


# -- answers -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ResponseIds:
    """What every chunk of one answer shares: its id, creation time and model name."""

    id: str
    created: int
    model: str

    @classmethod
    def new(cls, model: str) -> ResponseIds:
        """Fresh ids for one answer of `model`."""
        return cls(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), model)


def usage_body(usage: Usage | None) -> dict[str, Any] | None:
    """OpenAI's `usage` object, or None when the model gave no counts."""
    if usage is None:
        return None
    return {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens or usage.input_tokens + usage.output_tokens}


def finish_reason(response: ModelResponse) -> str:
    """The finish reason in OpenAI's words; one it has no word for is kept as it is."""
    given = response.finish_reason
    if given is None:
        return "tool_calls" if response.tool_calls else "stop"
    return _FINISH.get(given.lower(), given)


def _tool_call(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function",
            "function": {"name": call.name,
                         "arguments": json.dumps(call.arguments, ensure_ascii=False)}}


def completion(response: ModelResponse, ids: ResponseIds) -> dict[str, Any]:
    """A `chat.completion` body."""
    message: dict[str, Any] = {"role": "assistant", "content": response.text,
                               "refusal": None}
    if response.tool_calls:
        message["tool_calls"] = [_tool_call(c) for c in response.tool_calls]
    if response.reasoning:
        message["reasoning_content"] = response.reasoning
    body: dict[str, Any] = {
        "id": ids.id, "object": "chat.completion", "created": ids.created, "model": ids.model,
        "choices": [{"index": 0, "message": message, "logprobs": None,
                     "finish_reason": finish_reason(response)}]}
    usage = usage_body(response.usage)
    if usage is not None:
        body["usage"] = usage
    return body


def chunk(ids: ResponseIds, delta: dict[str, Any] | None, *, finish: str | None = None,
          usage: dict[str, Any] | None = None, with_usage: bool = False) -> dict[str, Any]:
    """One `chat.completion.chunk`; `delta=None` is the usage-only chunk (no choices)."""
    body: dict[str, Any] = {"id": ids.id, "object": "chat.completion.chunk",
                            "created": ids.created, "model": ids.model,
                            "choices": [] if delta is None else [
                                {"index": 0, "delta": delta, "logprobs": None,
                                 "finish_reason": finish}]}
    if with_usage:
        body["usage"] = usage
    return body


def tool_call_deltas(calls: list[ToolCall]) -> list[dict[str, Any]]:
    """The `delta.tool_calls` entries announcing whole tool calls, each with its index."""
    return [{"index": i, **_tool_call(c)} for i, c in enumerate(calls)]


def embeddings_body(response: ModelResponse, model: str, as_base64: bool) -> dict[str, Any]:
    """An embeddings `list` body (base64 as little-endian float32, as OpenAI sends it)."""
    def encode(vector: list[float]) -> Any:
        if as_base64:
            return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        return vector

    usage = response.usage
    return {"object": "list", "model": model,
            "data": [{"object": "embedding", "index": i, "embedding": encode(v)}
                     for i, v in enumerate(response.embedding or [])],
            "usage": {"prompt_tokens": usage.input_tokens if usage else 0,
                      "total_tokens": (usage.total_tokens or usage.input_tokens)
                      if usage else 0}}
