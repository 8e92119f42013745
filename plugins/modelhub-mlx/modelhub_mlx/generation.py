"""From mlx-lm's generation events to deltas and a `ModelResponse`, with no mlx here
(so it runs, and is tested, on any machine).

`mlx_lm.stream_generate` yields one event per token: its text piece, the prompt's and
the answer's token counts so far, and a finish reason on the last. A stop string ends
the generation as soon as it appears (the event generator is closed) and is cut from
the text; tool calls are parsed from the text at the end.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from modelhub.plugin import (
    AnswerFilter,
    ModelResponse,
    ToolCall,
    ToolTextProtocol,
    Usage,
    trim_at_stop,
)

__all__ = ["Generation", "sampling_options"]

# Our names -> make_sampler()'s.
_SAMPLER = {"temperature": "temp", "temp": "temp", "top_p": "top_p", "top_k": "top_k",
            "min_p": "min_p"}
_PROCESSORS = ("repetition_penalty", "repetition_context_size")


def sampling_options(params: Mapping[str, Any], default_max_tokens: int
                     ) -> tuple[int, dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A call's generation arguments split for mlx-lm: (max_tokens, make_sampler()
    arguments, make_logits_processors() arguments, other stream_generate() arguments)."""
    rest = dict(params)
    limit = rest.pop("max_tokens", None)
    alias = rest.pop("max_new_tokens", None)
    max_tokens = int(limit if limit is not None else alias if alias is not None
                     else default_max_tokens)
    sampler = {_SAMPLER[k]: rest.pop(k) for k in list(rest) if k in _SAMPLER}
    processors = {k: rest.pop(k) for k in _PROCESSORS if k in rest}
    return max_tokens, sampler, processors, rest


class Generation:
    """One answer being read from mlx-lm's events."""

    def __init__(self, events: Iterator[Any], *, stops: Sequence[str] | None,
                 protocol: ToolTextProtocol, tools: list[dict[str, Any]] | None,
                 model: str) -> None:
        self._events = events
        self._stops = list(stops or ())
        self._protocol, self._tools, self._model = protocol, tools, model
        self._pieces: list[str] = []
        self._longest_stop = max((len(s) for s in self._stops), default=0)
        self._tail = ""
        self.prompt_tokens = self.output_tokens = 0
        self.finish_reason: str | None = None

    def _stopped(self, piece: str) -> bool:
        """Whether a stop string has appeared, now that `piece` came."""
        if not self._stops:
            return False
        self._tail = (self._tail + piece)[-(self._longest_stop + len(piece)):]
        return any(stop in self._tail for stop in self._stops)

    def deltas(self) -> Iterator[str]:
        """The text to show, as it is generated."""
        shown = AnswerFilter(self._stops, self._protocol, self._tools)
        try:
            for event in self._events:
                self.prompt_tokens = int(getattr(event, "prompt_tokens", 0) or 0)
                self.output_tokens = int(getattr(event, "generation_tokens", 0) or 0)
                self.finish_reason = getattr(event, "finish_reason", None) or self.finish_reason
                piece = str(event.text)
                self._pieces.append(piece)
                if text := shown.feed(piece):
                    yield text
                if self._stopped(piece):
                    self.finish_reason = "stop"
                    break
        finally:
            close = getattr(self._events, "close", None)
            if close is not None:
                close()
        if rest := shown.end():
            yield rest

    def response(self) -> ModelResponse:
        """The complete answer (once `deltas()` has been read to its end)."""
        raw = "".join(self._pieces)
        text: str | None = trim_at_stop(raw, self._stops) if self._stops else raw
        calls: list[ToolCall] = []
        finish = self.finish_reason
        if self._tools:
            parsed, calls = self._protocol.parse(text, self._tools)
            if calls:
                text, finish = parsed, "tool_calls"
        return ModelResponse(
            text=text, tool_calls=calls, finish_reason=finish, model=self._model,
            usage=Usage(self.prompt_tokens, self.output_tokens,
                        self.prompt_tokens + self.output_tokens),
            raw={"text": raw})
