"""What every wrapper returns: `ModelResponse`, with its `ToolCall`s and `Usage`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelResponse", "ToolCall", "Usage"]


@dataclass(slots=True)
class ToolCall:
    """One function call the model asked for; `arguments` is already a dict.

    `extra` holds provider data that must travel back with the call on the next turn
    (Gemini's thought signature, for one).
    """

    id: str
    name: str
    arguments: dict[str, Any]
    type: str = "function"
    extra: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(slots=True)
class Usage:
    """The provider's own token counts for one call."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def __add__(self, other: Usage) -> Usage:
        """The counts of two calls (or two increments of one) together."""
        return Usage(self.input_tokens + other.input_tokens,
                     self.output_tokens + other.output_tokens,
                     self.total_tokens + other.total_tokens,
                     {**self.details, **other.details})


@dataclass(slots=True)
class ModelResponse:
    """The normalised answer of any wrapper.

    `text` never holds reasoning: that goes to `reasoning`. `embedding` holds one
    flat float vector per input, in input order. `raw` is the provider's own
    response (the decoded JSON body, or the list of stream chunks). `config_name` is
    the config that answered.
    """

    text: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None
    model: str | None = None
    reasoning: str | None = None
    embedding: list[list[float]] | None = None
    image_urls: list[str] | None = None
    parsed: Any = None
    raw: Any = field(default=None, repr=False)
    config_name: str | None = None

    def as_message(self) -> dict[str, Any]:
        """This answer as the assistant message that continues the conversation, in
        the neutral shape (tool calls with their arguments as a JSON string). A tool
        call whose provider data must travel back with it (`ToolCall.extra`) carries
        it under `extra`."""
        import json

        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            calls = []
            for c in self.tool_calls:
                call: dict[str, Any] = {
                    "id": c.id, "type": c.type,
                    "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                if c.extra:
                    call["extra"] = dict(c.extra)
                calls.append(call)
            message["tool_calls"] = calls
        return message

    def __str__(self) -> str:
        return self.text or ""
