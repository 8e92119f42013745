"""`dashscope_chat` (alias `tongyi_chat`): the Generation API with
`result_format="message"`, sync and async (the SDK's AioGeneration), streamed with
`incremental_output`; and the base the multimodal wrapper shares."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from modelhub.http.errors import connection_error, parse_answer
from modelhub.providers.dashscope.base import DashScopeWrapperBase
from modelhub.providers.dashscope.config import DashScopeChatConfig
from modelhub.providers.dashscope.messages import (
    format_chat,
    format_multi_agent,
    generation_messages,
    native_media,
)
from modelhub.providers.dashscope.wire import StreamReader, check_answer, parse_generation
from modelhub.response import ModelResponse
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource
from modelhub.wrappers.sdk import (
    acall_sdk,
    apeek_sdk_stream,
    aread_sdk_stream,
    call_sdk,
    peek_sdk_stream,
    read_sdk_stream,
)

__all__ = ["DashScopeChatBase", "DashScopeChatWrapper", "response_format"]

# What a DashScope-shaped media part needs.
_MEDIA_CAPABILITY: dict[str, Capability] = {"image": "vision", "audio": "audio",
                                            "video": "video"}
# AgentScope content blocks: messages holding them are formatted as AgentScope does.
_AGENT_BLOCKS = frozenset({"image", "audio", "file", "tool_use", "tool_result"})


def _agent_messages(messages: Any) -> bool:
    """Whether `messages` are agent messages (Msg-like objects, a `url`, AgentScope
    blocks) rather than chat messages ready to send."""
    if isinstance(messages, str):
        return False
    for message in messages if isinstance(messages, list) else [messages]:
        if type(message) is not dict or "url" in message:
            return True
        content = message.get("content")
        if isinstance(content, list) and any(
                isinstance(b, Mapping) and (b.get("type") in _AGENT_BLOCKS
                                            or (b.get("type") == "video" and "url" in b))
                for b in content):
            return True
    return False


def response_format(output: Any) -> dict[str, Any]:
    """DashScope's `response_format` for an `OutputSpec`: JSON mode for any JSON object,
    `json_schema` for a schema."""
    if output.kind == "json_object" or output.schema is None:
        return {"type": "json_object"}
    return {"type": "json_schema",
            "json_schema": {"name": output.name, "schema": output.schema,
                            "strict": output.strict}}


class DashScopeChatBase(DashScopeWrapperBase, ChatWrapperBase):
    """Chat on DashScope's native API: the calls, the streams and `format()`; a
    subclass names its SDK classes and how messages are sent."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "tools", "stop", "response_format"})
    output_limit: ClassVar[str | None] = "max_tokens"

    # -- what a subclass says ------------------------------------------------------------
    def api(self) -> Any:
        """The SDK class for sync calls."""
        raise NotImplementedError

    def aio_api(self) -> Any:
        """The SDK class for async calls."""
        raise NotImplementedError

    def messages(self, request: ChatRequest) -> list[dict[str, Any]]:
        """The request's messages as this API takes them."""
        raise NotImplementedError

    async def amessages(self, request: ChatRequest) -> list[dict[str, Any]]:
        """Async twin of `messages`."""
        return self.messages(request)

    # -- building the call ---------------------------------------------------------------
    def format(self, *args: Any, multi_agent_mode: bool = True) -> list[dict[str, Any]]:
        """As AgentScope v0.1.6 formats for DashScope: content as DashScope parts
        (`{"text"}`, `{"image"}`, `{"audio"}`, `{"video"}`); in multi-agent mode the
        system prompt and one user message holding "## Conversation History"."""
        return format_multi_agent(*args) if multi_agent_mode else format_chat(*args)

    def build_request(self, messages: Any, **kwargs: Any) -> ChatRequest:
        """As the base class does; agent messages are formatted as AgentScope's chat
        mode does (keeping their URLs), and DashScope-shaped media parts are checked
        against the capabilities too."""
        if _agent_messages(messages):
            messages = format_chat(messages)
        request = super().build_request(messages, **kwargs)
        for kind in sorted(native_media(request.messages)):
            self.require(_MEDIA_CAPABILITY[kind], f"{kind!r} content")
        return request

    def call_kwargs(self, request: ChatRequest, messages: list[dict[str, Any]], *,
                    aio_session: Any = None, sync: bool = True) -> dict[str, Any]:
        """The SDK call's keyword arguments."""
        params = dict(request.params)
        self.check_reserved(params)
        if params.pop("result_format", "message") != "message":
            raise ValueError("result_format must be 'message' (the only one modelhub reads)")
        incremental = params.pop("incremental_output", None)
        if request.stream and incremental is False:
            raise ValueError("a stream is read incrementally: incremental_output=False "
                             "cannot be honoured")
        kwargs: dict[str, Any] = {"model": self.model_name, "messages": messages,
                                  "result_format": "message", **params}
        if request.stop:
            kwargs["stop"] = request.stop
        if request.tools:
            kwargs["tools"] = request.tools
        if request.tool_choice is not None:
            kwargs["tool_choice"] = request.tool_choice
        if request.output is not None:
            kwargs["response_format"] = response_format(request.output)
        if request.stream:
            kwargs["stream"] = kwargs["incremental_output"] = True
        elif incremental is not None:
            kwargs["incremental_output"] = incremental
        kwargs.update(self.sdk_kwargs(aio_session=aio_session, sync=sync))
        return kwargs

    def _parse(self, answer: Any) -> ModelResponse:
        check_answer(answer, self.context)
        return parse_answer(lambda a: parse_generation(a, self.model_name), answer,
                            self.context)

    # -- the calls ----------------------------------------------------------------------
    def _complete(self, request: ChatRequest) -> ModelResponse:
        kwargs = self.call_kwargs(request, self.messages(request))
        return self._parse(call_sdk(lambda: self.api().call(**kwargs), self.map_error))

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        messages = await self.amessages(request)
        async with self.aio_session() as session:
            kwargs = self.call_kwargs(request, messages, aio_session=session, sync=False)
            answer = await acall_sdk(lambda: self.aio_api().call(**kwargs), self.map_error)
        return self._parse(answer)

    def _check_first(self, first: Any) -> None:
        """An error answer raises at open (where it can be retried), as does a stream
        with no event at all."""
        if first is None:
            raise connection_error(self.context, "the stream ended before its first event")
        check_answer(first, self.context)

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        kwargs = self.call_kwargs(request, self.messages(request))
        chunks: Iterator[Any] = call_sdk(lambda: iter(self.api().call(**kwargs)),
                                         self.map_error)
        first, items = peek_sdk_stream(chunks, self.map_error)  # sends the request
        self._check_first(first)
        reader = StreamReader(self.context, self.model_name)
        return (read_sdk_stream(items, reader, self.map_error,
                                close=getattr(chunks, "close", None)), reader.response)

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        messages = await self.amessages(request)
        stack = contextlib.AsyncExitStack()
        try:
            session = await stack.enter_async_context(self.aio_session())
            kwargs = self.call_kwargs(request, messages, aio_session=session, sync=False)
            chunks = await acall_sdk(lambda: self.aio_api().call(**kwargs), self.map_error)
            stack.push_async_callback(chunks.aclose)
            first, items = await apeek_sdk_stream(chunks, self.map_error)
            self._check_first(first)
        except BaseException:
            await stack.aclose()
            raise
        reader = StreamReader(self.context, self.model_name)
        return (aread_sdk_stream(items, reader, self.map_error, close=stack.aclose),
                reader.response)


class DashScopeChatWrapper(DashScopeChatBase):
    """Chat on DashScope's Generation API (Qwen text models): text, tools (streamed
    too), reasoning, stop, JSON mode, `enable_search` and the other Generation
    parameters as generation arguments."""

    model_type: ClassVar[str] = "dashscope_chat"
    config_class: ClassVar[type[DashScopeChatConfig]] = DashScopeChatConfig
    config: DashScopeChatConfig
    service_path: ClassVar[str] = "/services/aigc/text-generation/generation"

    def api(self) -> Any:
        """`dashscope.Generation`."""
        from dashscope import Generation

        return Generation

    def aio_api(self) -> Any:
        """`dashscope.AioGeneration`."""
        from dashscope import AioGeneration

        return AioGeneration

    def messages(self, request: ChatRequest) -> list[dict[str, Any]]:
        """Text messages: neutral text parts joined, DashScope's `{"text"}` parts kept."""
        return generation_messages(request.messages)
