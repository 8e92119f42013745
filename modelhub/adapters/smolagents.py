"""A modelhub config as a `smolagents.Model`::

    from smolagents import CodeAgent
    from modelhub.adapters.smolagents import Model

    agent = CodeAgent(tools=[], model=Model("qwen"))

`generate(messages, stop_sequences, response_format, tools_to_call_from)` returns a
`ChatMessage` with `tool_calls` and `token_usage`; `generate_stream` yields
`ChatMessageStreamDelta`s (text as it arrives, then the tool calls and the usage).
Stop sequences, tools and structured output go to the wrapper, which stops natively or
trims, and says so when it cannot take tools or a format. Keyword arguments given to
`Model(...)` are generation arguments for every call (as in smolagents' own models).
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

from modelhub.adapters._common import chat_wrapper, require
from modelhub.response import ModelResponse

require("smolagents", "smolagents")

from smolagents.models import (  # noqa: E402
    REMOVE_PARAMETER,
    ChatMessage,
    ChatMessageStreamDelta,
    ChatMessageToolCall,
    ChatMessageToolCallFunction,
    ChatMessageToolCallStreamDelta,
    MessageRole,
    get_clean_message_list,
    get_tool_json_schema,
    tool_role_conversions,
)
from smolagents.models import Model as _SmolModel  # noqa: E402
from smolagents.monitoring import TokenUsage  # noqa: E402

__all__ = ["Model"]


class Model(_SmolModel):  # type: ignore[misc]  # smolagents ships no type information
    """A `smolagents.Model` answering through the modelhub config `model` (a config
    name or a chat wrapper). `tool_choice` defaults to "required" when tools are
    given, as smolagents' API models send it (`tool_choice=None` sends none)."""

    def __init__(self, model: Any, *, flatten_messages_as_text: bool = False,
                 tool_choice: str | dict[str, Any] | None = "required", **kwargs: Any) -> None:
        self.wrapper = chat_wrapper(model)
        self.config_name = self.wrapper.config_name
        self.tool_choice = tool_choice
        super().__init__(flatten_messages_as_text=flatten_messages_as_text,
                         model_id=self.wrapper.model_name, **kwargs)

    @property
    def supports_stop_parameter(self) -> bool:
        """Always: modelhub stops natively or trims at the stop strings."""
        return True

    def _arguments(self, messages: list[Any], stop_sequences: list[str] | None,
                   response_format: dict[str, Any] | None, tools_to_call_from: list[Any] | None,
                   kwargs: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        flatten = kwargs.pop("flatten_messages_as_text", self.flatten_messages_as_text)
        clean = get_clean_message_list(messages, role_conversions=tool_role_conversions,
                                       convert_images_to_image_urls=True,
                                       flatten_messages_as_text=flatten)
        arguments: dict[str, Any] = {}
        if stop_sequences:
            arguments["stop"] = list(stop_sequences)
        if response_format is not None:
            arguments["response_format"] = response_format
        if tools_to_call_from:
            arguments["tools"] = [get_tool_json_schema(tool) for tool in tools_to_call_from]
            if self.tool_choice is not None:
                arguments["tool_choice"] = self.tool_choice
        arguments.update(kwargs)
        for name, value in self.kwargs.items():  # the model's own arguments win
            if value is REMOVE_PARAMETER:
                arguments.pop(name, None)
            else:
                arguments[name] = value
        return [{"role": str(m["role"].value if isinstance(m["role"], MessageRole)
                             else m["role"]), "content": m["content"]} for m in clean], arguments

    def generate(self, messages: list[Any], stop_sequences: list[str] | None = None,
                 response_format: dict[str, Any] | None = None,
                 tools_to_call_from: list[Any] | None = None, **kwargs: Any) -> ChatMessage:
        """One complete answer as a `ChatMessage`."""
        clean, arguments = self._arguments(messages, stop_sequences, response_format,
                                           tools_to_call_from, kwargs)
        response = self.wrapper(clean, stream=False, **arguments)
        return _chat_message(response)

    def generate_stream(self, messages: list[Any], stop_sequences: list[str] | None = None,
                        response_format: dict[str, Any] | None = None,
                        tools_to_call_from: list[Any] | None = None,
                        **kwargs: Any) -> Generator[ChatMessageStreamDelta, None, None]:
        """The answer as `ChatMessageStreamDelta`s: text deltas, then tool calls and usage."""
        clean, arguments = self._arguments(messages, stop_sequences, response_format,
                                           tools_to_call_from, kwargs)
        stream = self.wrapper(clean, stream=True, **arguments)
        with stream:
            for delta in stream:
                yield ChatMessageStreamDelta(content=delta)
            response = stream.response
        calls = [ChatMessageToolCallStreamDelta(
            index=i, id=call.id, type="function",
            function=ChatMessageToolCallFunction(name=call.name,
                                                 arguments=json.dumps(call.arguments)))
            for i, call in enumerate(response.tool_calls)]
        yield ChatMessageStreamDelta(content=None, tool_calls=calls or None,
                                     token_usage=_token_usage(response))

    def to_dict(self) -> dict[str, Any]:
        """The model as a dict `from_dict` rebuilds (the config name, never a key)."""
        return {**self.kwargs, "model": self.config_name, "tool_choice": self.tool_choice}


def _token_usage(response: ModelResponse) -> TokenUsage | None:
    usage = response.usage
    return TokenUsage(usage.input_tokens, usage.output_tokens) if usage is not None else None


def _chat_message(response: ModelResponse) -> ChatMessage:
    calls = [ChatMessageToolCall(
        function=ChatMessageToolCallFunction(name=call.name, arguments=call.arguments),
        id=call.id, type="function") for call in response.tool_calls]
    return ChatMessage(role=MessageRole.ASSISTANT, content=response.text,
                       tool_calls=calls or None, raw=response,
                       token_usage=_token_usage(response))
