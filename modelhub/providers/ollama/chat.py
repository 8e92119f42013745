"""`ollama_chat` (/api/chat) and `ollama_generate` (/api/generate): sync, async (the
client's own AsyncClient) and streamed, with options, keep_alive, images, tools (chat),
`format` from `response_format`, `think` and stop strings."""

from __future__ import annotations

from typing import Any, ClassVar

from modelhub.errors import UnsupportedFeatureError
from modelhub.http.errors import parse_answer
from modelhub.providers.ollama.base import OllamaWrapperBase
from modelhub.providers.ollama.config import (
    CHAT_FIELDS,
    GENERATE_FIELDS,
    OllamaChatConfig,
    OllamaGenerateConfig,
)
from modelhub.providers.ollama.wire import AnswerReader, request_fields
from modelhub.response import ModelResponse
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource
from modelhub.wrappers.sdk import aread_sdk_stream, read_sdk_stream

__all__ = ["OllamaChatWrapper", "OllamaGenerateWrapper"]


class _OllamaTextWrapper(OllamaWrapperBase, ChatWrapperBase):
    """What chat and generate share: the request's common fields, and one reader for
    whole and streamed answers."""

    fields: ClassVar[frozenset[str]] = CHAT_FIELDS
    chat: ClassVar[bool] = True  # /api/chat's answer shape, else /api/generate's
    output_limit: ClassVar[str | None] = "max_tokens"  # sent as options.num_predict

    def default_output_limit(self) -> int | None:
        """The config's `options.num_predict`, when it bounds the answer."""
        value = (self.config.options or {}).get("num_predict")
        return value if isinstance(value, int) and not isinstance(value, bool) \
            and value > 0 else None

    def body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body of a request (the endpoint's own part added by `content`)."""
        body: dict[str, Any] = {"model": self.model_name, **self.content(request)}
        if self.config.keep_alive is not None:
            body["keep_alive"] = self.config.keep_alive
        fields = request_fields(request.params, self.fields, self.config.options)
        if "images" in fields and "images" in body:  # generate: given, and from messages
            fields["images"] = [*body["images"], *fields["images"]]
        body.update(fields)
        if request.stop:
            body["options"] = {**body.get("options", {}), "stop": request.stop}
        if request.output is not None:
            if "format" in body:
                raise TypeError("give response_format or Ollama's format, not both")
            body["format"] = "json" if request.output.schema is None else request.output.schema
        body["stream"] = request.stream
        return body

    def content(self, request: ChatRequest) -> dict[str, Any]:
        """The endpoint's own part of a request: messages (and tools), or a prompt.
        Each endpoint's wrapper below gives its own."""
        raise NotImplementedError(f"{type(self).__name__} does not give its request content")

    def _reader(self) -> AnswerReader:
        return AnswerReader(self.context, chat=self.chat)

    def _complete(self, request: ChatRequest) -> ModelResponse:
        answer = self.post(self.body(request))
        return parse_answer(self._reader().whole, answer, self.context)

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        answer = await self.apost(self.body(request))
        return parse_answer(self._reader().whole, answer, self.context)

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        reader = self._reader()
        lines, close = self.open_lines(self.body(request))
        return read_sdk_stream(lines, reader, self.map_error, close,
                               context=self.context), reader.response

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        reader = self._reader()
        lines, close = await self.aopen_lines(self.body(request))
        return aread_sdk_stream(lines, reader, self.map_error, close,
                                context=self.context), reader.response


class OllamaChatWrapper(_OllamaTextWrapper):
    """Chat on Ollama's /api/chat: text, images, tools, streaming, stop strings,
    JSON-schema output and thinking (in `.reasoning`)."""

    model_type: ClassVar[str] = "ollama_chat"
    config_class: ClassVar[type[OllamaChatConfig]] = OllamaChatConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "tools", "vision", "stop", "response_format"})
    config: OllamaChatConfig
    path: ClassVar[str] = "/api/chat"

    def format(self, *args: Any, multi_agent_mode: bool = True) -> list[dict[str, Any]]:
        """As AgentScope v0.1.6 formats for Ollama (its common formatter): in chat mode,
        each message's role and content, without a speaker's `name`, which Ollama's
        messages do not have (a tool result keeps the tool's)."""
        out = super().format(*args, multi_agent_mode=multi_agent_mode)
        if multi_agent_mode:
            return out
        return [m if m.get("role") == "tool" else {k: v for k, v in m.items() if k != "name"}
                for m in out]

    def content(self, request: ChatRequest) -> dict[str, Any]:
        """Messages and tools. Ollama has no tool_choice: "auto" is what it does, and
        "none" sends no tools; forcing a tool cannot be done, so it is an error."""
        from modelhub.providers.ollama.messages import ollama_messages

        out: dict[str, Any] = {"messages": ollama_messages(request.messages)}
        choice = request.tool_choice
        if choice not in (None, "auto", "none"):
            raise UnsupportedFeatureError(
                f"config {self.config_name!r}: Ollama cannot be made to call a tool "
                f"(tool_choice {choice!r}); use 'auto' or 'none'",
                config_name=self.config_name, capability="tools")
        if request.tools and choice != "none":
            out["tools"] = request.tools
        return out


class OllamaGenerateWrapper(_OllamaTextWrapper):
    """Completion on Ollama's /api/generate: a prompt in (a str, or messages flattened
    as AgentScope's Ollama generate wrapper did), text out; images, streaming, stop
    strings, JSON-schema output, thinking, and the endpoint's own `system`, `template`,
    `raw`, `suffix` and `context`."""

    model_type: ClassVar[str] = "ollama_generate"
    config_class: ClassVar[type[OllamaGenerateConfig]] = OllamaGenerateConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "vision", "stop", "response_format"})
    config: OllamaGenerateConfig
    path: ClassVar[str] = "/api/generate"
    fields: ClassVar[frozenset[str]] = GENERATE_FIELDS
    chat: ClassVar[bool] = False

    def content(self, request: ChatRequest) -> dict[str, Any]:
        """The prompt, and the images of the messages it came from."""
        from modelhub.providers.ollama.messages import prompt_of

        prompt, images = prompt_of(request.messages)
        out: dict[str, Any] = {"prompt": prompt}
        if images:
            out["images"] = images
        return out
