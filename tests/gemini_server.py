"""A loopback server that speaks Gemini's REST wire protocol (the Gemini API and Vertex
AI's), for tests.

Paths: `/{version}/models/{model}:generateContent`, `:streamGenerateContent` (with
`alt=sse` an event stream of `data: <json>` events; without it, one JSON array written
in pieces), `:batchEmbedContents`, `:embedContent`, and Vertex AI's
`/{version}/projects/{p}/locations/{l}/publishers/google/models/{model}:...` and
`:predict`. Bodies follow the API reference and `google-genai`'s own types
(`GenerateContentResponse`, `EmbedContentResponse`), in their camelCase JSON; errors
are Google's `{"error": {"code", "message", "status", "details"}}`. The fixtures are
read by the real SDK in test_gemini_server_fidelity.py. The server machinery is
`tests.loopback`'s.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests import loopback
from tests.loopback import LoopbackServer, RecordedRequest, Reply, json_reply

__all__ = [
    "SIGNATURE",
    "GeminiServer",
    "array_reply",
    "batch_embed_response",
    "call_part",
    "candidate",
    "error_body",
    "error_reply",
    "gemini_server_fixture",
    "gemini_server_session_fixture",
    "generate_response",
    "max_tokens_without_text",
    "predict_response",
    "prompt_blocked",
    "rate_limit_reply",
    "safety_blocked",
    "sse_reply",
    "stream_chunks",
    "thought_part",
    "usage",
]

MODEL_VERSION = "gemini-2.5-flash"
# A thought signature as Gemini sends it: opaque bytes, base64 on the wire.
SIGNATURE = base64.b64encode(b"\x12\x34opaque-signature\x00\xff").decode()
_SAFETY_RATINGS = [
    {"category": c, "probability": "NEGLIGIBLE"}
    for c in ("HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_HATE_SPEECH",
              "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_DANGEROUS_CONTENT")]


# -- parts and bodies (API reference shapes) ----------------------------------------------
def thought_part(text: str, signature: str | None = None) -> dict[str, Any]:
    """A thought summary part (`thought: true`), as with includeThoughts."""
    part: dict[str, Any] = {"text": text, "thought": True}
    if signature:
        part["thoughtSignature"] = signature
    return part


def call_part(name: str, args: dict[str, Any], *, id: str | None = None,
              signature: str | None = None) -> dict[str, Any]:
    """A function call, whole in one part (Gemini never splits one)."""
    call: dict[str, Any] = {"name": name, "args": args}
    if id:
        call["id"] = id
    part: dict[str, Any] = {"functionCall": call}
    if signature:
        part["thoughtSignature"] = signature
    return part


def usage(prompt: int = 8, candidates: int | None = 5, thoughts: int | None = None,
          total: int | None = None) -> dict[str, Any]:
    """A `usageMetadata` object (candidatesTokenCount left out when None, as Gemini
    does for an answer with no output)."""
    out: dict[str, Any] = {"promptTokenCount": prompt,
                           "promptTokensDetails": [{"modality": "TEXT",
                                                    "tokenCount": prompt}]}
    if candidates is not None:
        out["candidatesTokenCount"] = candidates
    if thoughts is not None:
        out["thoughtsTokenCount"] = thoughts
    out["totalTokenCount"] = total if total is not None else \
        prompt + (candidates or 0) + (thoughts or 0)
    return out


def candidate(parts: list[dict[str, Any]] | None, finish_reason: str | None = "STOP",
              *, content: dict[str, Any] | None = None) -> dict[str, Any]:
    """One candidate; `content` replaces the `{"parts", "role"}` built from `parts`."""
    out: dict[str, Any] = {
        "content": content if content is not None else {"parts": parts or [],
                                                        "role": "model"},
        "index": 0}
    if finish_reason:
        out["finishReason"] = finish_reason
    return out


def generate_response(text: str | None = "Hello!", *, parts: list[dict[str, Any]] | None = None,
                      finish_reason: str | None = "STOP",
                      usage_metadata: dict[str, Any] | None = None,
                      model_version: str = MODEL_VERSION) -> dict[str, Any]:
    """A `GenerateContentResponse` body."""
    if parts is None:
        parts = [{"text": text}] if text is not None else []
    return {"candidates": [candidate(parts, finish_reason)],
            "usageMetadata": usage_metadata or usage(),
            "modelVersion": model_version, "responseId": "resp-1"}


def safety_blocked() -> dict[str, Any]:
    """An answer blocked for safety: `content: {}` and finishReason SAFETY."""
    blocked = candidate(None, "SAFETY", content={})
    blocked["safetyRatings"] = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                                 "probability": "HIGH", "blocked": True}]
    return {"candidates": [blocked], "usageMetadata": usage(candidates=None),
            "modelVersion": MODEL_VERSION, "responseId": "resp-safety"}


def max_tokens_without_text() -> dict[str, Any]:
    """The token budget spent on thinking: finishReason MAX_TOKENS, a content with no
    parts, and no candidatesTokenCount."""
    return {"candidates": [candidate(None, "MAX_TOKENS", content={"role": "model"})],
            "usageMetadata": usage(prompt=8, candidates=None, thoughts=99),
            "modelVersion": MODEL_VERSION, "responseId": "resp-max"}


def prompt_blocked() -> dict[str, Any]:
    """A prompt blocked before any candidate: only promptFeedback."""
    return {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT",
                               "safetyRatings": _SAFETY_RATINGS},
            "usageMetadata": usage(candidates=None), "modelVersion": MODEL_VERSION}


def stream_chunks(pieces: list[str], *, thoughts: list[str] | None = None,
                  calls: list[dict[str, Any]] | None = None, finish_reason: str = "STOP",
                  prompt: int = 8, model_version: str = MODEL_VERSION) -> list[dict[str, Any]]:
    """The chunks streamGenerateContent sends for this answer: usageMetadata in each
    (cumulative; the prompt count settles after the first chunk, as Gemini's does),
    thought parts first (the last with a thoughtSignature), function calls whole, and
    a trailing chunk with an empty text part and the finish reason."""
    chunks: list[dict[str, Any]] = []
    out = thought = 0

    def chunk(parts: list[dict[str, Any]], finish: str | None = None) -> dict[str, Any]:
        first = not chunks
        meta = usage(prompt=prompt - 3 if first else prompt, candidates=out or None,
                     thoughts=thought or None)
        return {"candidates": [candidate(parts, finish)], "usageMetadata": meta,
                "modelVersion": model_version, "responseId": "resp-stream"}

    for i, text in enumerate(thoughts or ()):
        thought += 4
        last = i == len(thoughts or ()) - 1
        chunks.append(chunk([thought_part(text, SIGNATURE if last and not calls else None)]))
    for piece in pieces:
        out += 2
        chunks.append(chunk([{"text": piece}]))
    if calls:
        out += 6
        chunks.append(chunk([call_part(c["name"], c["args"], id=c.get("id"),
                                       signature=SIGNATURE if i == 0 else None)
                             for i, c in enumerate(calls)]))
    chunks.append(chunk([{"text": ""}], finish_reason))
    return chunks


def batch_embed_response(vectors: list[list[float]]) -> dict[str, Any]:
    """A `batchEmbedContents` answer: {"embeddings": [{"values"}]}, in request order."""
    return {"embeddings": [{"values": v} for v in vectors]}


def predict_response(vectors: list[list[float]], tokens: int = 3) -> dict[str, Any]:
    """Vertex AI's `predict` answer for text embedding models."""
    return {"predictions": [{"embeddings": {"values": v, "statistics": {
        "token_count": tokens, "truncated": False}}} for v in vectors],
            "metadata": {"billableCharacterCount": 11 * len(vectors)}}


def error_body(code: int, message: str, status: str,
               details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Google's error body."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return {"error": error}


def error_reply(code: int, message: str, status: str,
                details: list[dict[str, Any]] | None = None,
                headers: dict[str, str] | None = None) -> Reply:
    """An error answer, as Google's front end sends one (JSON, UTF-8)."""
    return json_reply(error_body(code, message, status, details), code,
                      {"content-type": "application/json; charset=UTF-8", **(headers or {})})


def rate_limit_reply(retry_delay: str | None = "2s", retry_after: str | None = None) -> Reply:
    """A 429 as the Gemini API sends one: RESOURCE_EXHAUSTED, with QuotaFailure, Help
    and RetryInfo details (and, when given, a Retry-After header)."""
    details: list[dict[str, Any]] = [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
            {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
             "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
             "quotaDimensions": {"location": "global", "model": MODEL_VERSION},
             "quotaValue": "10"}]},
        {"@type": "type.googleapis.com/google.rpc.Help", "links": [
            {"description": "Learn more about Gemini API quotas",
             "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]}]
    if retry_delay is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo",
                        "retryDelay": retry_delay})
    return error_reply(429, "You exceeded your current quota, please check your plan and "
                            "billing details.", "RESOURCE_EXHAUSTED", details,
                       {"retry-after": retry_after} if retry_after else None)


# -- stream framings -------------------------------------------------------------------------
def sse_reply(events: list[Any], **kwargs: Any) -> Reply:
    """`alt=sse`: each chunk as `data: <json>` and a blank line (CRLF, as Google's
    front end writes them), no terminator: the stream ends with the body."""
    kwargs.setdefault("line_ending", "\r\n")
    return loopback.sse_reply(events, **kwargs)


def array_reply(chunks: list[Any], *, split_bytes: int | None = None) -> Reply:
    """Without `alt=sse`: one JSON array, pretty-printed and written element by element
    (`[{...}\\n,\\r\\n{...}\\n]`), as streamGenerateContent answers by default."""
    pieces = ["[" + json.dumps(chunks[0], indent=2) + "\n"] if chunks else ["["]
    pieces += [",\r\n" + json.dumps(c, indent=2) + "\n" for c in chunks[1:]]
    pieces.append("]")
    return loopback.pieces_reply(pieces, "application/json; charset=UTF-8",
                                 split_bytes=split_bytes)


# -- default behaviour ------------------------------------------------------------------------
def _last_user_text(body: Any) -> str:
    for content in reversed(body.get("contents") or []):
        if content.get("role", "user") == "user":
            return " ".join(p["text"] for p in content.get("parts") or [] if "text" in p)
    return ""


def _vector(text: str, dims: int) -> list[float]:
    return [float(((sum(map(ord, text)) + i * 7) % 97) / 97) for i in range(dims)]


def _request_text(request: Any) -> str:
    content = request.get("content") or {}
    return " ".join(p.get("text", "") for p in content.get("parts") or [])


def default_reply(req: RecordedRequest) -> Reply:
    """A realistic answer when no reply is queued."""
    body = req.json if isinstance(req.json, dict) else {}
    path = req.path
    if req.method != "POST":
        return error_reply(404, "Method not found.", "NOT_FOUND")
    if path.endswith(":generateContent"):
        return json_reply(generate_response("echo: " + _last_user_text(body)))
    if path.endswith(":streamGenerateContent"):
        words = ("echo: " + _last_user_text(body)).split(" ")
        chunks = stream_chunks([w + " " for w in words[:-1]] + [words[-1]])
        return sse_reply(chunks) if req.query.get("alt") == "sse" else array_reply(chunks)
    if path.endswith(":batchEmbedContents"):
        requests = body.get("requests") or []
        dims = [int(r.get("outputDimensionality") or 8) for r in requests]
        return json_reply(batch_embed_response(
            [_vector(_request_text(r), d) for r, d in zip(requests, dims)]))
    if path.endswith(":embedContent"):
        dims = int(body.get("outputDimensionality") or 8)
        return json_reply({"embedding": {"values": _vector(_request_text(body), dims)}})
    if path.endswith(":predict"):
        instances = body.get("instances") or []
        dims = int((body.get("parameters") or {}).get("outputDimensionality") or 8)
        return json_reply(predict_response([_vector(i.get("content", ""), dims)
                                            for i in instances]))
    return error_reply(404, f"Requested entity was not found: {path}", "NOT_FOUND")


class GeminiServer(LoopbackServer):
    """The loopback server answering as Gemini does (`url` is the bare host, which is
    what `base_url` means for Gemini)."""

    def default_reply(self, req: RecordedRequest) -> Reply:
        """Gemini's answer when no reply is queued."""
        return default_reply(req)


# -- fixtures (test modules import them by these names; tests ask for them by the names
# given) -------------------------------------------------------------------------------------
@pytest.fixture(scope="session", name="gemini_server_session")
def gemini_server_session_fixture() -> Iterator[GeminiServer]:
    """One Gemini server for the test session."""
    with GeminiServer() as server:
        yield server


@pytest.fixture(name="gemini_server")
def gemini_server_fixture(gemini_server_session: GeminiServer) -> GeminiServer:
    """The server, with no queued replies or recorded requests."""
    gemini_server_session.reset()
    return gemini_server_session
