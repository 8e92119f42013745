"""LiteLLM's answers into the neutral `ModelResponse`, and its exceptions into
`modelhub.errors` (`map_error`, the one place that does it).

LiteLLM answers in the OpenAI chat-completions shape whatever the provider, so a
complete answer is read by the OpenAI family's parser; stream chunks are read by
attribute. Reasoning (`reasoning_content`) goes to `reasoning`; Anthropic's thinking
blocks (`thinking_blocks`, signatures included) travel with the first tool call in
`ToolCall.extra`, so that the next turn sends them back. litellm is imported only
inside `map_error`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from modelhub.errors import ModelhubError, ResponseParseError
from modelhub.http.errors import (
    ErrorContext,
    api_error,
    connection_error,
    error_fields,
    optional_str,
    parse_answer,
    timeout_error,
)
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.wrappers.accumulator import StreamAccumulator

__all__ = ["THINKING_KEY", "ChunkReader", "map_error", "parse_completion"]

THINKING_KEY = "thinking_blocks"


def _with_thinking(calls: list[ToolCall], blocks: Any) -> None:
    if calls and blocks:
        calls[0].extra[THINKING_KEY] = [dict(b) for b in blocks]


def parse_completion(response: Any, context: ErrorContext) -> ModelResponse:
    """A ModelResponse from a litellm `ModelResponse` (its `raw`)."""
    from modelhub.providers.openai.wire import parse_chat_completion

    body = response.model_dump()
    parsed = parse_answer(parse_chat_completion, body, context)
    choices = body.get("choices") or [{}]
    _with_thinking(parsed.tool_calls, (choices[0].get("message") or {}).get(THINKING_KEY))
    parsed.raw = response
    return parsed


def _usage(usage: Any) -> Usage | None:
    if usage is None:
        return None
    inp = getattr(usage, "prompt_tokens", 0) or 0
    out = getattr(usage, "completion_tokens", 0) or 0
    return Usage(int(inp), int(out), int(getattr(usage, "total_tokens", 0) or inp + out))


class ChunkReader:
    """Reads litellm stream chunks (`ModelResponseStream`) into a `StreamAccumulator`."""

    __slots__ = ("_thinking", "accumulator")

    def __init__(self, context: ErrorContext) -> None:
        self.accumulator = StreamAccumulator(context, usage_mode="last")
        self._thinking: list[Any] = []

    def feed(self, chunk: Any) -> str:
        """Take one chunk; return the answer text it carries ('' if none)."""
        acc = self.accumulator
        acc.add_raw(chunk)
        acc.set_model(getattr(chunk, "model", None))
        acc.add_usage(_usage(getattr(chunk, "usage", None)))
        choices = chunk.choices
        if not choices:
            return ""
        choice = choices[0]
        acc.set_finish_reason(choice.finish_reason)
        delta = choice.delta
        reasoning = getattr(delta, "reasoning_content", None)
        if reasoning:
            acc.add_reasoning(reasoning)
        blocks = getattr(delta, THINKING_KEY, None)
        if blocks:
            self._thinking.extend(b if isinstance(b, Mapping) else dict(b) for b in blocks)
        for call in delta.tool_calls or ():
            fn = call.function
            acc.add_tool_call_delta(call.index, id=call.id, name=fn.name,
                                    arguments=fn.arguments, type=call.type)
        content = delta.content
        return acc.add_text(content) if content else ""

    def end(self) -> str:
        """At the end of the stream: the text held back while looking for a tag."""
        return self.accumulator.flush()

    def response(self) -> ModelResponse:
        """The complete response; a stream that ended without a finish reason is a
        ModelConnectionError carrying the text received."""
        acc = self.accumulator
        acc.check_complete(False)
        response = acc.response()
        _with_thinking(response.tool_calls, self._thinking)
        return response


def _provider_error(message: str) -> tuple[str | None, str | None, Any]:
    """(message, code, body) of the provider's own error, which LiteLLM quotes after
    "<Provider>Exception - " in its message."""
    start = message.find("{")
    if start < 0:
        return None, None, None
    try:
        body = json.loads(message[start:])
    except ValueError:
        return None, None, None
    found, code = error_fields(body)
    return found, code, body


def _transport_failure(exc: BaseException) -> str | None:
    """"timeout" or "connection" when what LiteLLM reports as a status error (its
    `InternalServerError` for "Connection error.") was a transport failure underneath."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        names = {cls.__name__ for cls in type(seen).__mro__}
        if names & {"APITimeoutError", "TimeoutException"}:
            return "timeout"
        if names & {"APIConnectionError", "TransportError"}:
            return "connection"
        seen = seen.__cause__ or seen.__context__
    return None


def map_error(exc: BaseException, context: ErrorContext) -> ModelhubError | None:
    """The `modelhub.errors` class for an exception litellm raised; None for one that
    is not about the call. Raise the result outside the `except` that caught `exc`."""
    import openai
    from litellm import exceptions as litellm

    transport = _transport_failure(exc)
    if isinstance(exc, litellm.Timeout) or transport == "timeout":
        return timeout_error(context)
    if isinstance(exc, litellm.APIConnectionError) or transport == "connection":
        return connection_error(context, f"could not reach the server ({exc})")
    if isinstance(exc, litellm.APIResponseValidationError):
        return ResponseParseError(f"the answer could not be read: {exc.message}",
                                  **context.fields())
    status = getattr(exc, "status_code", None)
    if isinstance(exc, openai.APIError) and isinstance(status, int):
        raw = optional_str(getattr(exc, "message", None), "an error message") or str(exc)
        message, code, body = _provider_error(raw)
        headers = getattr(exc, "litellm_response_headers", None) or \
            getattr(getattr(exc, "response", None), "headers", None)
        return api_error(status, message or raw, context=context, headers=headers,
                         body=body if body is not None else raw, code=code)
    return None
