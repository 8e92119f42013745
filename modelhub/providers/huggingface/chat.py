"""`hf_inference_chat`: chat completions through huggingface_hub's
`InferenceClient.chat_completion` (the HF router and its Inference Providers, an
Inference Endpoint, or a TGI server's OpenAI-compatible route).

Its answers and chunks are OpenAI's shape (with `reasoning` beside `content`), so the
OpenAI wire parser reads them. `response_format` is sent in OpenAI's shape, which the
SDK turns into TGI's grammar for a TGI endpoint; usage is asked for in streams.
"""

from __future__ import annotations

from typing import Any, ClassVar

from modelhub.http.errors import ErrorContext, parse_answer
from modelhub.providers.huggingface.client import HFInferenceBase
from modelhub.providers.huggingface.config import HFInferenceChatConfig
from modelhub.providers.huggingface.lines import KeptLines
from modelhub.providers.openai import wire
from modelhub.response import ModelResponse
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource
from modelhub.wrappers.formatting import convert_roles, strip_call_extras
from modelhub.wrappers.sdk import acall_sdk, call_sdk

__all__ = ["ChunkReader", "HFInferenceChatWrapper"]

# The keyword arguments `chat_completion` has; any other generation argument goes in
# its `extra_body`.
SDK_ARGS = frozenset({"frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n",
                      "presence_penalty", "seed", "temperature", "tool_prompt",
                      "top_logprobs", "top_p", "stream_options"})


class HFInferenceChatWrapper(HFInferenceBase, ChatWrapperBase):
    """Chat on Hugging Face Inference: text, images, tools, streaming, stop sequences
    and structured output."""

    model_type: ClassVar[str] = "hf_inference_chat"
    config_class: ClassVar[type[HFInferenceChatConfig]] = HFInferenceChatConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "tools", "vision", "stop", "response_format"})
    output_limit: ClassVar[str | None] = "max_tokens"
    config: HFInferenceChatConfig

    def messages(self, request: ChatRequest) -> list[dict[str, Any]]:
        """The messages, with the config's role conversions applied (and no provider
        data of another family's tool calls)."""
        return strip_call_extras(convert_roles(request.messages,
                                               self.config.custom_role_conversions))

    def arguments(self, request: ChatRequest) -> dict[str, Any]:
        """The keyword arguments of `chat_completion` for one call."""
        kwargs: dict[str, Any] = {"messages": self.messages(request), "model": self.model_name}
        if request.params:
            extra = {}
            for key, value in request.params.items():
                if key in SDK_ARGS:
                    kwargs[key] = value
                else:
                    extra[key] = value
            if extra:
                kwargs["extra_body"] = extra
        if request.stop:
            kwargs["stop"] = request.stop
        if request.tools:
            kwargs["tools"] = request.tools
        if request.tool_choice is not None:
            kwargs["tool_choice"] = request.tool_choice
        if request.output is not None:
            from modelhub.providers.openai.schema import response_format

            kwargs["response_format"] = response_format(request.output)
        if request.stream:
            kwargs["stream"] = True
            kwargs.setdefault("stream_options", {"include_usage": True})
        return kwargs

    def _complete(self, request: ChatRequest) -> ModelResponse:
        kwargs = self.arguments(request)
        output = call_sdk(lambda: self.client().chat_completion(**kwargs), self.map_error)
        return parse_answer(wire.parse_chat_completion, output, self.context)

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        kwargs = self.arguments(request)
        output = await acall_sdk(lambda: self.aclient().chat_completion(**kwargs),
                                 self.map_error)
        return parse_answer(wire.parse_chat_completion, output, self.context)

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        kwargs = self.arguments(request)
        reader = ChunkReader(self.context)
        open_ = reader.lines.opening(lambda client: client.chat_completion(**kwargs))
        return self.open_stream(open_, reader), reader.response

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        kwargs = self.arguments(request)
        reader = ChunkReader(self.context)
        open_ = reader.lines.aopening(lambda client: client.chat_completion(**kwargs))
        return await self.aopen_stream(open_, reader), reader.response


class ChunkReader(wire.ChatStreamHandler):
    """OpenAI's stream handler, fed the chunks the SDK has decoded (`take`); the
    stream's `raw` is kept as its lines (`lines`), parsed into the SDK's chunks on first
    use."""

    __slots__ = ("lines",)

    def __init__(self, context: ErrorContext) -> None:
        from huggingface_hub import ChatCompletionStreamOutput

        super().__init__(context)
        self.lines = KeptLines(self.accumulator,
                               ChatCompletionStreamOutput.parse_obj_as_instance)

    def feed(self, chunk: Any) -> str | None:
        """Take one decoded chunk; return the text delta it carries, if any."""
        return self.take(chunk)
