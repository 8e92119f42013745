"""Gemini's answers (the SDK's `GenerateContentResponse`, whole or one stream chunk at a
time) into the neutral `ModelResponse`, through the shared `StreamAccumulator`.

What the wire does that this copes with:

- `usageMetadata` comes with every chunk, cumulative, and its counts (the prompt's
  too) may change from chunk to chunk: the last report is the usage. Input is the
  prompt (and tool-use prompt) tokens; output the candidates' and the thoughts'.
  `MAX_TOKENS` may come with no text and no `candidatesTokenCount` at all;
- parts marked `thought` are reasoning, never text; a function call comes whole in
  one part, and its `thoughtSignature` is kept in `ToolCall.extra` to go back with it;
- the last chunk may carry an empty text part; a blocked answer (`SAFETY`) may have
  `content: {}`, and a blocked prompt no candidate at all (its `blockReason` is then
  the finish reason);
- the finish reason is Gemini's own name (`STOP`, `MAX_TOKENS`, `SAFETY`, ...).
"""

from __future__ import annotations

from typing import Any

from modelhub.errors import ResponseParseError
from modelhub.http.errors import ErrorContext
from modelhub.providers.gemini.messages import signature_extra
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.wrappers.accumulator import StreamAccumulator

__all__ = ["ChunkReader", "parse_response", "parse_usage"]

_DETAILS = ("cached_content_token_count", "thoughts_token_count",
            "tool_use_prompt_token_count")


def _name(value: Any) -> str | None:
    """An SDK enum (or an unknown value the SDK kept as a string) by its wire name."""
    if value is None:
        return None
    name = getattr(value, "_value_", value)  # an enum's value, without its descriptor
    return str(name) if name != "" else None


def parse_usage(meta: Any) -> Usage | None:
    """Usage from a `usageMetadata` object (None when absent)."""
    if meta is None:
        return None
    prompt = (meta.prompt_token_count or 0) + (meta.tool_use_prompt_token_count or 0)
    output = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
    details = {k: v for k in _DETAILS if (v := getattr(meta, k, None))}
    return Usage(prompt, output, meta.total_token_count or prompt + output, details)


class ChunkReader:
    """Reads the `GenerateContentResponse` chunks of a stream into a
    `StreamAccumulator`; `feed` returns the text each one adds."""

    __slots__ = ("_usage", "accumulator")

    def __init__(self, context: ErrorContext) -> None:
        self.accumulator = StreamAccumulator(context, usage_mode="last", split_think=False)
        self._usage: Any = None  # the last usageMetadata (cumulative: read at the end)

    def feed(self, chunk: Any) -> str:
        """Take one chunk; return its answer text (may be '')."""
        acc = self.accumulator
        acc.add_raw(chunk)
        if chunk.usage_metadata is not None:
            self._usage = chunk.usage_metadata
        acc.set_model(chunk.model_version)
        feedback = chunk.prompt_feedback
        if feedback is not None:
            acc.set_finish_reason(_name(feedback.block_reason))
        if not chunk.candidates:
            return ""
        candidate = chunk.candidates[0]
        acc.set_finish_reason(_name(candidate.finish_reason))
        content = candidate.content
        text = []
        for part in (content.parts if content is not None else None) or ():
            call = part.function_call
            if call is not None:
                acc.add_tool_call(call.name or "", dict(call.args or {}), id=call.id,
                                  extra=signature_extra(part.thought_signature))
            elif part.thought:
                acc.add_reasoning(part.text or "")
            elif part.text:
                text.append(acc.add_text(part.text))
        return "".join(text)

    def end(self) -> str:
        """The stream ended: without a finish reason, it ended early (an error). Gemini
        holds nothing back, so no text is left to give."""
        self.accumulator.check_complete(False)
        return ""

    def response(self) -> ModelResponse:
        """The complete response."""
        self.accumulator.add_usage(parse_usage(self._usage))
        return self.accumulator.response()


def parse_response(response: Any) -> ModelResponse:
    """A ModelResponse from a whole `GenerateContentResponse` (`raw` is that object)."""
    text: list[str] = []
    reasoning: list[str] = []
    calls: list[ToolCall] = []
    finish = None
    feedback = response.prompt_feedback
    if feedback is not None:
        finish = _name(feedback.block_reason)
    if response.candidates:
        candidate = response.candidates[0]
        finish = _name(candidate.finish_reason) or finish
        content = candidate.content
        for part in (content.parts if content is not None else None) or ():
            call = part.function_call
            if call is not None:
                if not call.name:
                    raise ResponseParseError(f"function call {len(calls)} has no name")
                calls.append(ToolCall(id=call.id or f"call_{len(calls)}", name=call.name,
                                      arguments=dict(call.args or {}),
                                      extra=signature_extra(part.thought_signature) or {}))
            elif part.thought:
                reasoning.append(part.text or "")
            elif part.text:
                text.append(part.text)
    return ModelResponse(
        text="".join(text) if text or not calls else None, tool_calls=calls,
        usage=parse_usage(response.usage_metadata), finish_reason=finish,
        model=response.model_version, reasoning="".join(reasoning) or None, raw=response)
