"""`gemini_chat`: generateContent and streamGenerateContent through `google-genai`,
sync and async (the SDK's `client.aio`), for the Gemini API and Vertex AI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from modelhub.http.errors import parse_answer
from modelhub.providers.gemini.base import GeminiWrapperBase
from modelhub.providers.gemini.config import GeminiChatConfig
from modelhub.response import ModelResponse
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource

if TYPE_CHECKING:
    from google.genai import types

    from modelhub.wrappers.structured import OutputSpec

__all__ = ["GeminiChatWrapper", "generation_config"]

_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}


def _tools(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI function specs as one Gemini tool of function declarations (the
    parameters sent as JSON Schema, unconverted)."""
    declarations = []
    for spec in specs:
        function = spec["function"]
        declaration = {"name": function["name"],
                       "parameters_json_schema": function.get("parameters")}
        if function.get("description"):
            declaration["description"] = function["description"]
        declarations.append(declaration)
    return [{"function_declarations": declarations}]


def _tool_config(choice: str | dict[str, Any]) -> dict[str, Any]:
    """tool_choice as Gemini's function calling mode: auto, none, any (required), or
    any restricted to the one function named."""
    if isinstance(choice, str):
        return {"function_calling_config": {"mode": _MODES[choice]}}
    name = (choice.get("function") or {}).get("name")
    if not name:
        raise TypeError(f"tool_choice {choice!r} names no function")
    return {"function_calling_config": {"mode": "ANY", "allowed_function_names": [name]}}


def _output(spec: OutputSpec) -> dict[str, Any]:
    """JSON mode, with the schema (as JSON Schema) when there is one."""
    out: dict[str, Any] = {"response_mime_type": "application/json"}
    if spec.kind == "json_schema" and spec.schema is not None:
        out["response_json_schema"] = spec.schema
    return out


def _system(given: Any, found: list[dict[str, Any]]) -> Any:
    """The system instruction: a `system_instruction` argument, then the messages'."""
    if given is None:
        return {"parts": found}
    if not found:
        return given
    if isinstance(given, str):
        return {"parts": [{"text": given}, *found]}
    raise TypeError("a system prompt is given both as system_instruction and as system "
                    "messages: give one (or pass system_instruction as a str)")


def generation_config(request: ChatRequest, system: list[dict[str, Any]]) -> dict[str, Any]:
    """The GenerateContentConfig fields for a request. `max_tokens` is taken for
    `max_output_tokens`, and google-generativeai's `generation_config` is unpacked."""
    config = dict(request.params)
    nested = config.pop("generation_config", None)
    if nested is not None:
        if not isinstance(nested, dict):
            raise TypeError("generation_config must be a dict")
        config = {**nested, **config}
    if "max_tokens" in config:
        if "max_output_tokens" in config:
            raise TypeError("give max_output_tokens or max_tokens, not both")
        config["max_output_tokens"] = config.pop("max_tokens")
    if system or config.get("system_instruction") is not None:
        config["system_instruction"] = _system(config.get("system_instruction"), system)
    if request.stop:
        config["stop_sequences"] = request.stop
    if request.tools:
        config["tools"] = _tools(request.tools)
    if request.tool_choice is not None:
        config["tool_config"] = _tool_config(request.tool_choice)
    if request.output is not None:
        config.update(_output(request.output))
    return config


class GeminiChatWrapper(GeminiWrapperBase, ChatWrapperBase):
    """Chat on Gemini: text, images, audio and video, tools (thought signatures kept
    for the next turn), thoughts to `reasoning`, stop sequences, JSON mode and
    schemas, streaming; sync and async."""

    model_type: ClassVar[str] = "gemini_chat"
    config_class: ClassVar[type[GeminiChatConfig]] = GeminiChatConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "tools", "vision", "audio", "video", "stop", "response_format"})
    output_limit: ClassVar[str | None] = "max_tokens"
    config: GeminiChatConfig

    def format(self, *args: Any, multi_agent_mode: bool = True) -> list[dict[str, Any]]:
        """As AgentScope v0.1.6's Gemini formatter: one user message holding the whole
        conversation (multi-agent mode), or one `user`/`model` turn per message; in
        Gemini's shape, media and (in chat mode) tool traffic as parts."""
        from modelhub.providers.gemini.formatting import chat_turns, merged_prompt

        return merged_prompt(*args) if multi_agent_mode else chat_turns(*args)

    def build(self, request: ChatRequest
              ) -> tuple[Any, types.GenerateContentConfigDict | None]:
        """The SDK's contents and config for a request, as dicts (which the SDK reads
        faster than its own objects, and validates before sending anything: what it
        refuses is an InvalidArgumentError, see `errors.map_error`). The contents are
        typed Any: how the SDK's unions of TypedDicts check differs by pydantic version."""
        from modelhub.providers.gemini.messages import to_contents

        system, contents = to_contents(request.messages)
        config = generation_config(request, system)
        # The SDK reads a lone prompt fastest as a str (the same request on the wire),
        # and no config fastest of all: converting one costs more than the rest of a call.
        prompt: Any = contents
        if len(contents) == 1 and contents[0]["role"] == "user":
            parts = contents[0]["parts"]
            if len(parts) == 1 and isinstance(parts[0], dict) and parts[0].keys() == {"text"}:
                prompt = parts[0]["text"]
        return prompt, cast("types.GenerateContentConfigDict", config) if config else None

    # -- calls ----------------------------------------------------------------------
    def _parse(self, response: Any) -> ModelResponse:
        from modelhub.providers.gemini.wire import parse_response

        return parse_answer(parse_response, response, self.clients.context)

    def _complete(self, request: ChatRequest) -> ModelResponse:
        contents, config = self.build(request)
        models = self.clients.sync().models
        return self._parse(self.clients.call(lambda: models.generate_content(
            model=self.model_name, contents=contents, config=config)))

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        contents, config = self.build(request)
        models = self.clients.aio().aio.models
        return self._parse(await self.clients.acall(lambda: models.generate_content(
            model=self.model_name, contents=contents, config=config)))

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        from modelhub.providers.gemini.wire import ChunkReader
        from modelhub.wrappers.sdk import peek_sdk_stream, read_sdk_stream

        contents, config = self.build(request)
        models = self.clients.sync().models
        reader = ChunkReader(self.clients.context)
        chunks = models.generate_content_stream(model=self.model_name, contents=contents,
                                                config=config)
        # The request goes out with the first chunk: an error status raises here.
        _, items = peek_sdk_stream(chunks, self.clients.map_error)
        # Closing the SDK's generator releases the connection of a stream left early.
        return (read_sdk_stream(items, reader, self.clients.map_error,
                                close=getattr(chunks, "close", None)), reader.response)

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        from modelhub.providers.gemini.wire import ChunkReader
        from modelhub.wrappers.sdk import apeek_sdk_stream, aread_sdk_stream

        contents, config = self.build(request)
        models = self.clients.aio().aio.models
        reader = ChunkReader(self.clients.context)
        chunks = await self.clients.acall(lambda: models.generate_content_stream(
            model=self.model_name, contents=contents, config=config))
        _, items = await apeek_sdk_stream(chunks, self.clients.map_error)
        return (aread_sdk_stream(items, reader, self.clients.map_error,
                                 close=getattr(chunks, "aclose", None)), reader.response)
