"""`openai_chat` (alias `openai`): chat completions on any OpenAI-compatible server."""

from __future__ import annotations

from typing import Any, ClassVar

from modelhub.providers.openai import wire
from modelhub.providers.openai.base import OpenAIWrapperBase
from modelhub.providers.openai.config import OpenAIChatConfig
from modelhub.response import ModelResponse
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource
from modelhub.wrappers.formatting import to_text

__all__ = ["OpenAIChatWrapper"]

CHAT_PATH = "/chat/completions"


class OpenAIChatWrapper(OpenAIWrapperBase, ChatWrapperBase):
    """Chat on the OpenAI chat completions API: text, images, tools, streaming,
    stop sequences and structured output."""

    model_type: ClassVar[str] = "openai_chat"
    config_class: ClassVar[type[OpenAIChatConfig]] = OpenAIChatConfig
    config: OpenAIChatConfig
    path: ClassVar[str] = CHAT_PATH

    def _adapt(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply custom_role_conversions and flatten_messages_as_text."""
        roles = self.config.custom_role_conversions
        flatten = self.config.flatten_messages_as_text
        out = []
        for msg in messages:
            msg = dict(msg)
            if msg.get("role") in roles:
                msg["role"] = roles[msg["role"]]
            if flatten and isinstance(msg.get("content"), list):
                msg["content"] = to_text(msg["content"])
            out.append(msg)
        return out

    def payload(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body of a chat completions request."""
        cfg = self.config
        messages = request.messages
        if cfg.custom_role_conversions or cfg.flatten_messages_as_text:
            messages = self._adapt(messages)
        if "messages" in request.params:
            raise TypeError("pass messages as the first argument, not as a keyword")
        body: dict[str, Any] = {"model": self.model_name, **request.params,
                                "messages": messages}
        if request.stop:
            body["stop"] = request.stop
        if request.tools:
            body["tools"] = request.tools
        if request.tool_choice is not None:
            body["tool_choice"] = request.tool_choice
        if request.output is not None:
            from modelhub.wrappers.structured import to_openai_response_format

            body["response_format"] = to_openai_response_format(request.output)
        if request.stream:
            body["stream"] = True
            if cfg.stream_usage and "stream_options" not in body:
                body["stream_options"] = {"include_usage": True}
        return body

    def _complete(self, request: ChatRequest) -> ModelResponse:
        return wire.parse_chat_completion(self.endpoint.post(self.path, self.payload(request)))

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        body = await self.endpoint.apost(self.path, self.payload(request))
        return wire.parse_chat_completion(body)

    def _stream_state(self) -> wire.ChatStreamState:
        return wire.ChatStreamState(self.provider, self.endpoint.secrets)

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        state = self._stream_state()
        deltas = self.endpoint.open_stream(self.path, self.payload(request), state.feed,
                                           state.flush)
        return deltas, state.response

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        state = self._stream_state()
        deltas = await self.endpoint.aopen_stream(self.path, self.payload(request),
                                                  state.feed, state.flush)
        return deltas, state.response
