"""`yi_chat`: 01.AI's Yi, the `yi` row of the OpenAI-compatible profiles, with the
constructor surface of AgentScope v0.1.x's `YiChatWrapper`.

AgentScope's Yi wrapper takes `temperature` (default 0.3), `top_p` (default 0.9) and
`max_tokens` at the top level of its config and sends them with every request; so
does this one (`generate_args` and a call's keywords override them). Its base URL is
the profile's `https://api.lingyiwanwu.com/v1` (AgentScope's fixed address), which
`base_url` overrides; AgentScope's Yi wrapper has no region setting.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from modelhub.providers.openai.chat import OpenAIChatWrapper
from modelhub.providers.openai.config import OpenAIChatConfig

__all__ = ["YiChatConfig", "YiChatWrapper"]

# The generation parameters AgentScope's Yi wrapper takes at the top level.
_TOP_LEVEL = ("temperature", "top_p", "max_tokens")


class YiChatConfig(OpenAIChatConfig):
    """`yi_chat`: Yi's chat completions, as AgentScope configures them."""

    temperature: float = Field(default=0.3, ge=0, le=2,
                               description="Sent with every request (AgentScope: 0.3).")
    top_p: float = Field(default=0.9, ge=0, le=1,
                         description="Sent with every request (AgentScope: 0.9).")
    max_tokens: int | None = Field(default=None, gt=0, description="Longest answer.")

    @model_validator(mode="after")
    def _said_once(self) -> YiChatConfig:
        for name in _TOP_LEVEL:
            if name in self.model_fields_set and name in self.generate_args \
                    and self.generate_args[name] != getattr(self, name):
                raise ValueError(f"{name!r} is given both at top level and in "
                                 "generate_args, with different values")
        return self


class YiChatWrapper(OpenAIChatWrapper):
    """Chat with Yi models (AgentScope's `yi_chat`)."""

    model_type: ClassVar[str] = "yi_chat"
    config_class: ClassVar[type[YiChatConfig]] = YiChatConfig
    config: YiChatConfig

    def merged_params(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The top-level temperature, top_p and max_tokens, under generate_args and the
        call's keyword arguments."""
        cfg = self.config
        defaults = {n: getattr(cfg, n) for n in _TOP_LEVEL if getattr(cfg, n) is not None}
        return {**defaults, **super().merged_params(kwargs)}

    def format(self, *args: Any, multi_agent_mode: bool = True) -> list[dict[str, Any]]:
        """As AgentScope v0.1.6 formats for Yi (its CommonFormatter): in multi-agent mode
        the system prompt and one user message holding the conversation; in chat mode
        each message's role and content. Images are carried (AgentScope refuses
        yi-vision)."""
        if multi_agent_mode:
            return super().format(*args, multi_agent_mode=True)
        from modelhub.wrappers.formatting import per_message

        return self._messages(per_message(*args, names=False))
