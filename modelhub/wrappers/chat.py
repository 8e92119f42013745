"""`ChatWrapperBase`: the call surface every chat wrapper shares.

It turns a call's arguments into a `ChatRequest` (messages normalised, tools and
response_format validated, generation arguments merged over the config's), retries
transient failures, and finishes the response (structured output parsing). A
provider implements four hooks: `_complete`, `_acomplete`, `_open_stream`,
`_aopen_stream`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelhub.response import ModelResponse
from modelhub.wrappers.base import ModelWrapperBase
from modelhub.wrappers.formatting import normalize_messages
from modelhub.wrappers.stream import ModelStream

if TYPE_CHECKING:
    from modelhub.wrappers.structured import OutputSpec

__all__ = ["ChatRequest", "ChatWrapperBase", "StreamSource"]

# What a stream hook returns: the deltas, and how to build the final response.
StreamSource = tuple[Iterator[str], Callable[[], ModelResponse]]
AsyncStreamSource = tuple[AsyncIterator[str], Callable[[], ModelResponse]]


@dataclass(slots=True)
class ChatRequest:
    """One chat call, validated and ready for a provider to send."""

    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    stop: list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    output: OutputSpec | None = None
    stream: bool = False


class ChatWrapperBase(ModelWrapperBase):
    """Base of chat wrappers: `model(messages, stream=..., stop=..., tools=..., ...)`."""

    # -- building the request -----------------------------------------------------
    def build_request(self, messages: Any, *, stream: bool | None = None,
                      stop: str | list[str] | None = None, tools: Any = None,
                      tool_choice: Any = None, response_format: Any = None,
                      **kwargs: Any) -> ChatRequest:
        """Validate a call's arguments into a ChatRequest (no I/O)."""
        request = ChatRequest(normalize_messages(messages))
        generate_args = self.config.generate_args
        request.params = {**generate_args, **kwargs} if kwargs else dict(generate_args)
        if stream is None:
            stream = bool(request.params.pop("stream", getattr(self.config, "stream", False)))
        else:
            request.params.pop("stream", None)
        request.stream = stream
        if stop is None:
            stop = request.params.pop("stop", None)
        if stop is not None:
            request.stop = [stop] if isinstance(stop, str) else list(stop)
            if not all(isinstance(s, str) and s for s in request.stop):
                raise TypeError("stop must be a non-empty string or a list of them")
        if tools is not None or tool_choice is not None:
            from modelhub.wrappers.tools import normalize_tool_choice, normalize_tools

            request.tools = normalize_tools(tools)
            request.tool_choice = normalize_tool_choice(tool_choice, request.tools)
        if response_format is not None:
            from modelhub.wrappers.structured import normalize_response_format

            request.output = normalize_response_format(response_format)
        return request

    def finish(self, request: ChatRequest, response: ModelResponse) -> ModelResponse:
        """Post-process a complete response: parse structured output."""
        if request.output is not None and not response.tool_calls:
            from modelhub.wrappers.structured import parse_output

            response.parsed = parse_output(request.output, response.text)
        return response

    # -- the public calls -------------------------------------------------------------
    def __call__(self, messages: Any, /, **kwargs: Any) -> Any:
        """Call the model; returns a ModelResponse, or a ModelStream with stream=True.

        Keyword arguments: stream, stop, tools, tool_choice, response_format, and any
        provider generation argument (they override the config's generate_args).
        """
        request = self.build_request(messages, **kwargs)
        if request.stream:
            deltas, finalize = self._retry.call(lambda: self._open_stream(request))
            return ModelStream(deltas=deltas,
                               finalize=lambda: self.finish(request, finalize()))
        return self.finish(request, self._retry.call(lambda: self._complete(request)))

    async def acall(self, messages: Any, /, **kwargs: Any) -> Any:
        """The async twin of `__call__`, same arguments."""
        request = self.build_request(messages, **kwargs)
        if request.stream:
            adeltas, finalize = await self._retry.acall(lambda: self._aopen_stream(request))
            return ModelStream(adeltas=adeltas,
                               finalize=lambda: self.finish(request, finalize()))
        response = await self._retry.acall(lambda: self._acomplete(request))
        return self.finish(request, response)

    # -- provider hooks ---------------------------------------------------------------
    def _complete(self, request: ChatRequest) -> ModelResponse:
        raise NotImplementedError

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        raise NotImplementedError

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        """Open the stream (raising HTTP errors now) and return its deltas."""
        raise NotImplementedError

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        raise NotImplementedError
