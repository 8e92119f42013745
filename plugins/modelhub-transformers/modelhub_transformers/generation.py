"""One `generate()` of a chat call: what it runs with (`Plan`), running it (in the
caller's thread, or in a thread of its own feeding a streamer), and what may be shown
of the text as it streams (`Shown`).

A stream's generate() runs in a thread that holds the shared model's lock; closing the
stream early stops it at the next token (a stopping criterion watching an event).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from modelhub.plugin import StopTrimmer, ToolTextFilter, ToolTextProtocol

from modelhub_transformers.loading import SharedModel

__all__ = ["Plan", "Run", "Shown", "generate"]


@dataclass(slots=True)
class Plan:
    """Everything one generate() needs, prepared before it starts."""

    inputs: dict[str, Any]  # input_ids and attention_mask, on the model's device
    prompt_length: int
    kwargs: dict[str, Any]  # generate() arguments
    max_new_tokens: int
    adapter: str | None = None  # the PEFT name of the adapter on; None: the base model
    stops: list[str] = field(default_factory=list)
    tools: list[dict[str, Any]] | None = None  # what the answer is parsed for
    processors: list[Any] = field(default_factory=list)  # logits processors (one use)


def generate(shared: SharedModel, plan: Plan, *, streamer: Any = None,
             cancel: threading.Event | None = None) -> list[int]:
    """Run generate() under the model's lock; the new token ids."""
    import torch
    from transformers import LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

    class Cancelled(StoppingCriteria):  # type: ignore[misc]
        def __call__(self, input_ids: torch.Tensor, scores: Any, **_: Any) -> torch.Tensor:
            return torch.full((input_ids.shape[0],), cancel is not None and cancel.is_set(),
                              dtype=torch.bool, device=input_ids.device)

    kwargs = dict(plan.kwargs)
    if plan.processors:
        kwargs["logits_processor"] = LogitsProcessorList(plan.processors)
    if cancel is not None:
        kwargs["stopping_criteria"] = StoppingCriteriaList([Cancelled()])
    if streamer is not None:
        kwargs["streamer"] = streamer
    with shared.lock, torch.inference_mode(), shared.use(plan.adapter) as module:
        output = module.generate(**plan.inputs, **kwargs)
    return [int(t) for t in output[0, plan.prompt_length:].tolist()]


class Run(threading.Thread):
    """generate() in a thread of its own, feeding `streamer`; the output ids or the
    error are there once it has ended."""

    def __init__(self, shared: SharedModel, plan: Plan, streamer: Any) -> None:
        super().__init__(name="modelhub-transformers-generate", daemon=True)
        self._shared, self._plan, self._streamer = shared, plan, streamer
        self.cancelled = threading.Event()
        self.output: list[int] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        """Generate; on an error, end the streamer so its reader is not left waiting."""
        try:
            self.output = generate(self._shared, self._plan, streamer=self._streamer,
                                   cancel=self.cancelled)
        except BaseException as exc:  # handed to the reader, which raises it
            self.error = exc
            self._streamer.end()

    def cancel(self) -> None:
        """Stop generating at the next token."""
        self.cancelled.set()


class Shown:
    """What of a streamed answer may be shown as it comes: cut at the first stop
    string, and with text that may be a tool call held back until the end."""

    __slots__ = ("_stops", "_tools")

    def __init__(self, stops: Sequence[str], protocol: ToolTextProtocol,
                 tools: list[dict[str, Any]] | None) -> None:
        self._stops = StopTrimmer(stops) if stops else None
        self._tools = ToolTextFilter(protocol, tools) if tools else None

    def feed(self, delta: str) -> str:
        """The part of `delta` to show now."""
        if self._stops is not None:
            delta = self._stops.feed(delta)
        if self._tools is not None and delta:
            delta = self._tools.feed(delta)
        return delta

    def end(self) -> str:
        """At the end: what was held back and is answer text."""
        rest = self._stops.flush() if self._stops is not None else ""
        if self._tools is None:
            return rest
        shown = self._tools.feed(rest) if rest else ""
        held, calls = self._tools.finish()
        return shown + (held if not calls or held.strip() else "")
