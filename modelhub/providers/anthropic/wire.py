"""Anthropic's answers into the neutral `ModelResponse`: a `Message`, or the typed
events of a stream (`message_start`, `content_block_start` / `_delta` / `_stop`,
`message_delta`, `message_stop`), and the SDK's exceptions into `modelhub.errors`
(`map_error`, the one place that does it). The SDK's objects are read by attribute,
so this module imports the SDK only inside `map_error`.

Thinking goes to `reasoning`, never to `text`; the thinking blocks themselves, with
their signatures (and redacted thinking), travel with the first tool call in
`ToolCall.extra["thinking_blocks"]`, so that the next turn can send them back. Usage
is the API's own: input counted at `message_start`, output (cumulative) at
`message_delta`, cache counts in `details`.
"""

from __future__ import annotations

import json
from typing import Any

from modelhub.errors import ModelhubError, ResponseParseError
from modelhub.http.errors import (
    ErrorContext,
    api_error,
    connection_error,
    error_fields,
    status_for_error_code,
    timeout_error,
)
from modelhub.providers.anthropic.messages import THINKING_KEY
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.wrappers.accumulator import StreamAccumulator

__all__ = ["EventReader", "map_error", "parse_message", "usage_of"]

# Error types whose status is Anthropic's own (an `error` event inside a 200 stream
# carries only its type).
_TYPE_STATUS = {"overloaded_error": 529, "billing_error": 402, "request_too_large": 413}
_USAGE_DETAILS = ("cache_creation_input_tokens", "cache_read_input_tokens")


def usage_of(usage: Any) -> Usage | None:
    """Usage from an SDK `Usage` / `MessageDeltaUsage` (input may be absent)."""
    if usage is None:
        return None
    inp = getattr(usage, "input_tokens", None) or 0
    out = getattr(usage, "output_tokens", None) or 0
    details = {k: v for k in _USAGE_DETAILS if (v := getattr(usage, k, None))}
    return Usage(int(inp), int(out), int(inp) + int(out), details)


def _thinking(block: Any) -> dict[str, Any]:
    if block.type == "thinking":
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    return {"type": "redacted_thinking", "data": block.data}


def _with_thinking(calls: list[ToolCall], blocks: list[dict[str, Any]]) -> None:
    if calls and blocks:
        calls[0].extra[THINKING_KEY] = blocks


def parse_message(message: Any) -> ModelResponse:
    """A ModelResponse from an SDK `Message`."""
    texts: list[str] = []
    thoughts: list[str] = []
    thinking_blocks: list[dict[str, Any]] = []
    calls: list[ToolCall] = []
    for block in message.content:
        kind = block.type
        if kind == "text":
            texts.append(block.text)
        elif kind == "tool_use":
            if not isinstance(block.input, dict):
                raise ResponseParseError(f"tool_use {block.name!r} input is not an object")
            calls.append(ToolCall(id=block.id, name=block.name, arguments=dict(block.input)))
        elif kind in ("thinking", "redacted_thinking"):
            thinking_blocks.append(_thinking(block))
            if kind == "thinking" and block.thinking:
                thoughts.append(block.thinking)
    _with_thinking(calls, thinking_blocks)
    return ModelResponse(
        text="".join(texts) if texts or not calls else None, tool_calls=calls,
        usage=usage_of(message.usage), finish_reason=message.stop_reason,
        model=message.model, reasoning="".join(thoughts) or None, raw=message)


class EventReader:
    """Reads a stream's typed events into a `StreamAccumulator`."""

    __slots__ = ("_thinking", "accumulator", "stopped")

    def __init__(self, context: ErrorContext) -> None:
        self.accumulator = StreamAccumulator(context, usage_mode="merge", split_think=False)
        self._thinking: dict[int, dict[str, Any]] = {}
        self.stopped = False

    def feed(self, event: Any) -> str:
        """Take one event; return the answer text it carries ('' if none)."""
        acc = self.accumulator
        acc.add_raw(event)
        kind = event.type
        if kind == "content_block_delta":
            delta = event.delta
            dtype = delta.type
            if dtype == "text_delta":
                return acc.add_text(delta.text)
            if dtype == "input_json_delta":
                acc.add_tool_call_delta(event.index, arguments=delta.partial_json)
            elif dtype == "thinking_delta":
                acc.add_reasoning(delta.thinking)
                self._block(event.index)["thinking"] += delta.thinking
            elif dtype == "signature_delta":
                self._block(event.index)["signature"] = delta.signature
        elif kind == "content_block_start":
            block = event.content_block
            btype = block.type
            if btype == "text":
                return acc.add_text(block.text)
            if btype == "tool_use":
                acc.add_tool_call_delta(event.index, id=block.id, name=block.name)
            elif btype in ("thinking", "redacted_thinking"):
                self._thinking[event.index] = _thinking(block)
                acc.add_reasoning(getattr(block, "thinking", ""))
        elif kind == "message_delta":
            acc.set_finish_reason(event.delta.stop_reason)
            acc.add_usage(usage_of(event.usage))
        elif kind == "message_start":
            acc.set_model(event.message.model)
            acc.add_usage(usage_of(event.message.usage))
        elif kind == "message_stop":
            self.stopped = True
        return ""

    def end(self) -> str:
        """Nothing is held back in Anthropic's streams."""
        return ""

    def _block(self, index: int) -> dict[str, Any]:
        found = self._thinking.get(index)
        if found is None:
            found = self._thinking[index] = {"type": "thinking", "thinking": "",
                                             "signature": ""}
        return found

    def response(self) -> ModelResponse:
        """The complete response; a stream that ended before `message_stop` and without
        a stop reason is a ModelConnectionError carrying the text received."""
        acc = self.accumulator
        acc.check_complete(self.stopped)
        response = acc.response()
        _with_thinking(response.tool_calls, [self._thinking[i] for i in sorted(self._thinking)])
        return response


def _mro_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def map_error(exc: BaseException, context: ErrorContext) -> ModelhubError | None:
    """The `modelhub.errors` class for an exception the SDK (or its HTTP library, while a
    stream is read) raised; None for one that is not about the call. Raise the result
    outside the `except` that caught `exc`, so that `exc` is not kept as its context."""
    import anthropic

    if isinstance(exc, anthropic.APIStatusError):
        body = exc.body
        message, code = error_fields(body)
        status = exc.status_code
        if status < 400:  # an `error` event inside a 200 stream
            status = _TYPE_STATUS.get(code or "") or status_for_error_code(code) or 500
        return api_error(status, message or exc.message, context=context,
                         headers=exc.response.headers, body=body, code=code)
    if isinstance(exc, anthropic.APITimeoutError):
        return timeout_error(context)
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__ or exc
        return connection_error(context, f"could not reach the server "
                                         f"({type(cause).__name__}: {cause})")
    if isinstance(exc, anthropic.APIResponseValidationError):
        return ResponseParseError(f"the answer does not match the Messages API: {exc.message}",
                                  **context.fields())
    names = _mro_names(exc)
    if "TimeoutException" in names:  # the HTTP library's, while a stream was read
        return timeout_error(context, "no stream event arrived")
    if names & {"TransportError", "StreamError", "HTTPError"}:
        return connection_error(context, f"the stream broke ({type(exc).__name__}: {exc})")
    if isinstance(exc, json.JSONDecodeError):
        return ResponseParseError("a stream event is not JSON", **context.fields())
    return None
