"""`post_api_chat` (alias `post_api`): chat with any HTTP endpoint.

The body is `{messages_key: messages, **json_args, **generate_args}` (messages in the
OpenAI shape, images as `image_url` parts), with `tools`, `tool_choice`,
`response_format` (OpenAI's shapes) and `stream: true` added when a call asks for
them. The answer is read by dotted paths (see `PostAPIChatConfig`); a stream is SSE
(or NDJSON) whose events are read by the same paths. Stop strings are trimmed from
the answer (and sent under `stop_key` when the config names one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from modelhub.errors import ResponseParseError, UnsupportedFeatureError
from modelhub.http.errors import ErrorContext, decode_json, optional_str, parse_answer
from modelhub.http.framing import Frame
from modelhub.http.jsonload import loads
from modelhub.providers.openai import wire
from modelhub.providers.post_api.base import PostAPIWrapperBase
from modelhub.providers.post_api.config import PostAPIChatConfig
from modelhub.providers.post_api.events import EventPaths
from modelhub.providers.post_api.paths import MISSING, PathGroup, ResponsePath, openai_prefix
from modelhub.response import ModelResponse
from modelhub.wrappers.accumulator import StreamAccumulator
from modelhub.wrappers.base import Capability
from modelhub.wrappers.chat import AsyncStreamSource, ChatRequest, ChatWrapperBase, StreamSource
from modelhub.wrappers.formatting import strip_call_extras
from modelhub.wrappers.raw_events import BuiltOnRead
from modelhub.wrappers.reasoning import split_think

__all__ = ["AnswerParts", "ChatPaths", "PostAPIChatWrapper", "PostStreamHandler"]

@dataclass(frozen=True, slots=True)
class ChatPaths:
    """Where a chat answer and its stream events carry each part."""

    text: ResponsePath
    tool_calls: ResponsePath | None
    reasoning: tuple[ResponsePath, ...]
    finish_reason: ResponsePath | None
    usage: ResponsePath | None
    model: ResponsePath | None
    delta: ResponsePath | None
    delta_tool_calls: ResponsePath | None
    delta_reasoning: tuple[ResponsePath, ...]

    def answer_group(self) -> PathGroup:
        """The paths an answer is read by, looked up together: the text, the tool
        calls, the finish reason, the usage, the model, then the reasoning paths
        (`AnswerParts` reads what it finds)."""
        return PathGroup([p for p in (self.text, self.tool_calls, self.finish_reason,
                                      self.usage, self.model, *self.reasoning)
                          if p is not None])

    @classmethod
    def of(cls, cfg: PostAPIChatConfig) -> ChatPaths:
        """The config's paths; those it leaves unset follow the OpenAI shape around its
        text path when that path is one, else are not looked up."""
        text = cfg.answer_path()
        shape = openai_prefix(text)
        d: dict[str, Any] = {}
        if shape is not None:
            prefix, n = shape
            choice = f"{prefix}choices.{n}"
            d = {"tool_calls": f"{choice}.message.tool_calls",
                 "reasoning": (f"{choice}.message.reasoning_content",
                               f"{choice}.message.reasoning"),
                 "finish_reason": f"{choice}.finish_reason", "usage": f"{prefix}usage",
                 "model": f"{prefix}model", "delta": f"{choice}.delta.content",
                 "delta_tool_calls": f"{choice}.delta.tool_calls",
                 "delta_reasoning": (f"{choice}.delta.reasoning_content",
                                     f"{choice}.delta.reasoning")}
        path = PostAPIWrapperBase.optional_path
        reasoning = (cfg.reasoning_path,) if cfg.reasoning_path else d.get("reasoning", ())
        return cls(
            text=ResponsePath.parse(text),
            tool_calls=path(cfg.tool_calls_path, d.get("tool_calls")),
            reasoning=tuple(ResponsePath.parse(p) for p in reasoning),
            finish_reason=path(cfg.finish_reason_path, d.get("finish_reason")),
            usage=path(cfg.usage_path, d.get("usage")), model=path(None, d.get("model")),
            delta=path(cfg.stream_delta_path, d.get("delta")),
            delta_tool_calls=path(None, d.get("delta_tool_calls")),
            delta_reasoning=tuple(ResponsePath.parse(p) for p in d.get("delta_reasoning", ())))


class AnswerParts:
    """Reads an answer's parts by `ChatPaths`, all of its paths in one walk: `read(body)`
    gives (text, tool calls, finish reason, usage, model, reasoning), each what its
    path finds (MISSING for the text where it finds nothing; None for the others where
    there is no such path or it finds nothing; the reasoning of the first reasoning path
    that finds a value other than null)."""

    __slots__ = ("group", "reasoning", "slots")

    def __init__(self, paths: ChatPaths) -> None:
        self.group = paths.answer_group()
        slots, count = [], 1  # the text's is 0
        for path in (paths.tool_calls, paths.finish_reason, paths.usage, paths.model):
            slots.append(-1 if path is None else count)  # -1: the MISSING put last
            count += path is not None
        self.slots = tuple(slots)
        self.reasoning = count  # where the reasoning paths' finds start

    def read(self, body: Any) -> tuple[Any, Any, Any, Any, Any, Any]:
        """(text, tool calls, finish reason, usage, model, reasoning) in `body`."""
        found = self.group.find_all(body)
        reasoning = next((r for r in found[self.reasoning:]
                          if r is not MISSING and r is not None), None)
        found.append(MISSING)
        calls, reason, usage, model = (None if found[n] is MISSING else found[n]
                                       for n in self.slots)
        return found[0], calls, reason, usage, model, reasoning


# What a stream event that is not JSON decodes to, until it is decoded again.
_NOT_JSON: Any = object()


def _decode_all(kept: list[str]) -> list[Any]:
    """The events of a stream, decoded from their kept text."""
    return [loads(data) for data in kept]


def _text(value: Any, path: ResponsePath) -> str | None:
    """The text a path found: a string, or OpenAI content parts."""
    if value is None or isinstance(value, (str, list)):
        return wire.text_of(value)
    raise ResponseParseError(f"response_path {path.text!r} leads to a "
                             f"{type(value).__name__}, not text")


class PostStreamHandler:
    """Reads the events of a streamed answer by the config's paths."""

    __slots__ = ("accumulator", "context", "end_data", "events", "find", "finished", "kept",
                 "paths")

    def __init__(self, paths: ChatPaths, context: ErrorContext, end_data: str | None,
                 events: EventPaths | None = None) -> None:
        self.paths = paths
        self.events = events if events is not None else EventPaths(paths)
        self.context = context
        self.end_data = end_data
        self.find = self.events.find
        self.accumulator = StreamAccumulator(context, usage_mode="last")
        # Each event's text, decoded again for `raw` when it is first read.
        self.kept: list[str] = []
        self.accumulator.use_raw(BuiltOnRead(self.kept, _decode_all))
        self.finished = False

    def feed(self, frame: Frame) -> str | None:
        """Take one event; return the text delta it carries, if any."""
        name, data, _ = frame
        if data == self.end_data:
            self.finished = True
            return None
        try:
            event = loads(data)
        except ValueError:
            event = _NOT_JSON  # decoded again below, outside this handler: no context kept
        if event is _NOT_JSON:
            event = decode_json(data, self.context, "a stream event")
        if name == "error" or ((type(event) is dict or isinstance(event, Mapping))
                               and event.get("error")):
            raise wire.stream_error(event, self.context)
        self.kept.append(data)
        acc = self.accumulator
        usage, model, reason, reasoning, calls, delta = self.find(event)
        # Each part is read only where the event has it: every reader below does
        # nothing with null (or with what a path does not find).
        if usage is not None:
            acc.add_usage(wire.parse_usage(usage))
        if model is not None:
            acc.set_model(optional_str(model, "model"))
        if reason is not None:
            acc.set_finish_reason(optional_str(reason, "the finish reason"))
        if reasoning is not None:
            acc.add_reasoning(wire.text_of(reasoning) or "")
        if calls:
            wire.add_tool_call_fragments(acc, calls)
        if type(delta) is str:
            return acc.add_text(delta) if delta else None
        assert self.paths.delta is not None
        text = _text(delta, self.paths.delta)
        return acc.add_text(text) if text else None

    def end(self) -> str | None:
        """Release held-back text; with a `stream_end` set, a stream that ended without
        it or a finish reason is an error."""
        text = self.accumulator.flush()
        if self.end_data is not None:
            self.accumulator.check_complete(self.finished)
        return text or None

    def response(self) -> ModelResponse:
        """The complete response, once the stream has ended."""
        return self.accumulator.response()


