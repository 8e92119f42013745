"""The config classes of the `scripted` model type (`modelhub.testing`), apart from its
wrapper: `init()` imports only this module."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from modelhub.capabilities import Capability
from modelhub.config.schema import ConfigModel, ModelConfig

if TYPE_CHECKING:
    from modelhub.testing import ScriptedReply

__all__ = ["ReplySpec", "ScriptedConfig"]


class ReplySpec(ConfigModel):
    """A reply written in a config file (`responses:` of a `scripted` config)."""

    text: str | None = None
    chunks: list[str] | None = None
    json_value: Any = Field(default=None, alias="json")
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    reasoning: str | None = None
    usage: tuple[int, int] | None = None
    finish_reason: str | None = None
    error: int | None = Field(default=None, ge=400, le=599,
                              description="An HTTP status to fail with.")
    message: str = "scripted error"
    retry_after: float | None = None
    error_after: int | None = Field(default=None, ge=0)
    delay: float = Field(default=0.0, ge=0)

    def build(self) -> ScriptedReply:
        """The runtime reply this spec describes."""
        from modelhub.testing import error, reply, tool_call

        if self.error is not None:
            return error(self.error, self.message, retry_after=self.retry_after,
                         after_chunks=self.error_after, chunks=self.chunks)
        calls = [tool_call(str(c.get("name")), c.get("arguments") or {}, id=c.get("id"))
                 for c in self.tool_calls]
        return reply(self.text, tool_calls=calls, chunks=self.chunks, json_value=self.json_value,
                     reasoning=self.reasoning, usage=self.usage,
                     finish_reason=self.finish_reason, delay=self.delay)


class ScriptedConfig(ModelConfig):
    """A `scripted` config: its replies, what it answers when they run out, and what
    it can do."""

    responses: list[str | ReplySpec] = Field(
        default_factory=list, description="Replies, in order: a string or a reply mapping.")
    default: str | None = Field(
        default=None, description="The answer once the replies run out ('echo' repeats "
        "the last user message); unset, an exhausted script raises ScriptExhaustedError.")
    capabilities: list[Capability] | None = Field(
        default=None, description="What the model can do (default: every chat capability "
        "but stop).")
    max_retries: int = Field(default=0, ge=0, le=20, description="Retries, as for real models.")
    stream: bool = Field(default=False, description="Stream by default.")
