"""A loopback server speaking what Hugging Face's inference servers speak, for tests.

- TGI's (and the HF router's) OpenAI-compatible `/v1/chat/completions`: a
  `chat.completion` with `system_fingerprint` and `usage`, `reasoning` beside
  `content`; streams of `chat.completion.chunk` events in HF's shape (`role` in every
  delta, `usage: null` until a last chunk with empty `choices`), ending in `[DONE]`.
- TGI's `/generate` (`{"generated_text", "details": {...}}`) and `/generate_stream`
  (SSE events `{"index", "token": {...}, "generated_text", "details"}`, the last
  with `generated_text` and `details`).
- feature extraction at `/embed`: pooled vectors (one per text) or token-level ones.
- errors: `{"error": "..."}` (with TGI's `error_type`), `{"error": {"message": ...}}`,
  503 with `estimated_time` for a model that is loading, 429 with `Retry-After`, and
  `{"error": ..., "error_type": ...}` inside a 200 stream.

The shapes follow huggingface_hub's own types (`ChatCompletionOutput`,
`ChatCompletionStreamOutput`, `TextGenerationOutput`, `TextGenerationStreamOutput`);
test_hf_server_fidelity.py checks the real `InferenceClient` reads every one.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests import loopback
from tests.loopback import LoopbackServer, RecordedRequest, Reply, json_reply

__all__ = ["HFServer", "chat_chunks", "chat_completion", "error_reply", "generate_events",
           "generation", "sse"]

_ids = itertools.count(1)
FINGERPRINT = "3.2.3-sha-a1f3ebe"


def usage(prompt: int = 10, completion: int = 4) -> dict[str, int]:
    """TGI's usage object."""
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def chat_completion(content: str | None = "Hello!", *, model: str = "tgi",
                    tool_calls: list[dict[str, Any]] | None = None,
                    reasoning: str | None = None, finish: str | None = None) -> dict[str, Any]:
    """A `chat.completion` as TGI returns it."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [{"id": c["id"], "type": "function",
                                  "function": {"name": c["name"], "description": None,
                                               "arguments": c["arguments"]}}
                                 for c in tool_calls]
    if reasoning is not None:
        message["reasoning"] = reasoning
    return {"object": "chat.completion", "id": "", "created": 1732000000, "model": model,
            "system_fingerprint": FINGERPRINT,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": finish or ("tool_calls" if tool_calls else "stop")}],
            "usage": usage()}


def chat_chunks(pieces: list[str], *, model: str = "tgi",
                tool_calls: list[dict[str, Any]] | None = None,
                reasoning: list[str] | None = None, finish: str | None = None,
                include_usage: bool = True) -> list[dict[str, Any]]:
    """The `chat.completion.chunk` events TGI streams for this answer."""
    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {"object": "chat.completion.chunk", "id": "", "created": 1732000000,
                "model": model, "system_fingerprint": FINGERPRINT,
                "choices": [{"index": 0, "delta": {"role": "assistant", **delta},
                             "logprobs": None, "finish_reason": finish_reason}],
                "usage": None}

    out = [chunk({"reasoning": r}) for r in reasoning or ()]
    out += [chunk({"content": p}) for p in pieces]
    for index, call in enumerate(tool_calls or ()):
        args = call["arguments"]
        half = len(args) // 2
        out.append(chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                          "function": {"name": call["name"],
                                                       "arguments": args[:half]}}]}))
        out.append(chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                          "function": {"name": None,
                                                       "arguments": args[half:]}}]}))
    out.append(chunk({"content": ""}, finish or ("tool_calls" if tool_calls else "stop")))
    if include_usage:
        last = chunk({})
        last["choices"], last["usage"] = [], usage(completion=max(1, len(pieces)))
        out.append(last)
    return out


def _token(i: int, text: str, special: bool = False) -> dict[str, Any]:
    return {"id": 100 + i, "text": text, "logprob": -0.25, "special": special}


def generation(text: str, *, finish: str = "length", prefill: int = 0) -> dict[str, Any]:
    """TGI's `/generate` answer with `details`."""
    words = text.split(" ")
    return {"generated_text": text, "details": {
        "finish_reason": finish, "generated_tokens": len(words), "seed": None,
        "prefill": [{"id": i, "text": f"p{i}", "logprob": None} for i in range(prefill)],
        "tokens": [_token(i, w) for i, w in enumerate(words)]}}


def generate_events(pieces: list[str], *, finish: str = "eos_token",
                    input_length: int = 5) -> list[dict[str, Any]]:
    """TGI's `/generate_stream` events: a token each, then the end-of-sequence token
    with `generated_text` and `details`."""
    out: list[dict[str, Any]] = [{"index": i + 1, "token": _token(i, p), "top_tokens": None,
                                  "generated_text": None, "details": None}
                                 for i, p in enumerate(pieces)]
    out.append({"index": len(pieces) + 1, "token": _token(len(pieces), "</s>", True),
                "top_tokens": None, "generated_text": "".join(pieces),
                "details": {"finish_reason": finish, "generated_tokens": len(pieces) + 1,
                            "input_length": input_length, "seed": None}})
    return out


def sse(events: list[Any], done: bool = False) -> Reply:
    """An event stream (TGI's chat route ends in `[DONE]`, /generate_stream does not)."""
    return loopback.sse_reply(events, done="[DONE]" if done else None)


def error_reply(status: int, message: str, *, error_type: str | None = None,
                nested: bool = False, headers: dict[str, str] | None = None,
                **extra: Any) -> Reply:
    """An HF error body: `{"error": "...", "error_type": ...}` or, nested,
    `{"error": {"message": ...}}` (the router's)."""
    body: dict[str, Any] = {"error": {"message": message, "type": error_type}} if nested \
        else {"error": message}
    if error_type and not nested:
        body["error_type"] = error_type
    return json_reply({**body, **extra}, status, headers)


def _vector(text: str, i: int = 0) -> list[float]:
    return [float(len(text) + i), 1.0, 0.5]


class HFServer(LoopbackServer):
    """The loopback server; `token_level` makes /embed answer per token."""

    token_level = False

    def default_reply(self, req: RecordedRequest) -> Reply:
        """A realistic answer when nothing is queued."""
        body = req.json if isinstance(req.json, dict) else {}
        path = req.path
        if path.endswith("/chat/completions"):
            messages = body.get("messages") or [{}]
            text = f"echo: {messages[-1].get('content')}"
            if body.get("stream"):
                words = text.split(" ")
                return sse(chat_chunks([w + " " for w in words[:-1]] + [words[-1]]), done=True)
            return json_reply(chat_completion(text, model=body.get("model", "tgi")))
        if path.endswith("/generate"):
            return json_reply(generation(f"echo {body.get('inputs')}"))
        if path.endswith("/generate_stream"):
            return sse(generate_events(["echo", " ", str(body.get("inputs"))]))
        if path.endswith("/embed"):
            inputs = body.get("inputs")
            texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
            if self.token_level:
                return json_reply([[_vector(t, k) for k in range(len(t))] for t in texts])
            return json_reply([_vector(t) for t in texts])
        return error_reply(404, f"no route {path}")

    def __enter__(self) -> HFServer:
        self.start()
        return self
