"""A modelhub config as an AgentScope 2.x chat model (use it through
`modelhub.adapters.agentscope`, which picks the module for the installed version)::

    from agentscope.agent import Agent
    from modelhub.adapters.agentscope import ChatModel

    agent = Agent(name="Friday", system_prompt="...", model=ChatModel("qwen"))

A `ChatModelBase` built as 2.x builds its models, `(credential, model, parameters,
stream)`: the credential is a `ModelhubCredential` naming the config (the config holds
the key), `model` the config's model name, `parameters` generation arguments. It
formats the `Msg`s it is given with a formatter (OpenAI's chat formatter by default,
since every modelhub chat wrapper takes the OpenAI message shape), sends tools and
the tool choice, and answers with `ChatResponse`s: text, tool-call and thinking blocks
and a `ChatUsage`; streamed, as deltas that AgentScope accumulates. Retries are the
config's (`max_retries` of the model itself stays 0, so a call is not retried twice);
structured output follows AgentScope's own path, a forced tool call.
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import AsyncGenerator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelhub.adapters._common import chat_wrapper, require
from modelhub.response import ModelResponse

require("agentscope", "agentscope")

from agentscope.credential import CredentialBase  # noqa: E402
from agentscope.formatter import FormatterBase, OpenAIChatFormatter  # noqa: E402
from agentscope.message import DataBlock, Msg, TextBlock, ThinkingBlock, ToolCallBlock  # noqa: E402
from agentscope.model import ChatModelBase, ChatResponse, ChatUsage  # noqa: E402
from agentscope.tool import ToolChoice  # noqa: E402

__all__ = ["ChatModel", "ModelhubCredential"]

_Block = TextBlock | ToolCallBlock | ThinkingBlock | DataBlock
_LITERAL_MODES = ("auto", "none", "required")


class ModelhubCredential(CredentialBase):
    """An AgentScope credential that names a modelhub config (which holds the key)."""

    type: Literal["modelhub_credential"] = "modelhub_credential"
    config_name: str = Field(description="The modelhub config to answer through.")

    @classmethod
    def get_chat_model_class(cls) -> builtins.type[ChatModelBase]:
        """The chat model that takes this credential."""
        return ChatModel


class ChatModel(ChatModelBase):
    """An AgentScope 2.x chat model answering through a modelhub config (`model`: a
    config name, a chat wrapper, or a `ModelhubCredential`)."""

    type: Literal["modelhub_chat"] = "modelhub_chat"

    class Parameters(BaseModel):
        """Generation arguments sent with every call (any the provider knows)."""

        model_config = ConfigDict(extra="allow")

    def __init__(self, model: Any, parameters: BaseModel | None = None, stream: bool = True,
                 formatter: FormatterBase | None = None, context_size: int = 32768) -> None:
        if isinstance(model, ModelhubCredential):
            model = model.config_name
        self.wrapper = chat_wrapper(model)
        super().__init__(credential=ModelhubCredential(config_name=self.wrapper.config_name),
                         model=self.wrapper.model_name,
                         parameters=parameters or self.Parameters(), stream=stream,
                         max_retries=0, context_size=context_size)
        self.formatter = formatter or OpenAIChatFormatter()

    async def _call_api(self, model_name: str, messages: list[Msg],
                        tools: list[dict[str, Any]] | None = None,
                        tool_choice: ToolChoice | None = None,
                        **kwargs: Any) -> ChatResponse | AsyncGenerator[ChatResponse, None]:
        formatted = await self.formatter.format(messages)
        arguments = {**self.parameters.model_dump(exclude_none=True), **kwargs}
        if tools:
            self._validate_tool_choice(tool_choice, tools)
            if tool_choice is not None and tool_choice.tools:
                allowed = set(tool_choice.tools)
                tools = [t for t in tools if t["function"]["name"] in allowed]
            arguments["tools"] = tools
            if tool_choice is not None:
                arguments["tool_choice"] = (
                    tool_choice.mode if tool_choice.mode in _LITERAL_MODES
                    else {"type": "function", "function": {"name": tool_choice.mode}})
        started = time.monotonic()
        if not self.stream:
            response = await self.wrapper.acall(formatted, stream=False, **arguments)
            return ChatResponse(content=_blocks(response), is_last=True,
                                usage=_usage(response, started))
        stream = await self.wrapper.acall(formatted, stream=True, **arguments)
        return _deltas(stream, started)


async def _deltas(stream: Any, started: float) -> AsyncGenerator[ChatResponse, None]:
    """Text deltas under one block id, then the thinking, tool calls and usage."""
    from agentscope._utils._common import _generate_id

    response_id, text_id = _generate_id(), _generate_id()
    async with stream:
        async for delta in stream:
            text: list[_Block] = [TextBlock(text=delta, id=text_id)]
            yield ChatResponse(content=text, is_last=False,
                               id=response_id)
    response: ModelResponse = stream.response
    tail: list[_Block] = [b for b in _blocks(response) if not isinstance(b, TextBlock)]
    yield ChatResponse(content=tail, is_last=False, id=response_id,
                       usage=_usage(response, started))


def _usage(response: ModelResponse, started: float) -> ChatUsage | None:
    usage = response.usage
    if usage is None:
        return None
    return ChatUsage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                     time=time.monotonic() - started)


def _blocks(response: ModelResponse) -> list[_Block]:
    blocks: list[_Block] = []
    if response.reasoning:
        blocks.append(ThinkingBlock(thinking=response.reasoning))
    if response.text:
        blocks.append(TextBlock(text=response.text))
    blocks += [ToolCallBlock(id=c.id, name=c.name, input=json.dumps(c.arguments))
               for c in response.tool_calls]
    return blocks
