"""A modelhub config as a pydantic-ai `Model` (pydantic-ai-slim is enough)::

    from pydantic_ai import Agent
    from modelhub.adapters.pydantic_ai import Model

    agent = Agent(Model("qwen"), output_type=CityInfo)
    agent.run_sync("Largest city in Japan?").output         # a CityInfo

`request` and `request_stream` call the wrapper natively async. Messages go out in the
OpenAI shape (instructions as system messages, tool returns as `tool` messages, images
and audio as content parts); function and output tools as OpenAI tool specs with the
tool choice pydantic-ai resolved; `NativeOutput` as the wrapper's `response_format`.
Answers come back as text, thinking and tool-call parts with the provider's usage.
Thinking parts of earlier turns are not sent back, as with OpenAI's chat API. The
profile says what the config can do: `supports_tools` and
`supports_json_schema_output` follow the wrapper's capabilities.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from modelhub.adapters._common import chat_wrapper, require
from modelhub.response import ModelResponse as HubResponse

require("pydantic_ai", "pydantic_ai")

from pydantic_ai import messages as pm  # noqa: E402
from pydantic_ai.exceptions import UserError  # noqa: E402
from pydantic_ai.models import Model as _Model  # noqa: E402
from pydantic_ai.models import ModelRequestParameters, StreamedResponse  # noqa: E402
from pydantic_ai.models._tool_choice import resolve_tool_choice  # noqa: E402
from pydantic_ai.profiles import ModelProfile, ModelProfileSpec  # noqa: E402
from pydantic_ai.settings import ModelSettings  # noqa: E402
from pydantic_ai.usage import RequestUsage  # noqa: E402

from modelhub.wrappers.stream import ModelStream  # noqa: E402

__all__ = ["Model"]

# Settings that become generation arguments of the call, under the same name.
_GENERATION = ("max_tokens", "temperature", "top_p", "top_k", "seed", "presence_penalty",
               "frequency_penalty", "logit_bias", "parallel_tool_calls")
_FINISH: dict[str, pm.FinishReason] = {"stop": "stop", "length": "length",
                                       "tool_calls": "tool_call", "function_call": "tool_call",
                                       "content_filter": "content_filter"}


@dataclass(init=False)
class Model(_Model):
    """A pydantic-ai model answering through a modelhub config (`model`: a config name
    or a chat wrapper)."""

    # Settings a modelhub config owns (its timeout, headers, retries) or no chat API has.
    unsupported_settings = frozenset({"timeout", "extra_headers", "max_retries", "citations",
                                      "service_tier"})

    def __init__(self, model: Any, *, settings: ModelSettings | None = None,
                 profile: ModelProfileSpec | None = None) -> None:
        self.wrapper = chat_wrapper(model)
        if profile is None:
            caps = self.wrapper.capabilities
            profile = ModelProfile(supports_tools="tools" in caps,
                                   supports_json_schema_output="response_format" in caps,
                                   supports_json_object_output="response_format" in caps,
                                   supports_image_input="vision" in caps,
                                   supports_audio_input="audio" in caps)
        super().__init__(settings=settings, profile=profile)

    @property
    def model_name(self) -> str:
        """The provider's model name of the config."""
        return self.wrapper.model_name

    @property
    def system(self) -> str:
        """The model provider, as pydantic-ai names it: modelhub."""
        return "modelhub"

    @property
    def config_name(self) -> str:
        """The modelhub config behind this model."""
        return self.wrapper.config_name

    # -- requests ---------------------------------------------------------------------
    async def request(self, messages: list[pm.ModelMessage], model_settings: ModelSettings | None,
                      model_request_parameters: ModelRequestParameters) -> pm.ModelResponse:
        """One complete answer."""
        model_settings, model_request_parameters = self.prepare_request(
            model_settings, model_request_parameters)
        openai_messages, arguments = self._arguments(messages, model_settings,
                                                     model_request_parameters)
        response = await self.wrapper.acall(openai_messages, stream=False, **arguments)
        return pm.ModelResponse(
            parts=_parts(response), usage=_usage(response), model_name=response.model or
            self.model_name, provider_name=self.system,
            finish_reason=_FINISH.get(response.finish_reason or ""),
            provider_details={"config_name": self.config_name,
                              "finish_reason": response.finish_reason})

    @asynccontextmanager
    async def request_stream(self, messages: list[pm.ModelMessage],
                             model_settings: ModelSettings | None,
                             model_request_parameters: ModelRequestParameters,
                             run_context: Any = None) -> AsyncIterator[StreamedResponse]:
        """The answer as a stream of pydantic-ai events."""
        model_settings, model_request_parameters = self.prepare_request(
            model_settings, model_request_parameters)
        openai_messages, arguments = self._arguments(messages, model_settings,
                                                     model_request_parameters)
        stream = await self.wrapper.acall(openai_messages, stream=True, **arguments)
        try:
            yield _Streamed(model_request_parameters=model_request_parameters,
                            _stream=stream, _model_name=self.model_name,
                            _config_name=self.config_name)
        finally:
            await stream.aclose()

    # -- building a call ----------------------------------------------------------------
    def _arguments(self, messages: Sequence[pm.ModelMessage], settings: ModelSettings | None,
                   params: ModelRequestParameters) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        openai_messages = _messages(messages)
        instructions = [{"role": "system", "content": part.content}
                        for part in self._get_instruction_parts(messages, params) or ()]
        leading = next((i for i, m in enumerate(openai_messages) if m["role"] != "system"),
                       len(openai_messages))
        openai_messages[leading:leading] = instructions
        settings = settings or {}
        arguments: dict[str, Any] = {k: settings[k] for k in _GENERATION  # type: ignore[literal-required]
                                     if settings.get(k) is not None}
        extra_body = settings.get("extra_body")
        if isinstance(extra_body, dict):
            arguments.update(extra_body)
        if settings.get("stop_sequences"):
            arguments["stop"] = list(settings["stop_sequences"])
        tools, tool_choice = _tools(settings, params)
        if tools:
            arguments["tools"] = tools
            if tool_choice is not None:
                arguments["tool_choice"] = tool_choice
        if params.output_mode == "native" and params.output_object is not None:
            output = params.output_object
            arguments["response_format"] = {"type": "json_schema", "json_schema": {
                "name": output.name or "final_result", "schema": output.json_schema,
                "strict": bool(output.strict)}}
        elif params.output_mode == "prompted" and "response_format" in self.wrapper.capabilities:
            arguments["response_format"] = {"type": "json_object"}
        return openai_messages, arguments


