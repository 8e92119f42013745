"""A scripted chat model for tests: yours and ours.

`model_type: scripted` answers from a queue of replies instead of a network, and
records every call it gets, so a test can drive an agent (or an adapter, or a CLI)
through exactly the turns it wants and then assert on what the model was asked::

    from modelhub.testing import error, reply, scripted, tool_call

    model = scripted("agent-llm",                      # also `modelhub.get("agent-llm")`
                     tool_call("add", a=1, b=2),       # turn 1: a native tool call
                     "The sum is 3.",                  # turn 2: text
                     error(429, retry_after=0))        # turn 3: a rate limit
    ...
    assert model.calls[1].messages[-1]["role"] == "tool"
    assert model.calls[0].tool_names == ["add"]

A reply is a `str` (text), a `ToolCall` or a list of them, a `ModelResponse` (returned
as it is), an exception (raised), a `ScriptedReply` from `reply(...)`/`error(...)` for
anything finer (stream chunks, reasoning, usage, an error in the middle of a stream,
a delay), or a function of the `ScriptedCall` returning any of these. A config file can
script replies too (`responses:`, each a string or a mapping of `reply()`'s keywords).

The model declares every chat capability except `stop` by default, so stop strings are
trimmed for it by the base class, as for a model that cannot stop by itself; the
`capabilities` key narrows that (a model without `tools`, say, to test a text
protocol). When the queue runs dry it raises `ScriptExhaustedError`, or answers
`default` if one is configured (`echo` repeats the last user message).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from modelhub.config.schema import ModelConfig
from modelhub.errors import ModelCallError, error_class_for_status
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.testing_config import ReplySpec, ScriptedConfig
from modelhub.wrappers.base import CAPABILITIES, Capability
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource

if TYPE_CHECKING:
    from modelhub.wrappers.structured import OutputSpec

__all__ = [
    "ScriptExhaustedError",
    "ScriptedCall",
    "ScriptedConfig",
    "ScriptedModel",
    "ScriptedReply",
    "echo",
    "error",
    "reply",
    "scripted",
    "tool_call",
]

CHAT_CAPABILITIES: frozenset[Capability] = frozenset(
    {"streaming", "tools", "response_format", "vision", "audio", "video"})


class ScriptExhaustedError(ModelCallError):
    """The scripted model was called once more than its script has replies."""


@dataclass(frozen=True, slots=True)
class ScriptedReply:
    """One scripted turn. Build it with `reply()` or `error()`.

    `chunks` are the deltas of a stream (default: `text` cut after each space);
    `error` is raised instead of answering, or, with `error_after`, after that many
    chunks of a stream have been delivered (a plain call then raises it at once).
    """

    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    chunks: tuple[str, ...] | None = None
    reasoning: str | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    error: BaseException | None = None
    error_after: int | None = None
    delay: float = 0.0
    response: ModelResponse | None = None


@dataclass(slots=True)
class ScriptedCall:
    """What the scripted model was asked, once per call (retries included).

    `messages` are in the neutral shape; `stop` is what the call asked to stop at
    (trimmed by the base class unless the model declares `stop`); `response_format`
    the structured output asked for.
    """

    messages: list[dict[str, Any]]
    params: dict[str, Any]
    stop: list[str] | None
    tools: list[dict[str, Any]] | None
    tool_choice: str | dict[str, Any] | None
    response_format: OutputSpec | None
    stream: bool
    is_async: bool

    @property
    def tool_names(self) -> list[str]:
        """The names of the tools offered."""
        return [t["function"]["name"] for t in self.tools or ()]

    @property
    def last_user_text(self) -> str:
        """The text of the last user message ('' when there is none)."""
        from modelhub.wrappers.formatting import to_text

        for message in reversed(self.messages):
            if message.get("role") == "user":
                return to_text(message.get("content"))
        return ""


Scriptable = (str | ToolCall | list[ToolCall] | ModelResponse | ScriptedReply | BaseException
              | type[BaseException] | Mapping[str, Any] | Callable[[ScriptedCall], Any])


def tool_call(name: str, arguments: Mapping[str, Any] | None = None, /, *,
              id: str | None = None, **kwargs: Any) -> ToolCall:
    """A tool call to script: `tool_call("add", a=1, b=2)` or `tool_call("add", {"a": 1})`."""
    args = {**(arguments or {}), **kwargs}
    return ToolCall(id=id or "", name=name, arguments=args)


def reply(text: str | None = None, *, tool_calls: Iterable[ToolCall] = (),
          chunks: Iterable[str] | None = None, json_value: Any = None,
          reasoning: str | None = None, usage: Usage | tuple[int, int] | None = None,
          finish_reason: str | None = None, delay: float = 0.0) -> ScriptedReply:
    """A scripted answer. `json_value` is sent as its JSON text (for structured output);
    `chunks` are the stream's deltas (their join is the text when `text` is not given);
    `usage` as `Usage` or `(input_tokens, output_tokens)` (default: a word count)."""
    pieces = tuple(chunks) if chunks is not None else None
    if json_value is not None:
        if text is not None:
            raise TypeError("give text or json_value, not both")
        text = json.dumps(json_value)
    if text is None and pieces is not None:
        text = "".join(pieces)
    if isinstance(usage, tuple):
        usage = Usage(usage[0], usage[1], usage[0] + usage[1])
    return ScriptedReply(text=text, tool_calls=tuple(tool_calls), chunks=pieces,
                         reasoning=reasoning, usage=usage, finish_reason=finish_reason,
                         delay=delay)


def error(kind: int | BaseException | type[BaseException], message: str = "scripted error",
          *, retry_after: float | None = None, after_chunks: int | None = None,
          chunks: Iterable[str] | None = None) -> ScriptedReply:
    """A scripted failure: an HTTP status (429 gives a `RateLimitError` with
    `retry_after`), or any exception. With `after_chunks`, a stream delivers that many
    of `chunks` first, then breaks with it."""
    exc: BaseException
    if isinstance(kind, int):
        cls = error_class_for_status(kind)
        extra: dict[str, Any] = {"retry_after": retry_after} if kind == 429 else {}
        exc = cls(message, status_code=kind, provider="scripted", **extra)
    elif isinstance(kind, type):
        exc = kind(message)
    else:
        exc = kind
    pieces = tuple(chunks) if chunks is not None else None
    if after_chunks is not None and pieces is None:
        pieces = tuple(f"chunk{i} " for i in range(after_chunks))
    return ScriptedReply(error=exc, error_after=after_chunks, chunks=pieces)


# -- config ---------------------------------------------------------------------------------
# -- the wrapper -------------------------------------------------------------------------------
def echo(messages: list[dict[str, Any]], stop_sequences: list[str] | None = None) -> str:
    """A model in smolagents' custom-model shape that answers with the last user
    message: the smallest `model_type: callable` there is (`modelhub.testing:echo`)."""
    from modelhub.wrappers.formatting import to_text

    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    return to_text(last.get("content")) if last else ""


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [w + " " for w in words[:-1]] + ([words[-1]] if words[-1] else [])


def _count_words(value: Any) -> int:
    from modelhub.wrappers.formatting import to_text

    return len(to_text(value).split())


class ScriptedModel(ChatWrapperBase):
    """The `scripted` model type: answers from a queue, records every call.

    `add(*replies)` queues replies; `calls` holds a `ScriptedCall` per call;
    `remaining` is how many replies are left; `reset()` empties both.
    """

    model_type: ClassVar[str] = "scripted"
    config_class: ClassVar[type[ModelConfig]] = ScriptedConfig
    capabilities: ClassVar[frozenset[Capability]] = CHAT_CAPABILITIES

    config: ScriptedConfig
    calls: list[ScriptedCall]

    def setup(self) -> None:
        """Queue the config's replies and take its capabilities."""
        self._lock = threading.Lock()
        self._queue: deque[ScriptedReply] = deque()
        self._ids = itertools.count()  # call ids unique across the model's answers
        self.calls = []
        if self.config.capabilities is not None:
            # This instance's own capabilities shadow the class's: the base reads them.
            object.__setattr__(self, "capabilities", frozenset(self.config.capabilities))
        self.add(*(r if isinstance(r, str) else r.build() for r in self.config.responses))

    # -- the script ------------------------------------------------------------------
    def add(self, *replies: Scriptable) -> ScriptedModel:
        """Queue replies (see the module docstring for what a reply can be)."""
        built = [self._reply_of(r) if not callable(r) or isinstance(r, type) else r
                 for r in replies]
        with self._lock:
            self._queue.extend(built)  # type: ignore[arg-type]
        return self

    @property
    def remaining(self) -> int:
        """How many scripted replies have not been used yet."""
        return len(self._queue)

    @property
    def last_call(self) -> ScriptedCall:
        """The most recent call (AssertionError if there was none)."""
        if not self.calls:
            raise AssertionError(f"scripted model {self.config_name!r} was never called")
        return self.calls[-1]

    def reset(self) -> None:
        """Forget the queued replies and the recorded calls."""
        with self._lock:
            self._queue.clear()
            self.calls.clear()
            self._ids = itertools.count()

    @staticmethod
    def _reply_of(value: Any) -> ScriptedReply:
        if isinstance(value, ScriptedReply):
            return value
        if isinstance(value, str):
            return ScriptedReply(text=value)
        if isinstance(value, ToolCall):
            return ScriptedReply(tool_calls=(value,))
        if isinstance(value, list) and all(isinstance(v, ToolCall) for v in value):
            return ScriptedReply(tool_calls=tuple(value))
        if isinstance(value, ModelResponse):
            return ScriptedReply(response=value)
        if isinstance(value, BaseException):
            return ScriptedReply(error=value)
        if isinstance(value, type) and issubclass(value, BaseException):
            return ScriptedReply(error=value("scripted error"))
        if isinstance(value, Mapping):
            return ReplySpec.model_validate(dict(value)).build()
        raise TypeError(f"cannot script a reply of type {type(value).__name__}: give a str, "
                        "a ToolCall (or a list), a ModelResponse, an exception, reply(...), "
                        "error(...), a mapping or a function of the call")

    # -- answering -------------------------------------------------------------------
    def _next(self, request: ChatRequest, *, is_async: bool) -> ScriptedReply:
        call = ScriptedCall(
            messages=json.loads(json.dumps(request.messages, default=str)),
            params=dict(request.params), stop=request.stop or request.trim_stop,
            tools=request.tools, tool_choice=request.tool_choice,
            response_format=request.output, stream=request.stream, is_async=is_async)
        with self._lock:
            self.calls.append(call)
            item: Any = self._queue.popleft() if self._queue else None
        if item is None:
            if self.config.default is None:
                raise ScriptExhaustedError(
                    f"the script ran out: call {len(self.calls)} found no reply left "
                    f"(last user message: {call.last_user_text[:80]!r})",
                    provider="scripted", config_name=self.config_name)
            text = self.config.default
            return ScriptedReply(text=f"echo: {call.last_user_text}" if text == "echo" else text)
        if isinstance(item, ScriptedReply):
            return item
        return self._reply_of(item(call))

    def _response(self, request: ChatRequest, scripted: ScriptedReply) -> ModelResponse:
        if scripted.response is not None:
            from dataclasses import replace

            return replace(scripted.response)
        text = scripted.text
        if text is not None and request.stop:  # a model that stops natively
            from modelhub.wrappers.stops import trim_at_stop

            text = trim_at_stop(text, request.stop)
        calls = [ToolCall(id=c.id or f"call_{next(self._ids)}", name=c.name,
                          arguments=dict(c.arguments))
                 for c in scripted.tool_calls]
        usage = scripted.usage
        if usage is None:
            out = _count_words(text) + sum(_count_words(c.arguments) for c in calls)
            inp = sum(_count_words(m.get("content")) for m in request.messages)
            usage = Usage(inp, out, inp + out)
        return ModelResponse(
            text=text, tool_calls=calls, usage=usage, reasoning=scripted.reasoning,
            finish_reason=scripted.finish_reason or ("tool_calls" if calls else "stop"),
            model=self.model_name, raw={"scripted": scripted})

    def _fail(self, exc: BaseException) -> BaseException:
        if isinstance(exc, ModelCallError) and exc.config_name is None:
            exc.config_name = self.config_name
        return exc

    def _chunks(self, scripted: ScriptedReply, response: ModelResponse) -> list[str]:
        if scripted.chunks is not None:
            return list(scripted.chunks)
        return _words(response.text) if response.text else []

    def _complete(self, request: ChatRequest) -> ModelResponse:
        scripted = self._next(request, is_async=False)
        if scripted.delay:
            import time

            time.sleep(scripted.delay)
        if scripted.error is not None:
            raise self._fail(scripted.error)
        return self._response(request, scripted)

    def _plan(self, request: ChatRequest, scripted: ScriptedReply
              ) -> tuple[list[str], ModelResponse | None]:
        """A stream's chunks (up to a scripted error) and its response (None when it
        breaks); raises now an error scripted before any chunk."""
        if scripted.error is not None and scripted.error_after is None:
            raise self._fail(scripted.error)
        if scripted.error is not None:
            return list(scripted.chunks or ())[:scripted.error_after], None
        response = self._response(request, scripted)
        return self._chunks(scripted, response), response

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        scripted = self._next(request, is_async=False)
        if scripted.delay:
            import time

            time.sleep(scripted.delay)
        chunks, response = self._plan(request, scripted)

        def deltas() -> Iterator[str]:
            yield from chunks
            if scripted.error is not None:
                raise self._fail(scripted.error)

        return deltas(), lambda: _finished(response)

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        scripted = self._next(request, is_async=True)
        if scripted.delay:
            import asyncio

            await asyncio.sleep(scripted.delay)
        if scripted.error is not None:
            raise self._fail(scripted.error)
        return self._response(request, scripted)

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        scripted = self._next(request, is_async=True)
        if scripted.delay:
            import asyncio

            await asyncio.sleep(scripted.delay)
        chunks, response = self._plan(request, scripted)

        async def deltas() -> AsyncIterator[str]:
            for chunk in chunks:
                yield chunk
            if scripted.error is not None:
                raise self._fail(scripted.error)

        return deltas(), lambda: _finished(response)


