"""`zhipuai_chat`: Zhipu's chat completions (GLM models) through the `zai-sdk`.

The SDK has no asyncio client, so `acall` (and `async for` over a stream) runs the
SDK's sync calls in a worker thread, as the chat base class does for any wrapper
without native async hooks.
"""

from __future__ import annotations

from typing import Any, ClassVar

from modelhub.errors import UnsupportedFeatureError
from modelhub.providers.zhipuai.client import ZhipuAIWrapperBase, error_in_answer
from modelhub.providers.zhipuai.config import ZhipuAIChatConfig
from modelhub.providers.zhipuai.wire import (
    ChunkReader,
    chat_kwargs,
    parse_completion,
    read_answer,
    sdk_params,
)
from modelhub.response import ModelResponse
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import ChatRequest, ChatWrapperBase, StreamSource
from modelhub.wrappers.sdk import call_sdk, read_sdk_stream

__all__ = ["ZhipuAIChatWrapper"]


class ZhipuAIChatWrapper(ZhipuAIWrapperBase, ChatWrapperBase):
    """Chat with GLM models: text, images, video and audio parts, tools (streamed too),
    streaming, one native stop word (more are trimmed), JSON mode, thinking models'
    `reasoning_content` in `reasoning`."""

    model_type: ClassVar[str] = "zhipuai_chat"
    config_class: ClassVar[type[ZhipuAIChatConfig]] = ZhipuAIChatConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "tools", "vision", "audio", "video", "stop", "response_format"})
    output_limit: ClassVar[str | None] = "max_tokens"
    path: ClassVar[str] = "/chat/completions"
    config: ZhipuAIChatConfig

    def setup(self) -> None:
        """Build the SDK client and look up what its create() takes."""
        super().setup()
        self._create = self.client.chat.completions.create
        self._direct = sdk_params(type(self.client.chat.completions).create)

    def build_request(self, messages: Any, **kwargs: Any) -> ChatRequest:
        """As the base class builds it, with Zhipu's limits: one stop word is sent (the
        base trims at every one), and tool_choice is "auto" or "none" (met by sending
        no tools); Zhipu cannot be made to call a tool."""
        request = super().build_request(messages, **kwargs)
        if request.stop and len(request.stop) > 1:
            request.trim_stop, request.stop = request.stop, request.stop[:1]
        if request.tool_choice not in (None, "auto", "none"):
            raise UnsupportedFeatureError(
                f"config {self.config_name!r}: Zhipu's tool_choice can only be 'auto' (or "
                f"'none'), not {request.tool_choice!r}",
                config_name=self.config_name, capability="tools")
        return request

    def format(self, *args: Any, multi_agent_mode: bool = True) -> list[dict[str, Any]]:
        """As AgentScope v0.1.6 formats for ZhipuAI (its CommonFormatter): in multi-agent
        mode the system prompt and one user message holding the conversation; in chat
        mode each message's role and content (tool calls and results kept)."""
        if multi_agent_mode:
            return super().format(*args, multi_agent_mode=True)
        from modelhub.wrappers.formatting import per_message

        return per_message(*args, names=False)

    def _complete(self, request: ChatRequest) -> ModelResponse:
        kwargs = chat_kwargs(request, self.model_name, self._direct)
        done = call_sdk(lambda: self._create(**kwargs), self.map_error)
        error = getattr(done, "error", None)
        if error and not getattr(done, "choices", None):
            raise error_in_answer(error, self.context)
        return read_answer(parse_completion, done, self.context)

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        kwargs = chat_kwargs(request, self.model_name, self._direct)
        stream = call_sdk(lambda: self._create(**kwargs), self.map_error)
        reader = ChunkReader(self.context)
        return read_sdk_stream(stream, reader, lambda exc: self.map_error(exc, reader.text),
                               stream.response.close), reader.response
