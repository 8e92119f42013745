"""The OpenAI chat completions wire: a `chat.completion` body or a stream of
`chat.completion.chunk` events into the neutral `ModelResponse`, and an error sent
inside a 200 stream into a `modelhub.errors` class. Pure Python: httpx is not imported
here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelhub.errors import ModelAPIError, ResponseParseError
from modelhub.http.errors import (
    ErrorContext,
    api_error,
    decode_json,
    error_fields,
    optional_str,
    status_for_error_code,
)
from modelhub.http.framing import Frame
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.wrappers.accumulator import StreamAccumulator
from modelhub.wrappers.reasoning import split_think

__all__ = ["ChatStreamHandler", "add_tool_call_fragments", "parse_chat_completion",
           "parse_tool_calls", "parse_usage", "reasoning_of", "stream_error", "text_of"]


# Keys that are never a `..._details` part: a usage object of these alone has none.
_PLAIN_USAGE = frozenset({"prompt_tokens", "completion_tokens", "total_tokens",
                          "input_tokens", "output_tokens"})


def parse_usage(usage: Any) -> Usage | None:
    """Usage from an OpenAI `usage` object (the embeddings shape too)."""
    if not isinstance(usage, dict) and (usage is None or not isinstance(usage, Mapping)):
        return None
    get = usage.get
    inp = get("prompt_tokens") or get("input_tokens") or 0
    out = get("completion_tokens") or get("output_tokens") or 0
    details = {} if usage.keys() <= _PLAIN_USAGE else {
        k: v for k, v in usage.items() if k.endswith("_details") and isinstance(v, Mapping)}
    return Usage(int(inp), int(out), int(get("total_tokens") or inp + out), details)


def text_of(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):  # some servers answer with content parts
        return "".join(p.get("text", "") for p in content
                       if isinstance(p, Mapping) and p.get("type") in ("text", "output_text"))
    raise ResponseParseError(f"message content is {type(content).__name__}, not text")


def _tool_call(tc: Mapping[str, Any], index: int) -> ToolCall:
    from modelhub.wrappers.tools import parse_arguments

    fn = tc.get("function") or {}
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        raise ResponseParseError(f"tool call {index} has no function name")
    return ToolCall(id=optional_str(tc.get("id"), "a tool call id") or f"call_{index}",
                    name=name, arguments=parse_arguments(fn.get("arguments"), tool_name=name),
                    type=optional_str(tc.get("type"), "a tool call type") or "function")


def parse_tool_calls(calls: Any) -> list[ToolCall]:
    """ToolCalls from an OpenAI `tool_calls` list (None or empty: none)."""
    if not calls:
        return []
    if not isinstance(calls, list):
        raise ResponseParseError("'tool_calls' is not a list")
    return [_tool_call(tc, i) for i, tc in enumerate(calls)]


def add_tool_call_fragments(acc: StreamAccumulator, fragments: Any) -> None:
    """Feed the fragments of a chunk's `delta.tool_calls` to an accumulator."""
    for tc in fragments or ():
        fn = tc.get("function") or {}
        index = tc.get("index")
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise ResponseParseError("a tool call index is not a number")
        acc.add_tool_call_delta(
            index, id=optional_str(tc.get("id"), "a tool call id"),
            name=optional_str(fn.get("name"), "a tool name"),
            arguments=optional_str(fn.get("arguments"), "tool call arguments"),
            type=optional_str(tc.get("type"), "a tool call type"))


def reasoning_of(part: Mapping[str, Any]) -> str | None:
    """The reasoning a message or delta carries (`reasoning_content`, or `reasoning` as
    OpenRouter and vLLM name it)."""
    value = part.get("reasoning_content") or part.get("reasoning")
    return optional_str(value, "reasoning content") if value else None


def parse_chat_completion(body: Any) -> ModelResponse:
    """A ModelResponse from a `chat.completion` body."""
    choices = body.get("choices") if isinstance(body, (dict, Mapping)) else None
    if not isinstance(choices, list):
        raise ResponseParseError("expected a chat.completion object with 'choices'",
                                 response=body)
    choice = choices[0] if choices else {}
    message = choice.get("message") or {}
    text, reasoning = split_think(text_of(message.get("content")))
    native = reasoning_of(message)
    if native:
        reasoning = native if reasoning is None else native + reasoning
    return ModelResponse(
        text=text, tool_calls=parse_tool_calls(message.get("tool_calls")),
        usage=parse_usage(body.get("usage")),
        finish_reason=optional_str(choice.get("finish_reason"), "finish_reason"),
        model=optional_str(body.get("model"), "model"), reasoning=reasoning, raw=body)


def stream_error(payload: Any, context: ErrorContext) -> ModelAPIError:
    """The error for an error event inside a 200 stream: its status from the event's
    own status or code, else from its type, else 500."""
    message, code = error_fields(payload)
    err = payload.get("error", payload) if isinstance(payload, Mapping) else {}
    fields = err if isinstance(err, Mapping) else {}
    status = status_for_error_code(fields.get("status"), fields.get("status_code"),
                                   fields.get("code"), fields.get("type")) or 500
    return api_error(status, message or "error inside the response stream", context=context,
                     body=payload, code=code)


class ChatStreamHandler:
    """Reads `chat.completion.chunk` events into a `StreamAccumulator`."""

    __slots__ = ("accumulator", "context", "finished")

    def __init__(self, context: ErrorContext) -> None:
        self.context = context
        self.accumulator = StreamAccumulator(context, usage_mode="last")
        self.finished = False

    def feed(self, frame: Frame) -> str | None:
        """Take one SSE event; return the text delta it carries, if any."""
        if frame.data == "[DONE]":
            self.finished = True
            return None
        chunk = decode_json(frame.data, self.context, "a stream event")
        if frame.event == "error":
            raise stream_error(chunk, self.context)
        return self.take(chunk)

    def take(self, chunk: Any) -> str | None:
        """Take one decoded `chat.completion.chunk` (a mapping, or an SDK's object that
        is one); return the text delta it carries, if any."""
        # Every event passes here: a decoded dict skips the slower Mapping check, and
        # fields an event does not carry cost one lookup each.
        if not (type(chunk) is dict or isinstance(chunk, Mapping)):
            raise ResponseParseError("a stream event is not a JSON object",
                                     **self.context.fields())
        if chunk.get("error"):
            raise stream_error(chunk, self.context)
        acc = self.accumulator
        acc.add_raw(chunk)
        usage = chunk.get("usage")
        if usage is not None:
            acc.add_usage(parse_usage(usage))
        model = chunk.get("model")
        if model is not None:
            acc.set_model(optional_str(model, "model"))
        choices = chunk.get("choices")
        if not choices:
            return None
        choice = choices[0]
        reason = choice.get("finish_reason")
        if reason is not None:
            acc.set_finish_reason(optional_str(reason, "finish_reason"))
        delta = choice.get("delta") or {}
        if "reasoning_content" in delta or "reasoning" in delta:
            acc.add_reasoning(reasoning_of(delta) or "")
        fragments = delta.get("tool_calls")
        if fragments:
            add_tool_call_fragments(acc, fragments)
        content = delta.get("content")
        if not content:
            return None
        return acc.add_text(content if type(content) is str else text_of(content) or "")

    def end(self) -> str | None:
        """Release held-back text; an early end (no [DONE], no finish reason) raises."""
        text = self.accumulator.flush()
        self.accumulator.check_complete(self.finished)
        return text or None

    def response(self) -> ModelResponse:
        """The complete response, once the stream has ended."""
        return self.accumulator.response()
