"""The OpenAI wire protocol: SSE framing, response bodies, and the one place where
its errors (HTTP statuses, errors inside a 200 stream, transport failures) are mapped
to `modelhub.errors`. Pure Python: nothing here imports httpx at module level."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from modelhub._secrets import redact, redact_any
from modelhub.errors import (
    ModelAPIError,
    ModelConnectionError,
    ModelhubError,
    ModelTimeoutError,
    RateLimitError,
    ResponseParseError,
    error_class_for_status,
)
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.wrappers.reasoning import ThinkSplitter, split_think

__all__ = [
    "ChatStreamState",
    "SSEDecoder",
    "error_from_response",
    "error_from_stream_event",
    "iter_sse",
    "map_transport_error",
    "parse_chat_completion",
    "parse_usage",
    "retry_after_seconds",
]

# Error `type`/`code` strings seen inside streams, and the status they stand for.
_STREAM_ERROR_STATUS = {
    "invalid_request_error": 400,
    "bad_request": 400,
    "authentication_error": 401,
    "invalid_api_key": 401,
    "permission_error": 403,
    "permission_denied": 403,
    "not_found_error": 404,
    "model_not_found": 404,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "internal_error": 500,
    "api_error": 500,
    "overloaded_error": 503,
    "service_unavailable": 503,
}


# -- errors --------------------------------------------------------------------------
def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The server's retry hint: `retry-after-ms`, or `retry-after` in seconds or as a date."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(float(value) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        import time
        from email.utils import parsedate_to_datetime

        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _error_fields(body: Any) -> tuple[str | None, str | None]:
    """(message, code) from an OpenAI-style error body, or from common variants."""
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping):
            message = err.get("message") or err.get("detail") or err.get("msg")
            code = err.get("code") or err.get("type")
            return (str(message) if message else None), (str(code) if code else None)
        if isinstance(err, str):
            return err, None
    return None, None


def error_from_response(status: int, headers: Mapping[str, str], content: bytes,
                        provider: str, secrets: Iterable[str | None]) -> ModelAPIError:
    """The modelhub error for an HTTP error response (secrets redacted)."""
    secrets = list(secrets)
    text = content.decode("utf-8", "replace")
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = text
    message, code = _error_fields(body)
    if message is None:
        message = text.strip()[:500] or f"HTTP {status} with an empty body"
    cls = error_class_for_status(status)
    kwargs: dict[str, Any] = {"status_code": status, "provider": provider,
                              "body": redact_any(body, secrets), "code": code}
    if cls is RateLimitError:
        kwargs["retry_after"] = retry_after_seconds(headers)
    return cls(redact(message, secrets), **kwargs)


def error_from_stream_event(payload: Any, provider: str,
                            secrets: Iterable[str | None]) -> ModelAPIError:
    """The modelhub error for an error event inside a 200 stream."""
    secrets = list(secrets)
    message, code = _error_fields(payload)
    err = payload.get("error") if isinstance(payload, Mapping) else None
    status: int | None = None
    if isinstance(err, Mapping):
        for key in ("status", "status_code", "code"):
            value = err.get(key)
            if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
                status = int(value)
                break
        if status is None:
            for key in ("type", "code"):
                status = _STREAM_ERROR_STATUS.get(str(err.get(key)))
                if status is not None:
                    break
    status = status if status is not None and 400 <= status < 600 else 500
    cls = error_class_for_status(status)
    return cls(redact(message or "error inside the response stream", secrets),
               status_code=status, provider=provider,
               body=redact_any(payload, secrets), code=code)


def map_transport_error(exc: BaseException, provider: str,
                        secrets: Iterable[str | None]) -> ModelhubError:
    """The modelhub error for an httpx transport failure."""
    import httpx

    detail = redact(f"{type(exc).__name__}: {exc}", secrets)
    if isinstance(exc, httpx.TimeoutException):
        return ModelTimeoutError(f"{provider}: no answer in time ({detail})")
    return ModelConnectionError(f"{provider}: could not reach the server ({detail})")


# -- SSE framing ---------------------------------------------------------------------
class SSEDecoder:
    """Server-sent events from lines (terminators stripped), one line at a time.

    Follows the SSE spec: `data:` lines of one event are joined with newlines, one
    space after the colon is dropped, comments (`:`) and `id:`/`retry:` are ignored,
    a blank line ends an event.
    """

    __slots__ = ("_data", "_event")

    def __init__(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []

    def line(self, line: str) -> tuple[str | None, str] | None:
        """Take one line; return (event, data) when it completes an event."""
        if not line:
            if not self._data:
                self._event = None
                return None
            done = (self._event, "\n".join(self._data))
            self._event, self._data = None, []
            return done
        if line[0] == ":":
            return None
        name, _, value = line.partition(":")
        if value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None

    def flush(self) -> tuple[str | None, str] | None:
        """An event left unterminated when the stream ended, if any."""
        return self.line("") if self._data else None


def iter_sse(lines: Iterable[str]) -> Iterator[tuple[str | None, str]]:
    """(event, data) for each server-sent event in `lines`."""
    decoder = SSEDecoder()
    for line in lines:
        event = decoder.line(line)
        if event is not None:
            yield event
    last = decoder.flush()
    if last is not None:
        yield last


# -- bodies ----------------------------------------------------------------------------
def parse_usage(usage: Any) -> Usage | None:
    """Usage from an OpenAI `usage` object (also the embeddings shape)."""
    if not isinstance(usage, Mapping):
        return None
    inp = usage.get("prompt_tokens") or usage.get("input_tokens") or 0
    out = usage.get("completion_tokens") or usage.get("output_tokens") or 0
    details = {k: v for k, v in usage.items()
               if k.endswith("_details") and isinstance(v, Mapping)}
    return Usage(int(inp), int(out), int(usage.get("total_tokens") or inp + out), details)


def _text_of(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers answer with content parts
        return "".join(p.get("text", "") for p in content
                       if isinstance(p, Mapping) and p.get("type") in ("text", "output_text"))
    return str(content)


def _tool_call(tc: Mapping[str, Any], index: int) -> ToolCall:
    from modelhub.wrappers.tools import parse_arguments

    fn = tc.get("function") or {}
    name = fn.get("name") or ""
    return ToolCall(id=tc.get("id") or f"call_{index}", name=name,
                    arguments=parse_arguments(fn.get("arguments"), tool_name=name),
                    type=tc.get("type") or "function")


def parse_chat_completion(body: Any) -> ModelResponse:
    """A ModelResponse from a `chat.completion` body."""
    if not isinstance(body, Mapping) or not isinstance(body.get("choices"), list):
        raise ResponseParseError(
            "expected a chat.completion object with 'choices'", response=body)
    choice = body["choices"][0] if body["choices"] else {}
    message = choice.get("message") or {}
    text, reasoning = split_think(_text_of(message.get("content")))
    native = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(native, str) and native:
        reasoning = native if reasoning is None else native + reasoning
    response = ModelResponse(
        text=text, usage=parse_usage(body.get("usage")),
        finish_reason=choice.get("finish_reason"), model=body.get("model"),
        reasoning=reasoning, raw=body)
    calls = message.get("tool_calls")
    if calls:
        try:
            response.tool_calls = [_tool_call(tc, i) for i, tc in enumerate(calls)]
        except ResponseParseError as exc:
            exc.response = response
            raise
    return response


class ChatStreamState:
    """Accumulates `chat.completion.chunk`s into text deltas and a final response."""

    __slots__ = ("_calls", "_reasoning", "_splitter", "_text", "chunks", "finish_reason",
                 "model", "provider", "secrets", "usage")

    def __init__(self, provider: str, secrets: list[str]) -> None:
        self.provider = provider
        self.secrets = secrets
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, dict[str, Any]] = {}
        self._splitter = ThinkSplitter()
        self.chunks: list[Any] = []
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.model: str | None = None

    def feed(self, event: str | None, data: str) -> str | None:
        """Take one SSE event; return the text delta it carries, if any."""
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise ResponseParseError(
                f"{self.provider}: a stream event is not JSON: "
                f"{redact(data[:200], self.secrets)!r}") from exc
        if event == "error" or (isinstance(chunk, Mapping) and chunk.get("error")):
            raise error_from_stream_event(chunk, self.provider, self.secrets)
        self.chunks.append(chunk)
        if chunk.get("usage"):
            self.usage = parse_usage(chunk["usage"])
        self.model = chunk.get("model") or self.model
        choices = chunk.get("choices")
        if not choices:
            return None
        choice = choices[0]
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]
        delta = choice.get("delta") or {}
        native = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(native, str) and native:
            self._reasoning.append(native)
        for tc in delta.get("tool_calls") or ():
            self._add_tool_delta(tc)
        content = _text_of(delta.get("content"))
        if not content:
            return None
        text, thought = self._splitter.feed(content)
        if thought:
            self._reasoning.append(thought)
        if text:
            self._text.append(text)
            return text
        return None

    def _add_tool_delta(self, tc: Mapping[str, Any]) -> None:
        index = tc.get("index", len(self._calls))
        call = self._calls.setdefault(index, {"id": None, "type": "function", "name": "",
                                              "arguments": []})
        if tc.get("id"):
            call["id"] = tc["id"]
        if tc.get("type"):
            call["type"] = tc["type"]
        fn = tc.get("function") or {}
        if fn.get("name"):
            call["name"] += fn["name"]
        if fn.get("arguments"):
            call["arguments"].append(fn["arguments"])

    def flush(self) -> str | None:
        """Text held back by the think-tag splitter, released at the end of the stream."""
        text, thought = self._splitter.flush()
        if thought:
            self._reasoning.append(thought)
        if text:
            self._text.append(text)
        return text or None

    def response(self) -> ModelResponse:
        """The complete response, once the stream has ended."""
        response = ModelResponse(
            text="".join(self._text) if self._text or not self._calls else None,
            usage=self.usage, finish_reason=self.finish_reason, model=self.model,
            reasoning="".join(self._reasoning) or None, raw=self.chunks)
        if self._calls:
            calls = [{"id": c["id"], "type": c["type"],
                      "function": {"name": c["name"], "arguments": "".join(c["arguments"])}}
                     for _, c in sorted(self._calls.items())]
            try:
                response.tool_calls = [_tool_call(tc, i) for i, tc in enumerate(calls)]
            except ResponseParseError as exc:
                exc.response = response
                raise
        return response
