"""Zhipu's v4 API as its SDK speaks it: a neutral `ChatRequest` as the keyword
arguments of `chat.completions.create`, and the SDK's `Completion`, its
`ChatCompletionChunk`s and its `EmbeddingsResponded` as `ModelResponse`s.

What Zhipu does differently from OpenAI's shapes, handled here:

- one stop word only (the chat wrapper sends the first and trims at the others);
- `response_format` is `{"type": "json_object"}` only: a JSON schema is sent as JSON
  mode plus the schema in the system prompt, as Zhipu's guide advises;
- a video is one `video_url` part; an image is an `image_url` with only its `url`
  (the SDK strips a `data:` prefix from it, in place: the parts sent are copies);
- reasoning arrives as `reasoning_content` (GLM-4.5 and later) or as a `<think>` block
  in the content (GLM-Z1); both go to `reasoning`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

from modelhub.errors import ResponseParseError, UnsupportedFeatureError
from modelhub.http.errors import SHAPE_ERRORS, ErrorContext, parse_answer
from modelhub.response import ModelResponse, ToolCall, Usage
from modelhub.wrappers.accumulator import StreamAccumulator
from modelhub.wrappers.chat import ChatRequest
from modelhub.wrappers.embedding import as_vector
from modelhub.wrappers.reasoning import split_think

__all__ = ["SCHEMA_PROMPT", "ChunkReader", "chat_kwargs", "parse_completion",
           "parse_embeddings", "parse_usage", "read_answer", "sdk_params", "split_params",
           "zhipu_messages"]

T = TypeVar("T")

SCHEMA_PROMPT = "Reply with one JSON object only, valid against this JSON Schema:\n"
# create() keywords the wrapper itself fills in.
_NOT_PARAMS = frozenset({"self", "model", "messages", "input", "stream", "extra_body"})


@functools.cache
def sdk_params(create: Callable[..., Any]) -> frozenset[str]:
    """The keywords an SDK `create` function takes by name (generation parameters, and
    its own `extra_headers` and `timeout`); any other goes in `extra_body`."""
    import inspect

    return frozenset(inspect.signature(create).parameters) - _NOT_PARAMS


def split_params(params: Mapping[str, Any], direct: frozenset[str]) -> dict[str, Any]:
    """`params` as create() keywords: those it names directly, the rest in
    `extra_body` (merged with any `extra_body` given)."""
    kwargs: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in params.items():
        if key in direct:
            kwargs[key] = value
        elif key == "extra_body" and isinstance(value, Mapping):
            extra.update(value)
        else:
            extra[key] = value
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


# -- requests -------------------------------------------------------------------------------
def _part(part: Any) -> Any:
    """A neutral content part as Zhipu takes it (a copy wherever the SDK writes)."""
    if not isinstance(part, Mapping):
        return part
    kind = part.get("type")
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        return {"type": "image_url", "image_url": {"url": url}}
    if kind == "video":
        urls = part.get("video")
        urls = [urls] if isinstance(urls, str) else list(urls or ())
        if len(urls) != 1 or not str(urls[0]).startswith(("http://", "https://")):
            raise UnsupportedFeatureError(
                "Zhipu takes a video as one web URL (a video_url part), not "
                f"{len(urls)} frame(s) or a local file", capability="video")
        return {"type": "video_url", "video_url": {"url": urls[0]}}
    return part


def zhipu_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Neutral messages as Zhipu takes them: copies (the SDK rewrites what it is given),
    content parts converted."""
    out = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            out.append({**message, "content": [_part(p) for p in content]})
        else:
            out.append(dict(message))
    return out


def _with_schema(messages: list[dict[str, Any]], schema: dict[str, Any]) -> None:
    note = SCHEMA_PROMPT + json.dumps(schema, ensure_ascii=False)
    first = messages[0] if messages else None
    if first is not None and first.get("role") == "system" \
            and isinstance(first.get("content"), str):
        first["content"] = f"{first['content']}\n\n{note}" if first["content"] else note
    else:
        messages.insert(0, {"role": "system", "content": note})


def chat_kwargs(request: ChatRequest, model: str, direct: frozenset[str]) -> dict[str, Any]:
    """The keyword arguments of `chat.completions.create` for `request`."""
    kwargs = split_params(request.params, direct) if request.params else {}
    messages = zhipu_messages(request.messages)
    if request.stop:
        kwargs["stop"] = request.stop
    if request.tools and request.tool_choice != "none":
        # Zhipu knows only tool_choice "auto"; "none" is met by offering no tools.
        kwargs["tools"] = request.tools
        if request.tool_choice is not None:
            kwargs["tool_choice"] = request.tool_choice
    if request.output is not None:
        kwargs["response_format"] = {"type": "json_object"}
        if request.output.schema is not None:
            _with_schema(messages, request.output.schema)
    kwargs["model"] = model
    kwargs["messages"] = messages
    if request.stream:
        kwargs["stream"] = True
    return kwargs


