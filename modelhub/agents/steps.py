"""What an agent run records and returns: its steps, the text deltas of a streamed run,
and the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from modelhub.response import ToolCall, Usage

if TYPE_CHECKING:
    from modelhub.tools import ToolResult

__all__ = ["AgentResult", "Delta", "Step", "StepKind"]

StepKind = Literal["thought", "action", "observation", "answer", "error"]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a run, recorded as it happens.

    - `thought`: what the model reasoned before acting (`content`);
    - `action`: a tool call it made (`tool_call`; `content` shows it as `name({...})`);
    - `observation`: what running the call gave (`result`; `content` is what the model
      is shown, an error included);
    - `answer`: the final answer (`content`);
    - `error`: a turn the agent could not use (an action that did not parse, a call step
      that made no call); `content` is what the model is told.

    `iteration` counts the model's reasoning turns from 1; `config_name` is the config
    that produced the step (None for observations).
    """

    kind: StepKind
    content: str
    iteration: int
    tool_call: ToolCall | None = None
    result: ToolResult | None = field(default=None, repr=False)
    config_name: str | None = None

    def __str__(self) -> str:
        return f"{self.kind.capitalize()}: {self.content}"


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of a model's text as it streams (`agent.stream(...)`): of a reasoning
    turn (`role="reason"`, which may turn out to be the answer) or of the answer asked
    for when the iterations ran out (`role="answer"`)."""

    text: str
    role: Literal["reason", "answer"]
    iteration: int
    config_name: str | None = None

    def __str__(self) -> str:
        return self.text


@dataclass(slots=True)
class AgentResult:
    """A finished run: the `answer`, every `step` in order, the conversation
    (`messages`, in the neutral shape, tool calls and results included), how many
    reasoning turns it took, why it stopped (`"answer"`, or `"max_iterations"` when
    the answer had to be asked for after the last iteration), and the token usage of
    every model call together."""

    answer: str | None
    steps: list[Step]
    messages: list[dict[str, Any]]
    iterations: int
    stop_reason: Literal["answer", "max_iterations"]
    usage: Usage = field(default_factory=Usage)

    def of_kind(self, kind: StepKind) -> list[Step]:
        """The steps of one kind, in order."""
        return [s for s in self.steps if s.kind == kind]

    @property
    def tool_calls(self) -> list[ToolCall]:
        """Every tool call made, in order."""
        return [s.tool_call for s in self.steps if s.kind == "action" and s.tool_call]

    def __str__(self) -> str:
        return self.answer or ""
