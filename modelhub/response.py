"""What every wrapper returns: `ModelResponse`, with its `ToolCall`s and `Usage`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelResponse", "ToolCall", "Usage"]


@dataclass(slots=True)
class ToolCall:
    """One function call the model asked for; `arguments` is already a dict."""

    id: str
    name: str
    arguments: dict[str, Any]
    type: str = "function"

    def to_openai(self) -> dict[str, Any]:
        """This call in the OpenAI `tool_calls` message shape (to send it back)."""
        import json

        return {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.name, "arguments": json.dumps(self.arguments)},
        }


@dataclass(slots=True)
class Usage:
    """The provider's own token counts for one call."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.total_tokens + other.total_tokens,
        )


@dataclass(slots=True)
class ModelResponse:
    """The normalised answer of any wrapper.

    `text` never holds reasoning: that goes to `reasoning`. `embedding` holds one
    flat float vector per input, in input order. `raw` is the provider's own
    response (the decoded JSON body, or the list of stream chunks).
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

    def __str__(self) -> str:
        return self.text or ""