def _tools(settings: ModelSettings, params: ModelRequestParameters
           ) -> tuple[list[dict[str, Any]], str | dict[str, Any] | None]:
    """The OpenAI tool specs to send, and the tool choice pydantic-ai resolved."""
    definitions = dict(params.declared_tool_defs)
    if not definitions:
        return [], None
    choice = resolve_tool_choice(settings, params)
    tool_choice: str | dict[str, Any]
    if isinstance(choice, tuple):
        mode, names = choice
        definitions = {k: v for k, v in definitions.items() if k in names}
        if mode == "required" and len(definitions) == 1:
            tool_choice = {"type": "function", "function": {"name": next(iter(definitions))}}
        else:
            tool_choice = mode
    else:
        tool_choice = choice
    specs = []
    for definition in definitions.values():
        function: dict[str, Any] = {"name": definition.name,
                                    "parameters": definition.parameters_json_schema}
        if definition.description:
            function["description"] = definition.description
        if definition.strict:
            function["strict"] = True
        specs.append({"type": "function", "function": function})
    return specs, tool_choice


def _content_part(item: Any) -> dict[str, Any]:
    """A user content item as an OpenAI content part."""
    if isinstance(item, str):
        return {"type": "text", "text": item}
    if isinstance(item, pm.ImageUrl):
        return {"type": "image_url", "image_url": {"url": item.url}}
    if isinstance(item, pm.BinaryContent):
        data = base64.b64encode(item.data).decode()
        if item.is_image:
            return {"type": "image_url",
                    "image_url": {"url": f"data:{item.media_type};base64,{data}"}}
        if item.is_audio:
            return {"type": "input_audio",
                    "input_audio": {"data": data, "format": item.format}}
    raise UserError(f"modelhub's chat models cannot take {type(item).__name__} content "
                    "(text, images and audio data can go)")


