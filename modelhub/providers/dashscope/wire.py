"""DashScope's answers (as the SDK hands them over: dicts with `status_code`, `output`,
`usage`) into `ModelResponse`: Generation and MultiModalConversation with
`result_format="message"`, whole or streamed with `incremental_output`.

What the wire does that a reader must cope with: `finish_reason` is the string
`"null"` until the last event; usage is cumulative in every event (taken once, the
last); a message's content is a string (Generation) or a list of `{"text": ...}`
(MultiModalConversation, `[]` in tool-call events); streamed tool-call fragments carry
`"id": ""` and no name after the first; `finish_reason` may be `"stop"` beside
`tool_calls`, and is reported as sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelhub.errors import ResponseParseError
from modelhub.http.errors import ErrorContext, optional_str, parse_answer
from modelhub.providers.dashscope.errors import answer_error
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.wrappers.accumulator import StreamAccumulator
from modelhub.wrappers.reasoning import split_think

__all__ = ["StreamReader", "check_answer", "finish_reason", "parse_generation",
           "parse_usage", "text_of"]


def check_answer(answer: Any, context: ErrorContext, partial_text: str | None = None) -> None:
    """Raise the mapped error if `answer` is an error answer (status not 200)."""
    if not isinstance(answer, Mapping):
        raise ResponseParseError(f"the SDK returned {type(answer).__name__}, not an answer",
                                 **context.fields())
    if answer.get("status_code") != 200:
        raise answer_error(answer, context, partial_text=partial_text)


def parse_usage(usage: Any) -> Usage | None:
    """Usage from DashScope's `usage` (`input_tokens`, `output_tokens`, `total_tokens`;
    the rest, `image_tokens` and `*_details` among them, kept in `details`)."""
    if not isinstance(usage, Mapping) or not usage:
        return None
    inp = int(usage.get("input_tokens") or 0)
    out = int(usage.get("output_tokens") or 0)
    total = int(usage.get("total_tokens") or inp + out)
    details = {k: v for k, v in usage.items()
               if k not in ("input_tokens", "output_tokens", "total_tokens")}
    return Usage(inp, out, total, details)


def text_of(content: Any) -> str:
    """A message's text: a string as is, a list of `{"text": ...}` parts joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p["text"]) for p in content
                       if isinstance(p, dict) and p.get("text") is not None)
    raise ResponseParseError(f"message content is {type(content).__name__}, not text")


def finish_reason(value: Any) -> str | None:
    """The finish reason as sent, with DashScope's `"null"` (not finished) as None."""
    reason = optional_str(value, "finish_reason")
    return None if reason in (None, "", "null") else reason


def _choice(output: Any) -> Mapping[str, Any]:
    # dict, not Mapping: the SDK's answers are dicts, and this runs for every event
    if not isinstance(output, dict):
        raise ResponseParseError("the answer has no 'output' object")
    choices = output.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ResponseParseError("the answer has no choices (result_format='message')")
    return choices[0]


def _tool_call(tc: Mapping[str, Any], index: int) -> ToolCall:
    from modelhub.wrappers.tools import parse_arguments

    fn = tc.get("function") or {}
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        raise ResponseParseError(f"tool call {index} has no function name")
    return ToolCall(id=optional_str(tc.get("id"), "a tool call id") or f"call_{index}",
                    name=name, arguments=parse_arguments(fn.get("arguments"), tool_name=name),
                    type=optional_str(tc.get("type"), "a tool call type") or "function")


def parse_generation(answer: Mapping[str, Any], model: str) -> ModelResponse:
    """A ModelResponse from a whole Generation or MultiModalConversation answer.
    DashScope does not name the model that answered: `model` is the one asked for."""
    choice = _choice(answer.get("output"))
    message = choice.get("message") or {}
    text, thought = split_think(text_of(message.get("content")))
    reasoning = optional_str(message.get("reasoning_content"), "reasoning_content")
    if thought:
        reasoning = reasoning + thought if reasoning else thought
    calls = message.get("tool_calls")
    if calls and not isinstance(calls, list):
        raise ResponseParseError("'tool_calls' is not a list")
    tool_calls = [_tool_call(tc, i) for i, tc in enumerate(calls)] if calls else []
    return ModelResponse(
        text=text if text or not tool_calls else None, tool_calls=tool_calls,
        usage=parse_usage(answer.get("usage")),
        finish_reason=finish_reason(choice.get("finish_reason")),
        model=model, reasoning=reasoning or None, raw=answer)


class StreamReader:
    """Reads one incremental stream of answers into a `StreamAccumulator`."""

    __slots__ = ("_usage", "accumulator", "context")

    def __init__(self, context: ErrorContext, model: str) -> None:
        self.context = context
        self._usage: Any = None  # cumulative: only the last report is read, at the end
        self.accumulator = StreamAccumulator(context, usage_mode="last")
        self.accumulator.set_model(model)

    def feed(self, answer: Any) -> str | None:
        """Take one event; return the text delta it carries, if any. An error event
        raises its mapped error, carrying the text received before it."""
        if not isinstance(answer, dict) or answer.get("status_code") != 200:
            check_answer(answer, self.context, partial_text=self.accumulator.text)
        return parse_answer(self._read, answer, self.context)

    def _read(self, answer: Mapping[str, Any]) -> str | None:
        # Runs for every event: values that carry nothing are skipped before any check.
        acc = self.accumulator
        acc.add_raw(answer)
        usage = answer.get("usage")
        if usage:
            self._usage = usage
        choice = _choice(answer.get("output"))
        reason = choice.get("finish_reason")
        if reason and reason != "null":
            acc.set_finish_reason(finish_reason(reason))
        message = choice.get("message") or {}
        reasoning = message.get("reasoning_content")
        if reasoning:
            acc.add_reasoning(optional_str(reasoning, "reasoning") or "")
        for tc in message.get("tool_calls") or ():
            fn = tc.get("function") or {}
            index = tc.get("index")
            if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
                raise ResponseParseError("a tool call index is not a number")
            acc.add_tool_call_delta(
                index, id=optional_str(tc.get("id"), "a tool call id"),
                name=optional_str(fn.get("name"), "a tool name"),
                arguments=optional_str(fn.get("arguments"), "tool call arguments"),
                type=optional_str(tc.get("type"), "a tool call type"))
        content = message.get("content")
        if not content:
            return None
        return acc.add_text(content if type(content) is str else text_of(content))

    def end(self) -> str | None:
        """At the end of the stream: release held-back text; a stream that ended before
        its last event (the one with a finish reason) raises."""
        text = self.accumulator.flush()
        self.accumulator.check_complete(False)
        self.accumulator.add_usage(parse_answer(parse_usage, self._usage, self.context))
        return text or None

    def response(self) -> ModelResponse:
        """The complete response, once the stream has ended."""
        return self.accumulator.response()
