"""The Ollama wire: generation arguments sorted into a request's own fields and its
`options`, and an answer (one object, or an NDJSON stream of them that ends with
`done: true`, its `done_reason` and its counts) read into a `ModelResponse`.

/api/chat carries text, thinking and tool calls in `message`; /api/generate carries
them as `response` and `thinking`. Ollama sends each tool call whole, its arguments an
object. Usage is `prompt_eval_count` and `eval_count`, reported once, at the end.
Pure Python: the `ollama` package is not imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelhub.errors import ModelAPIError, ResponseParseError
from modelhub.http.errors import ErrorContext, api_error, optional_str
from modelhub.providers.ollama.config import OPTION_ALIASES
from modelhub.response import ModelResponse, Usage
from modelhub.wrappers.accumulator import StreamAccumulator

__all__ = ["AnswerReader", "answer_error", "request_fields", "usage_of"]


def request_fields(params: Mapping[str, Any], fields: frozenset[str],
                   options: Mapping[str, Any] | None) -> dict[str, Any]:
    """A request's fields from generation arguments: the endpoint's own `fields` at top
    level; everything else (OpenAI's `max_tokens` as `num_predict`, and options this
    module does not list, which the server reads or ignores) in `options`, over the
    config's `options`. An `options` dict among the arguments is merged in."""
    merged = dict(options or {})
    body: dict[str, Any] = {}
    for key, value in params.items():
        if key == "options":
            if value is not None:
                if not isinstance(value, Mapping):
                    raise TypeError(f"options must be a dict, got {type(value).__name__}")
                merged.update(value)
        elif key in fields:
            body[key] = value
        else:
            merged[OPTION_ALIASES.get(key, key)] = value
    if merged:
        body["options"] = merged
    return body


def usage_of(answer: Mapping[str, Any]) -> Usage | None:
    """Usage from an answer's counts (None when it has neither)."""
    inp, out = answer.get("prompt_eval_count"), answer.get("eval_count")
    if inp is None and out is None:
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (inp or 0, out or 0)):
        raise ResponseParseError("prompt_eval_count or eval_count is not a number")
    return Usage(inp or 0, out or 0, (inp or 0) + (out or 0))


def answer_error(answer: Mapping[str, Any], context: ErrorContext) -> ModelAPIError:
    """The error for an `{"error": ...}` object where an answer was expected: a failure
    while the model ran (no status comes with it), a ServerError."""
    error = answer.get("error")
    message = error if isinstance(error, str) else str(error)
    return api_error(500, message, context=context, body=dict(answer))


class AnswerReader:
    """Reads one answer, whole or streamed object by object, into a StreamAccumulator.

    `chat` says which endpoint answered: /api/chat (`message`) or /api/generate
    (`response`)."""

    __slots__ = ("accumulator", "chat", "context", "done")

    def __init__(self, context: ErrorContext, *, chat: bool) -> None:
        self.context = context
        self.chat = chat
        self.accumulator = StreamAccumulator(context, usage_mode="last")
        self.done = False

    def feed(self, answer: Any) -> str:
        """Take one object; return the answer text it adds (may be '')."""
        if not isinstance(answer, Mapping):
            raise ResponseParseError(f"an answer is a {type(answer).__name__}, not an object")
        if answer.get("error"):
            raise answer_error(answer, self.context)
        acc = self.accumulator
        acc.add_raw(answer)
        acc.set_model(optional_str(answer.get("model"), "model"))
        if self.chat:
            message = answer.get("message")
            if not isinstance(message, Mapping):
                raise ResponseParseError("expected an Ollama chat answer with a 'message'")
            thinking, content = message.get("thinking"), message.get("content")
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                name = function.get("name")
                if not isinstance(name, str) or not name:
                    raise ResponseParseError("a tool call has no function name")
                acc.add_tool_call(name, function.get("arguments"),
                                  id=optional_str(call.get("id"), "a tool call id"))
        else:
            if "response" not in answer and not answer.get("done"):
                raise ResponseParseError("expected an Ollama generate answer with a "
                                         "'response'")
            thinking, content = answer.get("thinking"), answer.get("response")
        acc.add_reasoning(optional_str(thinking, "thinking") or "")
        text = acc.add_text(optional_str(content, "content") or "")
        if answer.get("done"):
            self.done = True
            acc.set_finish_reason(optional_str(answer.get("done_reason"), "done_reason"))
            acc.add_usage(usage_of(answer))
        return text

    def end(self) -> str:
        """The stream ended: release held-back text; an end before `done: true` raises
        ModelConnectionError carrying the text received."""
        text = self.accumulator.flush()
        self.accumulator.check_complete(self.done)
        return text

    def response(self) -> ModelResponse:
        """The complete response."""
        return self.accumulator.response()

    def whole(self, answer: Any) -> ModelResponse:
        """The response of a whole (not streamed) answer; `raw` is the answer itself."""
        self.feed(answer)
        self.accumulator.flush()
        response = self.accumulator.response()
        response.raw = answer
        return response
