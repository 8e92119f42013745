"""`ChatWrapperBase`: the call surface every chat wrapper shares.

It turns a call's arguments into a `ChatRequest` (messages in the neutral shape, tools
and response_format validated, generation arguments merged over the config's), checks
the wrapper can do what was asked before anything is sent, retries transient failures,
and finishes the response (stop strings trimmed where the API cannot stop by itself,
structured output parsed).

A provider implements any of four hooks, and the rest follow:

- `_complete` alone: `acall` runs it in a thread, `stream=True` yields one chunk;
- `_open_stream` alone: a plain call consumes the stream;
- `_acomplete` / `_aopen_stream`: native async; without them async runs the sync hooks
  in a thread.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, overload

from modelhub.errors import ResponseParseError
from modelhub.response import ModelResponse, Usage
from modelhub.wrappers.base import Capability, ModelWrapperBase
from modelhub.wrappers.engine_ref import call_engine
from modelhub.wrappers.formatting import normalize_messages
from modelhub.wrappers.stops import StopTrimmer, trim_at_stop
from modelhub.wrappers.stream import ModelStream, StreamStart, aprefetch, prefetch

if TYPE_CHECKING:
    from modelhub.wrappers.structured import OutputSpec

__all__ = ["AsyncStreamSource", "ChatOperation", "ChatRequest", "ChatWrapperBase",
           "StreamSource"]

# What a stream hook returns: the deltas, and how to build the final response.
StreamSource = tuple[Iterator[str], Callable[[], ModelResponse]]
AsyncStreamSource = tuple[AsyncIterator[str], Callable[[], ModelResponse]]

# Content part types and the capability each needs.
_PART_CAPABILITY: dict[str, Capability] = {"image_url": "vision", "input_audio": "audio",
                                           "video": "video", "video_url": "video"}


@dataclass(slots=True)
class ChatRequest:
    """One chat call, validated and ready for a provider to send.

    `messages` are in the neutral shape (see `modelhub.wrappers.formatting`); `params`
    are the generation arguments (config defaults under the call's); `stop` is set
    only for a wrapper that stops natively (others have it trimmed for them); `tools`
    are OpenAI-style function specs; `output` the structured output asked for.
    """

    messages: list[dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    stop: list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    output: OutputSpec | None = None
    stream: bool = False
    trim_stop: list[str] | None = None  # stop strings the base class trims at
    parse_retries: int = 0  # asking again when the answer does not match `output`


def _media_in(messages: list[dict[str, Any]]) -> set[str]:
    kinds: set[str] = set()
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            kinds.update(str(part.get("type")) for part in content if isinstance(part, dict))
    return kinds


class ChatWrapperBase(ModelWrapperBase):
    """Base of chat wrappers: `model(messages, stream=..., stop=..., tools=..., ...)`."""

    kind: ClassVar[str] = "chat"
    #: The generation argument that bounds an answer's length as this wrapper takes it
    #: (the neutral `max_tokens`, which it maps to its provider's spelling), or None when
    #: it has none its backend is sure to honour. A config with a `budget` gives a call
    #: that names no limit one through it (see `modelhub.calls.ledger`).
    output_limit: ClassVar[str | None] = None

    def __init__(self, config: Any = None, /, **kwargs: Any) -> None:
        if not (self._native("_complete") or self._native("_open_stream")):
            raise TypeError(f"{type(self).__name__} implements neither _complete nor "
                            "_open_stream: a chat wrapper needs at least one")
        super().__init__(config, **kwargs)

    @classmethod
    @functools.cache
    def _native(cls, hook: str) -> bool:
        """Whether the class implements `hook` itself rather than through the base."""
        return getattr(cls, hook) is not getattr(ChatWrapperBase, hook)

    def output_limit_param(self) -> str | None:
        """The argument bounding this model's answer (`output_limit` by default)."""
        return self.output_limit

    def default_output_limit(self) -> int | None:
        """The most output tokens a call that names no limit gets from its config
        outside `generate_args`, or from the wrapper itself (None: not known)."""
        return None

    # -- building the request -----------------------------------------------------
    def prepare_messages(self, messages: Any) -> list[dict[str, Any]]:
        """A call's messages as the list this wrapper's hooks take: the neutral shape
        (see `modelhub.wrappers.formatting`). A provider whose `format()` returns its
        own shape overrides this to take that shape back as it is."""
        return normalize_messages(messages)

    def build_request(self, messages: Any, *, stream: bool | None = None,
                      stop: str | Sequence[str] | None = None, tools: Any = None,
                      tool_choice: Any = None, response_format: Any = None,
                      **kwargs: Any) -> ChatRequest:
        """Validate a call's arguments into a ChatRequest (no I/O). Raises
        UnsupportedFeatureError for what this wrapper cannot do."""
        request = ChatRequest(self.prepare_messages(messages), self.merged_params(kwargs))
        params = request.params
        if "messages" in params:
            raise TypeError("pass messages as the first argument, not as a keyword")
        if stream is None:
            stream = bool(params.pop("stream", getattr(self.config, "stream", False)))
        else:
            params.pop("stream", None)
        request.stream = stream
        retries = params.pop("parse_retries", None)
        if retries is None:
            retries = getattr(self.config, "parse_retries", 0)
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise TypeError(f"parse_retries must be a whole number >= 0, got {retries!r}")
        request.parse_retries = retries
        if stop is None:
            stop = params.pop("stop", None)
        if stop is not None:
            stops = [stop] if isinstance(stop, str) else list(stop)
            if not all(isinstance(s, str) and s for s in stops):
                raise TypeError("stop must be a non-empty string or a list of them")
            if "stop" in self.capabilities:
                request.stop = stops
            else:
                request.trim_stop = stops
        if tools is not None or tool_choice is not None:
            from modelhub.wrappers.tools import normalize_tool_choice, normalize_tools

            request.tools = normalize_tools(tools)
            request.tool_choice = normalize_tool_choice(tool_choice, request.tools)
            if request.tools:
                self.require("tools", "tools")
        if response_format is not None:
            from modelhub.wrappers.structured import normalize_response_format

            request.output = normalize_response_format(response_format)
            if request.output is not None:
                self.require("response_format", "a response_format")
        for kind in _media_in(request.messages):
            capability = _PART_CAPABILITY.get(kind)
            if capability is not None:
                self.require(capability, f"{kind!r} content")
        return request

    def finish(self, request: ChatRequest, response: ModelResponse) -> ModelResponse:
        """Post-process a complete response: trim at stop strings the API did not stop
        at, parse structured output, name the config that answered."""
        if request.trim_stop and response.text:
            response.text = trim_at_stop(response.text, request.trim_stop)
        if request.output is not None and not response.tool_calls:
            from modelhub.errors import ResponseParseError
            from modelhub.wrappers.structured import parse_output

            failure = None
            try:
                response.parsed = parse_output(request.output, response.text)
            except ResponseParseError as error:
                from modelhub.http.errors import with_context

                failure = with_context(error, self.error_context())
            if failure is not None:  # raised here: nothing chained holds the answer
                raise failure
        response.config_name = self.config_name
        return response

    def _stream_parts(self, request: ChatRequest, deltas: Iterator[str],
                      finalize: Callable[[], ModelResponse]
                      ) -> tuple[Iterator[str], Callable[[], ModelResponse]]:
        """A provider's stream as the caller reads it: trimmed at stop strings, its
        response finished."""
        if request.trim_stop:
            deltas = StopTrimmer(request.trim_stop).trim(deltas)
        return deltas, lambda: self._finished(request, finalize())

    def _astream_parts(self, request: ChatRequest, deltas: AsyncIterator[str],
                       finalize: Callable[[], ModelResponse]
                       ) -> tuple[AsyncIterator[str], Callable[[], ModelResponse]]:
        """Async twin of `_stream_parts`."""
        if request.trim_stop:
            deltas = StopTrimmer(request.trim_stop).atrim(deltas)
        return deltas, lambda: self._finished(request, finalize())

    def _operation(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ChatOperation:
        """The call `model(messages, **kwargs)` as one operation (see `modelhub.calls`)."""
        (messages,) = args
        return ChatOperation(self, self.build_request(messages, **kwargs))

    # -- the public calls -------------------------------------------------------------
    @overload
    def __call__(self, messages: Any, /, *, stream: Literal[True],
                 **kwargs: Any) -> ModelStream: ...

    @overload
    def __call__(self, messages: Any, /, *, stream: Literal[False],
                 **kwargs: Any) -> ModelResponse: ...

    @overload
    def __call__(self, messages: Any, /, *, stream: None = None,
                 **kwargs: Any) -> ModelResponse | ModelStream: ...

    def __call__(self, messages: Any, /, *, stream: bool | None = None,
                 **kwargs: Any) -> ModelResponse | ModelStream:
        """Call the model; returns a ModelResponse, or a ModelStream with stream=True
        (or when the config streams by default and `stream` is not given).

        Keyword arguments: stream, stop, tools, tool_choice, response_format, the call's
        own `timeout` and `max_retries`, and any provider generation argument (they
        override the config's generate_args).
        """
        return call_engine().call(self, (messages,), {"stream": stream, **kwargs})  # type: ignore[no-any-return]

    @overload
    async def acall(self, messages: Any, /, *, stream: Literal[True],
                    **kwargs: Any) -> ModelStream: ...

    @overload
    async def acall(self, messages: Any, /, *, stream: Literal[False],
                    **kwargs: Any) -> ModelResponse: ...

    @overload
    async def acall(self, messages: Any, /, *, stream: None = None,
                    **kwargs: Any) -> ModelResponse | ModelStream: ...

    async def acall(self, messages: Any, /, *, stream: bool | None = None,
                    **kwargs: Any) -> ModelResponse | ModelStream:
        """The async twin of `__call__`, same arguments; a stream is read with
        `async for`."""
        return await call_engine().acall(self, (messages,), {"stream": stream, **kwargs})  # type: ignore[no-any-return]

    def _finished(self, request: ChatRequest, response: ModelResponse) -> ModelResponse:
        """A stream's response, finished; an answer that does not parse is not asked
        for again (its text has been shown), and the error carries the text."""
        try:
            return self.finish(request, response)
        except ResponseParseError as error:
            error.text = response.text
            raise

    def _ask_again(self, request: ChatRequest, response: ModelResponse,
                   error: ResponseParseError, attempt: int) -> ChatRequest:
        """The request that asks again after an answer that did not parse (the error
        shown to the model), or the error, with the answer's text, after the last."""
        error.config_name = error.config_name or self.config_name
        error.text, error.attempts = response.text, attempt
        if request.output is None or attempt > request.parse_retries:
            raise error
        from dataclasses import replace

        from modelhub.wrappers.structured import retry_messages

        return replace(request, messages=retry_messages(request.messages, request.output,
                                                        response.text, error))

    # -- provider hooks, each with a fallback on the others ---------------------------
    def _complete(self, request: ChatRequest) -> ModelResponse:
        """One complete answer. By default, the wrapper's own stream, consumed."""
        deltas, finalize = self._open_stream(request)
        for _ in deltas:
            pass
        return finalize()

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        """Open the stream (raising HTTP errors now) and return its deltas. By default,
        the complete answer as one chunk."""
        response = self._complete(request)
        return iter([response.text] if response.text else []), lambda: response

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        """Async twin of `_complete`. By default, the wrapper's own async stream
        consumed, else `_complete` in a thread."""
        if self._native("_aopen_stream"):
            deltas, finalize = await self._aopen_stream(request)
            async for _ in deltas:
                pass
            return finalize()
        import asyncio

        return await asyncio.to_thread(self._complete, request)

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        """Async twin of `_open_stream`. By default, the native async answer as one
        chunk, else the sync stream read in a thread."""
        import asyncio

        if self._native("_acomplete") or not self._native("_open_stream"):
            response = await self._acomplete(request)

            async def one_chunk() -> AsyncIterator[str]:
                if response.text:
                    yield response.text

            return one_chunk(), lambda: response
        deltas, finalize = await asyncio.to_thread(self._open_stream, request)
        done = object()

        async def threaded() -> AsyncIterator[str]:
            while (delta := await asyncio.to_thread(next, deltas, done)) is not done:
                yield delta  # type: ignore[misc]

        return threaded(), finalize


class ChatOperation:
    """One chat call of one wrapper, ready to run: a plain answer, or a stream opened
    and read up to its first text delta (both under the call's retries)."""

    kind = "chat"
    __slots__ = ("asked_before", "on_ask_again", "request", "wrapper")

    def __init__(self, wrapper: ChatWrapperBase, request: ChatRequest) -> None:
        self.wrapper = wrapper
        self.request = request
        #: The usage of answers that did not parse and were asked for again (or that
        #: failed the last time): tokens the call used besides its response's own.
        self.asked_before: Usage | None = None
        #: Called with each request that asks again, before it is sent (a budget holds
        #: its worst case there, and may refuse it).
        self.on_ask_again: Callable[[ChatRequest], None] | None = None

    def _spent(self, response: ModelResponse) -> None:
        usage = response.usage
        if usage is not None:
            self.asked_before = usage if self.asked_before is None \
                else self.asked_before + usage

    @property
    def input(self) -> list[dict[str, Any]]:
        """The messages sent."""
        return self.request.messages

    @property
    def params(self) -> dict[str, Any]:
        """The generation arguments (with the stop strings)."""
        request = self.request
        stop = request.stop or request.trim_stop
        return {**request.params, "stop": stop} if stop else request.params

    @property
    def stream(self) -> bool:
        """Whether the answer is streamed."""
        return self.request.stream

    def output_ceiling(self) -> int | None:
        """The most output tokens to give a call that names no limit, when its config
        has a budget: the wrapper's default, else `OUTPUT_CAP`; None when the wrapper
        cannot be given a limit."""
        wrapper = self.wrapper
        if wrapper.output_limit_param() is None:
            return None
        from modelhub.calls.estimate import OUTPUT_CAP

        return wrapper.default_output_limit() or OUTPUT_CAP

    def limit_output(self, tokens: int) -> bool:
        """Ask for at most `tokens` output tokens; False when the wrapper cannot."""
        name = self.wrapper.output_limit_param()
        if name is None:
            return False
        self.request.params[name] = tokens
        return True

    def run(self) -> ModelResponse | StreamStart[Iterator[str]]:
        """Make the call."""
        wrapper, request = self.wrapper, self.request
        if request.stream:
            return wrapper.with_retries(
                lambda: wrapper._open_stream(request),
                after=lambda source: prefetch(*wrapper._stream_parts(request, *source)))
        attempt = 0
        while True:  # asked again while a structured answer does not parse
            response = wrapper.with_retries(functools.partial(wrapper._complete, request))
            try:
                return wrapper.finish(request, response)
            except ResponseParseError as error:
                attempt += 1
                self._spent(response)
                request = wrapper._ask_again(request, response, error, attempt)
                if self.on_ask_again is not None:
                    self.on_ask_again(request)

    async def arun(self) -> ModelResponse | StreamStart[AsyncIterator[str]]:
        """Make the call (async)."""
        wrapper, request = self.wrapper, self.request
        if request.stream:
            async def first(source: AsyncStreamSource) -> StreamStart[AsyncIterator[str]]:
                return await aprefetch(*wrapper._astream_parts(request, *source))

            return await wrapper.awith_retries(lambda: wrapper._aopen_stream(request),
                                               after=first)
        attempt = 0
        while True:
            response = await wrapper.awith_retries(
                functools.partial(wrapper._acomplete, request))
            try:
                return wrapper.finish(request, response)
            except ResponseParseError as error:
                attempt += 1
                self._spent(response)
                request = wrapper._ask_again(request, response, error, attempt)
                if self.on_ask_again is not None:
                    self.on_ask_again(request)