def _request_messages(request: pm.ModelRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in request.parts:
        if isinstance(part, pm.SystemPromptPart):
            out.append({"role": "system", "content": part.content})
        elif isinstance(part, pm.UserPromptPart):
            content = part.content
            out.append({"role": "user", "content": content if isinstance(content, str)
                        else [_content_part(item) for item in content]})
        elif isinstance(part, pm.ToolReturnPart):
            out.append({"role": "tool", "tool_call_id": part.tool_call_id,
                        "content": part.model_response_str()})
        elif isinstance(part, pm.RetryPromptPart):  # deprecated, still sent by direct callers
            if part.tool_name is None:
                out.append({"role": "user", "content": part.model_response()})
            else:
                out.append({"role": "tool", "tool_call_id": part.tool_call_id,
                            "content": part.model_response()})
        else:
            raise UserError(f"a {type(part).__name__} cannot be sent to a modelhub model; "
                            "run the model through an Agent (it prepares the messages)")
    return out


def _messages(messages: Sequence[pm.ModelMessage]) -> list[dict[str, Any]]:
    """pydantic-ai messages in the neutral (OpenAI) shape."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, pm.ModelRequest):
            out.extend(_request_messages(message))
            continue
        texts = [p.content for p in message.parts if isinstance(p, pm.TextPart)]
        calls = [{"id": p.tool_call_id, "type": "function",
                  "function": {"name": p.tool_name, "arguments": p.args_as_json_str()}}
                 for p in message.parts if isinstance(p, pm.ToolCallPart)]
        entry: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
        if calls:
            entry["tool_calls"] = calls
        if texts or calls:
            out.append(entry)
    return out


def _usage(response: HubResponse) -> RequestUsage:
    usage = response.usage
    if usage is None:
        return RequestUsage()
    return RequestUsage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)


def _parts(response: HubResponse) -> list[pm.ModelResponsePart]:
    parts: list[pm.ModelResponsePart] = []
    if response.reasoning:
        parts.append(pm.ThinkingPart(content=response.reasoning))
    if response.text:
        parts.append(pm.TextPart(content=response.text))
    parts += [pm.ToolCallPart(tool_name=c.name, args=c.arguments, tool_call_id=c.id)
              for c in response.tool_calls]
    return parts


@dataclass
class _Streamed(StreamedResponse):
    """A modelhub stream as pydantic-ai's events: text as it arrives, then the
    thinking, the tool calls and the usage the finished stream holds."""

    _stream: ModelStream
    _model_name: str
    _config_name: str
    _timestamp: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    async def _get_event_iterator(self) -> AsyncIterator[pm.ModelResponseStreamEvent]:
        async for delta in self._stream:
            for event in self._parts_manager.handle_text_delta(vendor_part_id="content",
                                                               content=delta):
                yield event
        response = self._stream.response
        if response.reasoning:
            for event in self._parts_manager.handle_thinking_delta(
                    vendor_part_id="reasoning", content=response.reasoning):
                yield event
        for i, call in enumerate(response.tool_calls):
            yield self._parts_manager.handle_tool_call_part(
                vendor_part_id=("tool", i), tool_name=call.name, args=call.arguments,
                tool_call_id=call.id)
        self._usage = _usage(response)
        self.finish_reason = _FINISH.get(response.finish_reason or "")
        self.provider_details = {"config_name": self._config_name,
                                 "finish_reason": response.finish_reason}

    @property
    def model_name(self) -> str:
        """The model that answered."""
        return self._model_name

    @property
    def provider_name(self) -> str:
        """modelhub."""
        return "modelhub"

    @property
    def provider_url(self) -> None:
        """None: the config knows where its provider is."""
        return None

    @property
    def timestamp(self) -> datetime:
        """When the stream opened."""
        return self._timestamp
