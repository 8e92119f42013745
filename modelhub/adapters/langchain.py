"""A modelhub config as a LangChain chat model (langchain-core only)::

    from modelhub.adapters.langchain import ChatModelhub

    llm = ChatModelhub(model="qwen")
    llm.invoke("Hi").content
    llm.bind_tools([get_weather]).invoke("Weather in Paris?").tool_calls
    llm.with_structured_output(Answer).invoke("...")       # an Answer

A `BaseChatModel`: `_generate`, `_agenerate`, `_stream` and `_astream` call the wrapper
(sync and natively async), `bind_tools` binds OpenAI tool specs, and answers come back
as `AIMessage`s with `tool_calls`, `usage_metadata` and `response_metadata`
(`finish_reason`, `model_name`, `config_name`). `with_structured_output` takes
`method="function_calling"` (LangChain's default: a forced tool call),
`"json_schema"` or `"json_mode"` (the wrapper's `response_format`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from operator import itemgetter
from typing import Any, Literal, cast

from modelhub.adapters._common import chat_wrapper, require
from modelhub.response import ModelResponse

require("langchain_core", "langchain")

from langchain_core.callbacks import (  # noqa: E402
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput  # noqa: E402
from langchain_core.messages import (  # noqa: E402
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    convert_to_openai_messages,
)
from langchain_core.messages.ai import UsageMetadata  # noqa: E402
from langchain_core.messages.tool import tool_call_chunk  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult  # noqa: E402
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough  # noqa: E402
from langchain_core.tools import BaseTool  # noqa: E402
from langchain_core.utils.function_calling import convert_to_openai_tool  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field  # noqa: E402

from modelhub.wrappers.chat import ChatWrapperBase  # noqa: E402

__all__ = ["ChatModelhub"]


class ChatModelhub(BaseChatModel):
    """A LangChain chat model answering through a modelhub config (`model`: a config
    name or a chat wrapper). `model_kwargs` are generation arguments for every call."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: Any = Field(description="A modelhub config name, or a chat wrapper.")
    model_kwargs: dict[str, Any] = Field(default_factory=dict,
                                         description="Generation arguments for every call.")

    @property
    def wrapper(self) -> ChatWrapperBase:
        """The modelhub chat wrapper behind this model."""
        return chat_wrapper(self.model)

    @property
    def _llm_type(self) -> str:
        return "modelhub"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        wrapper = self.wrapper
        return {"config_name": wrapper.config_name, "model_name": wrapper.model_name,
                **self.model_kwargs}

    # -- calls -----------------------------------------------------------------------
    def _arguments(self, messages: list[BaseMessage], stop: list[str] | None,
                   kwargs: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        arguments = {**self.model_kwargs, **kwargs}
        if stop:
            arguments["stop"] = stop
        return convert_to_openai_messages(messages), arguments

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        openai_messages, arguments = self._arguments(messages, stop, kwargs)
        response = self.wrapper(openai_messages, stream=False, **arguments)
        return _result(response)

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None,
                         **kwargs: Any) -> ChatResult:
        openai_messages, arguments = self._arguments(messages, stop, kwargs)
        response = await self.wrapper.acall(openai_messages, stream=False, **arguments)
        return _result(response)

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        openai_messages, arguments = self._arguments(messages, stop, kwargs)
        with self.wrapper(openai_messages, stream=True, **arguments) as stream:
            for delta in stream:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager is not None:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
            yield _last_chunk(stream.response)

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        openai_messages, arguments = self._arguments(messages, stop, kwargs)
        stream = await self.wrapper.acall(openai_messages, stream=True, **arguments)
        async with stream:
            async for delta in stream:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager is not None:
                    await run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
        yield _last_chunk(stream.response)

    # -- tools and structured output ---------------------------------------------------------
    def bind_tools(self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
                   *, tool_choice: str | dict[str, Any] | bool | None = None,
                   strict: bool | None = None,
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (functions, pydantic models, LangChain tools or OpenAI specs).

        `tool_choice`: "auto", "none", "required" (or "any", or True), or a tool name.
        """
        specs = [convert_to_openai_tool(tool, strict=strict) for tool in tools]
        if tool_choice is not None and tool_choice is not False:
            kwargs["tool_choice"] = _tool_choice(tool_choice, specs)
        return super().bind(tools=specs, **kwargs)

    def with_structured_output(
        self, schema: dict[str, Any] | type, *, include_raw: bool = False,
        method: Literal["function_calling", "json_schema", "json_mode"] = "function_calling",
        strict: bool | None = None, **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """A runnable answering `schema`: a pydantic model, or a JSON schema (a dict).

        `method="function_calling"` asks for a forced tool call (LangChain's own way);
        `"json_schema"` and `"json_mode"` use the model's `response_format`.
        """
        if method == "function_calling":
            return super().with_structured_output(schema, include_raw=include_raw, **kwargs)
        if kwargs:
            raise ValueError(f"unsupported arguments {sorted(kwargs)}")
        if method == "json_mode":
            fmt: Any = {"type": "json_object"}
        elif isinstance(schema, dict) and "json_schema" not in schema and strict is not None:
            fmt = {"type": "json_schema", "json_schema": {
                "name": schema.get("title", "response"), "schema": schema, "strict": strict}}
        else:
            fmt = schema
        llm = self.bind(response_format=fmt)
        parse = RunnableLambda(_parsed(schema if method == "json_mode" else None))
        if not include_raw:
            return llm | parse
        assign = RunnablePassthrough.assign(parsed=itemgetter("raw") | parse,
                                            parsing_error=lambda _: None)
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=llm) | assign.with_fallbacks(
            [fallback], exception_key="parsing_error")


def _tool_choice(choice: str | dict[str, Any] | bool, specs: list[dict[str, Any]]
                 ) -> str | dict[str, Any]:
    if choice is True or choice == "any":
        return "required"
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        return {"type": "function", "function": {"name": choice}}
    assert not isinstance(choice, bool)
    return choice


def _parsed(schema: Any) -> Callable[[AIMessage], Any]:
    """What a structured answer parses to: the wrapper's `parsed` value, or (json_mode)
    the JSON text validated against `schema`."""
    def parse(message: AIMessage) -> Any:
        if schema is None:
            return message.additional_kwargs["parsed"]
        data = json.loads(message.text)
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            return schema.model_validate(data)
        return data

    return parse


def _usage(response: ModelResponse) -> UsageMetadata | None:
    usage = response.usage
    if usage is None:
        return None
    counts = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
              "total_tokens": usage.total_tokens}
    return cast(UsageMetadata, counts)


def _metadata(response: ModelResponse) -> dict[str, Any]:
    return {"finish_reason": response.finish_reason, "model_name": response.model,
            "config_name": response.config_name}


def _extra(response: ModelResponse) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if response.reasoning:
        extra["reasoning_content"] = response.reasoning
    if response.parsed is not None:
        extra["parsed"] = response.parsed
    return extra


def _result(response: ModelResponse) -> ChatResult:
    message = AIMessage(
        content=response.text or "",
        tool_calls=[{"name": c.name, "args": c.arguments, "id": c.id, "type": "tool_call"}
                    for c in response.tool_calls],
        usage_metadata=_usage(response), response_metadata=_metadata(response),
        additional_kwargs=_extra(response))
    return ChatResult(generations=[ChatGeneration(message=message)],
                      llm_output={"model_name": response.model,
                                  "config_name": response.config_name})


def _last_chunk(response: ModelResponse) -> ChatGenerationChunk:
    """The closing chunk of a stream: tool calls, usage and metadata, once."""
    return ChatGenerationChunk(message=AIMessageChunk(
        content="", chunk_position="last",
        tool_call_chunks=[tool_call_chunk(name=c.name, args=json.dumps(c.arguments), id=c.id,
                                          index=i) for i, c in enumerate(response.tool_calls)],
        usage_metadata=_usage(response), response_metadata=_metadata(response),
        additional_kwargs=_extra(response)))
