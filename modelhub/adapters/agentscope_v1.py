"""A modelhub config as an AgentScope 1.x chat model (use it through
`modelhub.adapters.agentscope`, which picks the module for the installed version)::

    from agentscope.agent import ReActAgent
    from agentscope.formatter import OpenAIChatFormatter
    from modelhub.adapters.agentscope import ChatModel

    agent = ReActAgent(name="Friday", sys_prompt="...", model=ChatModel("qwen"),
                       formatter=OpenAIChatFormatter())

A 1.x `ChatModelBase(model_name, stream)`: `await model(messages, tools, tool_choice,
structured_model)` with messages as the agent's formatter made them (OpenAI's chat
formatter fits every modelhub chat wrapper, which takes the OpenAI message shape)
returns a `ChatResponse` of text, `tool_use` and `thinking` blocks with a `ChatUsage`;
streamed, an async generator of `ChatResponse`s each holding the answer so far, as
1.x expects. `structured_model` (a pydantic model) goes to the wrapper's
`response_format`, and the parsed object lands in the response's `metadata`.

AgentScope 1.x and 2.x are one distribution: the test environment holds 2.x, and
this module is type-checked against 1.x's names as plain values (its classes are
looked up at import time).
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import AsyncGenerator
from typing import Any

from modelhub.adapters._common import chat_wrapper, require
from modelhub.response import ModelResponse

require("agentscope", "agentscope")

# 1.x names, looked up rather than imported: the type checker sees 2.x.
_model: Any = importlib.import_module("agentscope.model")
_usage_module: Any = importlib.import_module("agentscope.model._model_usage")
_message: Any = importlib.import_module("agentscope.message")

__all__ = ["ChatModel"]


class ChatModel(_model.ChatModelBase):  # type: ignore[misc]
    """An AgentScope 1.x chat model answering through a modelhub config (`model`: a
    config name or a chat wrapper). Keyword arguments are generation arguments sent
    with every call."""

    def __init__(self, model: Any, stream: bool = False, **generate_kwargs: Any) -> None:
        self.wrapper = chat_wrapper(model)
        super().__init__(model_name=self.wrapper.model_name, stream=stream)
        self.generate_kwargs = generate_kwargs

    async def __call__(self, messages: list[dict[str, Any]],
                       tools: list[dict[str, Any]] | None = None,
                       tool_choice: str | None = None, structured_model: Any = None,
                       **kwargs: Any) -> Any:
        """The answer: a `ChatResponse`, or with `stream` an async generator of them."""
        arguments = {**self.generate_kwargs, **kwargs}
        if structured_model is not None:
            arguments["response_format"] = structured_model
        else:
            if tools:
                arguments["tools"] = tools
            if tool_choice:
                if tool_choice == "any":
                    tool_choice = "required"
                self._validate_tool_choice(tool_choice, tools)
                arguments["tool_choice"] = tool_choice if tool_choice in (
                    "auto", "none", "required") else {"type": "function",
                                                      "function": {"name": tool_choice}}
        started = time.monotonic()
        if not self.stream:
            response = await self.wrapper.acall(messages, stream=False, **arguments)
            return _chat_response(response, _usage(response, started))
        stream = await self.wrapper.acall(messages, stream=True, **arguments)
        return _accumulated(stream, started)


async def _accumulated(stream: Any, started: float) -> AsyncGenerator[Any, None]:
    """The answer so far after each delta, then the complete one."""
    text = ""
    async with stream:
        async for delta in stream:
            text += delta
            yield _model.ChatResponse(content=[_message.TextBlock(type="text", text=text)])
    response: ModelResponse = stream.response
    yield _chat_response(response, _usage(response, started))


def _usage(response: ModelResponse, started: float) -> Any:
    usage = response.usage
    if usage is None:
        return None
    return _usage_module.ChatUsage(input_tokens=usage.input_tokens,
                                   output_tokens=usage.output_tokens,
                                   time=time.monotonic() - started)


def _chat_response(response: ModelResponse, usage: Any) -> Any:
    blocks: list[Any] = []
    if response.reasoning:
        blocks.append(_message.ThinkingBlock(type="thinking", thinking=response.reasoning))
    if response.text:
        blocks.append(_message.TextBlock(type="text", text=response.text))
    blocks += [_message.ToolUseBlock(type="tool_use", id=c.id, name=c.name, input=c.arguments,
                                     raw_input=json.dumps(c.arguments))
               for c in response.tool_calls]
    parsed = response.parsed
    metadata = parsed.model_dump() if hasattr(parsed, "model_dump") else parsed
    return _model.ChatResponse(content=blocks, usage=usage, metadata=metadata)
