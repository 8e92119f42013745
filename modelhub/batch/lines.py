"""One line of a batch job: its request read from the input, and its answer (or error)
as the record written to the output. Shared by the local and the Ray runners.

An input line is a JSON object: `messages` (a list) or `prompt` (a string) for a chat
model, `input` (a string or a list of them) or `prompt` for an embedding model; `id`
(or `custom_id`) is copied to the answer; every other key is a keyword argument of the
call (`temperature`, `max_tokens`, `stop`, `tools`, `response_format`, ...). A line of
OpenAI's Batch API (`{"custom_id": ..., "body": {"messages": ..., ...}}`) is read from
its `body` (its `model` is ignored: the job's model answers).

An output record: `line` (the input line number, from 1), `id`, then `text`,
`tool_calls`, `finish_reason`, `usage`, `reasoning`, `parsed` (or `embedding`), and
`error`: null, or `{"type", "message", "status_code"}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelhub.response import ModelResponse, Usage
from modelhub.wrappers.base import ModelWrapperBase

__all__ = ["LineError", "LineRequest", "answer", "error_record",
           "read_input", "read_request", "response_record"]

_ID_KEYS = ("id", "custom_id")
_BATCH_API_KEYS = frozenset({"custom_id", "method", "url", "body"})


class LineError(ValueError):
    """An input line that is not a request."""


@dataclass(slots=True)
class LineRequest:
    """One line's request: what to call the model with."""

    line: int
    id: Any
    payload: Any  # the messages (chat) or texts (embedding)
    kwargs: dict[str, Any] = field(default_factory=dict)


def read_input(path: str | Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-blank line of a JSON Lines file."""
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            if text.strip():
                yield number, text


def read_request(line: int, text: str, kind: str) -> LineRequest:
    """The request on one input line, for a model of `kind` (`chat` or `embedding`)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LineError(f"line {line} is not JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise LineError(f"line {line} is a JSON {type(data).__name__}, not an object")
    ident = next((data[k] for k in _ID_KEYS if k in data), None)
    body = data.get("body")
    if isinstance(body, Mapping) and set(data) <= _BATCH_API_KEYS:
        data = {k: v for k, v in body.items() if k != "model"}
    kwargs = {k: v for k, v in data.items() if k not in _ID_KEYS}
    if kind == "embedding":
        payload = kwargs.pop("input", None)
        payload = kwargs.pop("prompt", None) if payload is None else payload
        if isinstance(payload, str):
            payload = [payload]
        if not isinstance(payload, list) or not payload \
                or not all(isinstance(t, str) for t in payload):
            raise LineError(f"line {line} needs 'input': a string or a list of strings")
        return LineRequest(line, ident, payload, kwargs)
    messages, prompt = kwargs.pop("messages", None), kwargs.pop("prompt", None)
    if messages is None and isinstance(prompt, str):
        messages = [{"role": "user", "content": prompt}]
    if not isinstance(messages, list) or not messages:
        raise LineError(f"line {line} needs 'messages' (a list) or 'prompt' (a string)")
    kwargs.pop("stream", None)  # a batch answer is always whole
    return LineRequest(line, ident, messages, kwargs)


def _usage(usage: Usage | None) -> dict[str, int] | None:
    if usage is None:
        return None
    return {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    dump = getattr(value, "model_dump", None)  # a pydantic model from response_format
    return dump(mode="json") if callable(dump) else repr(value)


def response_record(request: LineRequest, response: ModelResponse) -> dict[str, Any]:
    """The output record of an answered line."""
    record: dict[str, Any] = {"line": request.line, "id": request.id}
    if response.embedding is not None:
        record["embedding"] = response.embedding
    else:
        record["text"] = response.text
        record["tool_calls"] = [{"id": c.id, "name": c.name, "arguments": c.arguments}
                                for c in response.tool_calls]
        record["finish_reason"] = response.finish_reason
        if response.reasoning:
            record["reasoning"] = response.reasoning
        if response.parsed is not None:
            record["parsed"] = _jsonable(response.parsed)
    record["usage"] = _usage(response.usage)
    record["error"] = None
    return record


def error_record(line: int, ident: Any, error: BaseException) -> dict[str, Any]:
    """The output record of a line that failed."""
    return {"line": line, "id": ident,
            "error": {"type": type(error).__name__, "message": str(error),
                      "status_code": getattr(error, "status_code", None)}}


def _id_of(text: str) -> Any:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return next((data[k] for k in _ID_KEYS if k in data), None) \
        if isinstance(data, Mapping) else None


async def answer(model: ModelWrapperBase, line: int, text: str) -> dict[str, Any]:
    """Ask `model` one input line's request; the record of its answer or of its error
    (a failed line never stops the job)."""
    try:
        request = read_request(line, text, model.kind)
        if model.kind == "chat":
            response = await model.acall(request.payload, stream=False, **request.kwargs)
        else:
            response = await model.acall(request.payload, **request.kwargs)
        assert isinstance(response, ModelResponse)
        return response_record(request, response)
    except Exception as error:
        return error_record(line, _id_of(text), error)