class PostAPIChatWrapper(PostAPIWrapperBase, ChatWrapperBase):
    """Chat with any HTTP endpoint, answers read by dotted paths."""

    model_type: ClassVar[str] = "post_api_chat"
    config_class: ClassVar[type[PostAPIChatConfig]] = PostAPIChatConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"streaming", "tools", "vision", "audio", "video", "response_format"})
    config: PostAPIChatConfig
    paths: ChatPaths
    parts: AnswerParts
    events: EventPaths

    def setup(self) -> None:
        """Build the endpoint and the paths."""
        super().setup()
        self.paths = ChatPaths.of(self.config)
        self.parts = AnswerParts(self.paths)
        self.events = EventPaths(self.paths)

    def format(self, *args: Any, multi_agent_mode: bool = True) -> list[dict[str, Any]]:
        """As AgentScope v0.1.6's POST wrapper formats, by the model named in
        `json_args` (`model` or `model_name`): OpenAI models (gpt-..., o1, o3-mini) get
        one named message per speaker, Gemini models Gemini's `parts` layout, any other
        the common layouts (multi-agent: one merged user message; chat mode: each
        message kept)."""
        args_ = self.config.json_args
        name = str(args_.get("model", args_.get("model_name")) or "")
        from modelhub.providers.openai.chat import OPENAI_MODEL_PATTERNS

        if any(re.match(pattern, name) for pattern in OPENAI_MODEL_PATTERNS):
            from modelhub.wrappers.formatting import per_speaker

            return per_speaker(*args)
        if re.match("gemini-.*", name):
            from modelhub.providers.post_api.gemini_layout import gemini_chat, gemini_history

            return gemini_history(*args) if multi_agent_mode else gemini_chat(*args)
        return super().format(*args, multi_agent_mode=multi_agent_mode)

    def payload(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body of one call."""
        body = self.body(strip_call_extras(request.messages), request.params)
        if request.tools:
            body["tools"] = request.tools
        if request.tool_choice is not None:
            body["tool_choice"] = request.tool_choice
        if request.output is not None:
            from modelhub.providers.openai.schema import response_format

            body["response_format"] = response_format(request.output)
        if request.trim_stop and self.config.stop_key:
            body[self.config.stop_key] = request.trim_stop
        if request.stream:
            body["stream"] = True
        return body

    def parse(self, body: Any) -> ModelResponse:
        """A ModelResponse from an answer, read by the config's paths."""
        found, calls, reason, usage, model, thought = self.parts.read(body)
        if found is MISSING and not calls:
            self.error_in(body)
            raise self.no_match(self.paths.text, body, "the answer's text")
        text, reasoning = split_think(_text(None if found is MISSING else found,
                                            self.paths.text))
        native = wire.text_of(thought)
        if native:
            reasoning = native if reasoning is None else native + reasoning
        return ModelResponse(
            text=text, tool_calls=wire.parse_tool_calls(calls), usage=wire.parse_usage(usage),
            finish_reason=optional_str(reason, "the finish reason"),
            model=optional_str(model, "model"), reasoning=reasoning, raw=body)

    def _complete(self, request: ChatRequest) -> ModelResponse:
        return parse_answer(self.parse, self.post(self.payload(request)),
                            self.context)

    async def _acomplete(self, request: ChatRequest) -> ModelResponse:
        return parse_answer(self.parse, await self.apost(self.payload(request)),
                            self.context)

    def _handler(self) -> PostStreamHandler:
        if self.paths.delta is None:
            raise UnsupportedFeatureError(
                f"config {self.config_name!r} cannot stream: its response_path is not "
                "OpenAI's shape, so say where each event's text is with stream_delta_path",
                config_name=self.config_name, capability="streaming")
        return PostStreamHandler(self.paths, self.context, self.config.stream_end,
                                 self.events)

    def _open_stream(self, request: ChatRequest) -> StreamSource:
        handler = self._handler()
        deltas = self.endpoint.open_stream(self.path, self.payload(request), handler,
                                           framing=self.config.stream_framing)
        return deltas, handler.response

    async def _aopen_stream(self, request: ChatRequest) -> AsyncStreamSource:
        handler = self._handler()
        deltas = await self.endpoint.aopen_stream(self.path, self.payload(request), handler,
                                                  framing=self.config.stream_framing)
        return deltas, handler.response
