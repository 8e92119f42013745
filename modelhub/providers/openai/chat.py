"""`openai_chat` (alias `openai`; `yi_chat` in `yi.py` builds on it): chat completions on
any OpenAI-compatible server."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from modelhub.http.errors import parse_answer
from modelhub.providers.openai import wire
from modelhub.providers.openai.base import OpenAIWrapperBase
from modelhub.providers.openai.config import OpenAIChatConfig
from modelhub.response import ModelResponse
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource
from modelhub.wrappers.formatting import convert_roles, strip_call_extras

__all__ = ["OpenAIChatWrapper"]

CHAT_PATH = "/chat/completions"
# OpenAI's models that take `max_completion_tokens` and refuse `max_tokens`.
REASONING_MODELS = re.compile(r"(?:openai/)?(?:o\d|gpt-5)")
# Model names AgentScope v0.1.6's OpenAI formatter is for (matched at the start).
OPENAI_MODEL_PATTERNS = ("gpt-.*", "o1", "o1-mini", "o3-mini")


class OpenAIChatWrapper(OpenAIWrapperBase, ChatWrapperBase):
    """Chat on the OpenAI chat completions API: text, images, audio, tools, streaming,
    stop sequences and structured output."""

    model_type: ClassVar[str] = "openai_chat"
    config_class: ClassVar[type[OpenAIChatConfig]] = OpenAIChatConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "tools", "vision", "audio", "video", "stop", "response_format"})
    output_limit: ClassVar[str | None] = "max_tokens"

    def output_limit_param(self) -> str | None:
        """`max_completion_tokens` for OpenAI's reasoning models (o1, o3, o4-mini,
        gpt-5...), which refuse `max_tokens`; `max_tokens`, which every compatible
        server reads, for the rest."""
        return "max_completion_tokens" if REASONING_MODELS.match(self.model_name) \
            else "max_tokens"
    config: OpenAIChatConfig
    path: ClassVar[str] = CHAT_PATH

    def format(self, *args: Any, multi_agent_mode: bool = True) -> list[dict[str, Any]]:
        """As AgentScope v0.1.6 formats for OpenAI: an OpenAI model (gpt-..., o1, o3-mini)
        gets one named message per speaker in either mode, since OpenAI tells speakers
        apart by `name`; any other model behind the same API gets the common layouts."""
        if any(re.match(pattern, self.model_name) for pattern in OPENAI_MODEL_PATTERNS):
            from modelhub.wrappers.formatting import per_speaker

            return self._messages(per_speaker(*args))
        return self._messages(super().format(*args, multi_agent_mode=multi_agent_mode))

    def _messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The neutral messages as this server takes them: custom_role_conversions and
        flatten_messages_as_text applied."""
        return strip_call_extras(convert_roles(messages, self.config.custom_role_conversions,
                                               flatten=self.config.flatten_messages_as_text))

    def payload(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body of a chat completions request."""
        body: dict[str, Any] = {"model": self.model_name, **request.params,
                                "messages": self._messages(request.messages)}
        if request.stop:
            body["stop"] = request.stop
        if request.tools:
            body["tools"] = request.tools
        if request.tool_choice is not None:
            body["tool_choice"] = request.tool_choice
        if request.output is not None:
            from modelhub.providers.openai.schema import response_format

            body["response_format"] = response_format(request.output)
        if request.stream:
            body["stream"] = True
            usage = self.config.stream_usage
            if (self.profile.stream_usage if usage is None else usage) \
                    and "stream_options" not in body:
                body["stream_options"] = {"include_usage": True}
        return body

    def _complete(self, request: ChatRequest) -> ModelResponse:
        body = self.endpoint.post(self.path, self.payload(request))
        return parse_answer(wire.parse_chat_completion, body, self.endpoint.context)

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        body = await self.endpoint.apost(self.path, self.payload(request))
        return parse_answer(wire.parse_chat_completion, body, self.endpoint.context)

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        handler = wire.ChatStreamHandler(self.endpoint.context)
        deltas = self.endpoint.open_stream(self.path, self.payload(request), handler)
        return deltas, handler.response

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        handler = wire.ChatStreamHandler(self.endpoint.context)
        deltas = await self.endpoint.aopen_stream(self.path, self.payload(request), handler)
        return deltas, handler.response
