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

from modelhub.providers.openai.chat import OpenAIChatWrapper
from modelhub.providers.openai.config import YI_TOP_LEVEL as _TOP_LEVEL
from modelhub.providers.openai.config import YiChatConfig

__all__ = ["YiChatConfig", "YiChatWrapper"]

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
