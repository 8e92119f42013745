"""`StreamAccumulator`: what every provider's chat stream feeds, whatever its wire.

A provider's stream handler reads its own events and reports what they carry: text
(with `<think>` blocks moved to reasoning as they stream), reasoning, tool calls as
fragments by index or complete, usage, the finish reason and the model. The
accumulator keeps the bookkeeping that is the same everywhere and builds the final
`ModelResponse`:

- tool-call fragments are assembled by index; a fragment that repeats the whole name
  (some OpenAI-compatible routers send it in every fragment) is not appended again,
  and an empty id never overwrites a real one;
- usage is taken as the provider reports it: the last report (`"last"`: cumulative
  counts, or one report at the end), the sum of increments (`"sum"`), or field by
  field, the latest non-zero value (`"merge"`: input counted at the start, output at
  the end);
- a stream that ends with neither its terminator nor a finish reason is an error
  carrying the text received so far.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from modelhub.errors import ResponseParseError
from modelhub.http.errors import ErrorContext, connection_error, with_context
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.wrappers.reasoning import ThinkSplitter

__all__ = ["StreamAccumulator", "UsageMode"]

UsageMode = Literal["last", "sum", "merge"]


@dataclass(slots=True)
class _PendingCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)
    parsed: dict[str, Any] | None = None  # complete calls carry their arguments decoded
    type: str = "function"
    extra: dict[str, Any] = field(default_factory=dict)


class StreamAccumulator:
    """The state of one chat stream, built into a `ModelResponse` at its end."""

    __slots__ = ("_calls", "_raw", "_reasoning", "_splitter", "_text", "_usage_mode", "chunks",
                 "context", "finish_reason", "model", "progress", "usage")

    def __init__(self, context: ErrorContext, *, usage_mode: UsageMode = "last",
                 split_think: bool = True) -> None:
        """`context` names the call in the errors raised; `usage_mode` is how this
        provider reports usage; `split_think` moves `<think>` blocks out of the text."""
        self.context = context
        self._usage_mode = usage_mode
        self._splitter = ThinkSplitter() if split_think else None
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, _PendingCall] = {}
        self.chunks: list[Any] = []
        self._raw: Sequence[Any] | None = None
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.model: str | None = None
        # How many deltas (text, reasoning, tool call, usage) it has taken: a stream's
        # reader sees from it whether an item moved the answer on (a keep-alive does not).
        self.progress = 0

    # -- what the stream delivers ----------------------------------------------------
    def add_text(self, delta: str) -> str:
        """Take a content delta; return the part that is answer text (may be '')."""
        if not delta:
            return ""
        self.progress += 1
        splitter = self._splitter
        if splitter is None:
            self._text.append(delta)
            return delta
        text = self._keep(*splitter.feed(delta))
        if splitter.passing_through:  # no `<think>` block can start any more
            self._splitter = None
        return text

    def _keep(self, text: str, thought: str) -> str:
        if thought:
            self._reasoning.append(thought)
        if text:
            self._text.append(text)
        return text

    def add_reasoning(self, delta: str) -> None:
        """Take a delta of reasoning the provider marks as such."""
        if delta:
            self.progress += 1
            self._reasoning.append(delta)

    def add_tool_call_delta(self, index: int | None = None, *, id: str | None = None,
                            name: str | None = None, arguments: str | None = None,
                            type: str | None = None) -> None:
        """Take one fragment of a streamed tool call.

        `index` says which call it belongs to; without one, a fragment with a new id
        starts a call and any other continues the last.
        """
        self.progress += 1
        call = self._call_for(index, id)
        if id:
            call.id = id
        if type:
            call.type = type
        if name:
            if not call.name or name.startswith(call.name):
                # the first piece, a repeat of the whole name, or the name so far grown
                call.name = name
            elif call.name != name:
                call.name += name
        if arguments:
            call.arguments.append(arguments)

    def add_tool_call(self, name: str, arguments: str | Mapping[str, Any] | None, *,
                      id: str | None = None, extra: Mapping[str, Any] | None = None) -> None:
        """Take a tool call the provider sends whole in one event."""
        self.progress += 1
        call = _PendingCall(id=id or "", name=name, extra=dict(extra or {}))
        if isinstance(arguments, Mapping):
            call.parsed = dict(arguments)
        elif arguments:
            call.arguments.append(arguments)
        self._calls[len(self._calls)] = call

    def _call_for(self, index: int | None, id: str | None) -> _PendingCall:
        if index is None:
            calls = list(self._calls.values())
            known = next((c for c in calls if id and c.id == id), None)
            if known is not None:
                return known
            if calls and not (id and calls[-1].id):
                return calls[-1]  # no id, or the first id of the last call
            index = len(self._calls)
        found = self._calls.get(index)
        if found is None:
            found = self._calls[index] = _PendingCall()
        return found

    def add_usage(self, usage: Usage | None) -> None:
        """Take a usage report, as this provider's usage mode says."""
        if usage is None:
            return
        self.progress += 1
        current = self.usage
        if current is None or self._usage_mode == "last":
            self.usage = usage
        elif self._usage_mode == "sum":
            self.usage = current + usage
        else:  # merge
            inp = usage.input_tokens or current.input_tokens
            out = usage.output_tokens or current.output_tokens
            total = usage.total_tokens if usage.total_tokens >= inp + out else inp + out
            self.usage = Usage(inp, out, total, {**current.details, **usage.details})

    def set_finish_reason(self, reason: str | None) -> None:
        """Record why the model stopped (a later report wins)."""
        if reason:
            self.finish_reason = reason

    def set_model(self, model: str | None) -> None:
        """Record the model the provider says answered."""
        if model:
            self.model = model

    def add_raw(self, chunk: Any) -> None:
        """Keep one provider event for `ModelResponse.raw` (unless `use_raw` was called)."""
        if self._raw is None:
            self.chunks.append(chunk)

    def use_raw(self, raw: Sequence[Any]) -> None:
        """Let `raw` be the response's `raw`: the provider's events kept elsewhere in a
        cheaper form (built into the provider's own objects on first use, say). What
        `add_raw` is fed from then on is not kept."""
        self._raw = raw

    # -- the end ---------------------------------------------------------------------
    @property
    def text(self) -> str:
        """The answer text received so far."""
        return "".join(self._text)

    def flush(self) -> str:
        """At the end of the stream: release text held back while looking for a tag."""
        if self._splitter is None:
            return ""
        return self._keep(*self._splitter.flush())

    def check_complete(self, terminated: bool) -> None:
        """Raise ModelConnectionError if the stream ended early: without its terminator
        (`terminated`) and without a finish reason. It carries the text received."""
        if not terminated and self.finish_reason is None:
            raise connection_error(
                self.context, "the stream ended early, before its end or a finish reason",
                partial_text=self.text)

    def response(self) -> ModelResponse:
        """The complete response."""
        try:
            calls = self._tool_calls()
        except ResponseParseError as error:
            error.partial_text = self.text
            raise with_context(error, self.context) from None
        return ModelResponse(
            text=self.text if self._text or not calls else None, tool_calls=calls,
            usage=self.usage, finish_reason=self.finish_reason, model=self.model,
            reasoning="".join(self._reasoning) or None,
            raw=self.chunks if self._raw is None else self._raw)

    def _tool_calls(self) -> list[ToolCall]:
        from modelhub.wrappers.tools import parse_arguments

        calls = []
        for i, call in enumerate(self._calls.values()):
            if not call.name:
                raise ResponseParseError(f"streamed tool call {i} has no function name")
            arguments = call.parsed if call.parsed is not None else \
                parse_arguments("".join(call.arguments), tool_name=call.name)
            calls.append(ToolCall(id=call.id or f"call_{i}", name=call.name,
                                  arguments=arguments, type=call.type, extra=call.extra))
        return calls