# -- answers --------------------------------------------------------------------------------
def _plain(obj: Any) -> Any:
    """What the SDK built (models, in lists and dicts), as JSON: what an error may
    carry, once redacted."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    dump = getattr(obj, "model_dump", None)
    try:
        return _plain(dump(mode="json", warnings=False)) if callable(dump) else repr(obj)
    except Exception:  # the SDK builds objects of any shape: then their text
        return repr(obj)


def read_answer(parse: Callable[[Any], T], obj: Any, context: ErrorContext) -> T:
    """`parse(obj)` for an object the SDK built (it checks no shape). A failure is a
    ResponseParseError naming the call, whose `response` is the object's JSON form,
    redacted: the object itself could only be shown unredacted."""
    try:
        return parse(obj)
    except (ResponseParseError, *SHAPE_ERRORS) as exc:
        failed = exc

    def fail(_: Any) -> NoReturn:
        raise failed

    return parse_answer(fail, _plain(obj), context)


def _details(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    dump: dict[str, Any] = value.model_dump(warnings=False)
    return dump


def parse_usage(usage: Any) -> Usage | None:
    """Usage from the SDK's `CompletionUsage` (chat and embeddings alike)."""
    if usage is None:
        return None
    inp = int(getattr(usage, "prompt_tokens", 0) or 0)
    out = int(getattr(usage, "completion_tokens", 0) or 0)
    total = int(getattr(usage, "total_tokens", 0) or inp + out)
    details = {}
    for name in ("prompt_tokens_details", "completion_tokens_details"):
        found = _details(getattr(usage, name, None))
        if found is not None:
            details[name] = found
    return Usage(inp, out, total, details)


def _arguments(value: Any) -> str | None:
    """Tool-call arguments as text (Zhipu's reference shows them as an object too)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _tool_call(call: Any, index: int) -> ToolCall:
    from modelhub.wrappers.tools import parse_arguments

    fn = call.function
    name = fn.name
    if not name:
        raise ResponseParseError(f"tool call {index} has no function name")
    return ToolCall(id=call.id or f"call_{index}", name=name,
                    arguments=parse_arguments(_arguments(fn.arguments), tool_name=name),
                    type=call.type or "function")


def parse_completion(done: Any) -> ModelResponse:
    """A ModelResponse from the SDK's `Completion`."""
    choice = done.choices[0]
    message = choice.message
    text, thought = split_think(message.content)
    reasoning = message.reasoning_content or None
    if thought:
        reasoning = f"{reasoning}{thought}" if reasoning else thought
    calls = [_tool_call(c, i) for i, c in enumerate(message.tool_calls or ())]
    return ModelResponse(text=None if calls and not text else text, tool_calls=calls,
                         usage=parse_usage(getattr(done, "usage", None)),
                         finish_reason=choice.finish_reason, model=done.model,
                         reasoning=reasoning, raw=done)


def parse_embeddings(answer: Any) -> ModelResponse:
    """A ModelResponse from the SDK's `EmbeddingsResponded`, vectors in input order."""
    data = sorted(answer.data, key=lambda d: d.index or 0)
    return ModelResponse(embedding=[as_vector(d.embedding) for d in data],
                         usage=parse_usage(getattr(answer, "usage", None)),
                         model=answer.model, raw=answer)


class ChunkReader:
    """Reads the SDK's `ChatCompletionChunk`s into a `StreamAccumulator`."""

    __slots__ = ("accumulator",)

    def __init__(self, context: ErrorContext) -> None:
        # Zhipu reports usage once, in the last chunk.
        self.accumulator = StreamAccumulator(context, usage_mode="last")

    def feed(self, chunk: Any) -> str:
        """Take one chunk; return the answer text it carries ('' for none). A chunk of
        a shape it cannot read is a ResponseParseError."""
        return read_answer(self._take, chunk, self.accumulator.context)

    def _take(self, chunk: Any) -> str:
        acc = self.accumulator
        acc.add_raw(chunk)
        if chunk.usage is not None:
            acc.add_usage(parse_usage(chunk.usage))
        acc.set_model(chunk.model)
        if not chunk.choices:
            return ""
        choice = chunk.choices[0]
        acc.set_finish_reason(choice.finish_reason)
        delta = choice.delta
        if delta.reasoning_content:
            acc.add_reasoning(delta.reasoning_content)
        for call in delta.tool_calls or ():
            fn = call.function
            acc.add_tool_call_delta(call.index, id=call.id, type=call.type,
                                    name=fn.name if fn is not None else None,
                                    arguments=_arguments(fn.arguments) if fn is not None
                                    else None)
        content = delta.content
        return acc.add_text(content) if content else ""

    @property
    def text(self) -> str:
        """The answer text so far."""
        return self.accumulator.text

    def end(self) -> str:
        """The stream ended: release held-back text; no finish reason is an early end."""
        text = self.accumulator.flush()
        self.accumulator.check_complete(False)
        return text

    def response(self) -> ModelResponse:
        """The complete response, once the stream has ended."""
        return self.accumulator.response()