def _finished(response: ModelResponse | None) -> ModelResponse:
    if response is None:  # the stream raised before its end
        raise RuntimeError("the scripted stream has no response")
    return response


def scripted(name: str = "scripted", *replies: Scriptable, default: str | None = None,
             capabilities: Iterable[Capability] | None = None, max_retries: int = 0,
             register: bool = True) -> ScriptedModel:
    """A scripted model holding `replies`. With `register` (the default) it is also
    loaded as config `name` in the default registry, replacing an earlier scripted
    config of that name, so `modelhub.get(name)` and the framework adapters find it."""
    data: dict[str, Any] = {"config_name": name, "model_type": "scripted",
                            "max_retries": max_retries}
    if default is not None:
        data["default"] = default
    if capabilities is not None:
        caps = list(capabilities)
        unknown = [c for c in caps if c not in CAPABILITIES]
        if unknown:
            raise ValueError(f"unknown capabilities {unknown}; known: {', '.join(CAPABILITIES)}")
        data["capabilities"] = caps
    if not register:
        model = ScriptedModel(**{k: v for k, v in data.items() if k != "model_type"})
        return model.add(*replies)
    from modelhub import plugins
    from modelhub.registry import default_registry

    plugins.resolve("scripted")  # a clear error if the entry point is missing
    if name in default_registry.list_configs():
        if default_registry.entry(name).model_type != "scripted":
            raise ValueError(f"config {name!r} is loaded and is not a scripted model")
        default_registry.remove(name)
    default_registry.init([data])
    model = default_registry.get(name, ScriptedModel)
    model.reset()
    return model.add(*replies)

