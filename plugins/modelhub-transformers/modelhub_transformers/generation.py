"""One `generate()` of a chat call: what it runs with (`Plan`), and running it (in the
caller's thread, or in a thread of its own feeding a streamer).

A stream's generate() runs in a thread that holds the shared model's lock; closing the
stream early stops it at the next token (a stopping criterion watching an event).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from modelhub_transformers.loading import SharedModel

__all__ = ["Plan", "Run", "generate"]


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
