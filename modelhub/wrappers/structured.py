"""Structured output, provider-neutral: `response_format` (a pydantic model, a JSON
schema, or an OpenAI-style response_format dict) becomes an `OutputSpec`, which each
provider sends in its own form; the answer is parsed into `resp.parsed`.

An answer that does not parse can be asked for again (`parse_retries` times, per config
or per call), with the answer and the error shown to the model (`retry_messages`), as
AgentScope's parse-and-retry did; after the last, `ResponseParseError` carries the
model's text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from modelhub.errors import ResponseParseError

__all__ = ["OutputSpec", "normalize_response_format", "parse_output", "retry_messages"]

_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n(.*?)\n?```\s*$", re.S)
_SCHEMA_KEYS = {"type", "properties", "$schema", "anyOf", "oneOf", "allOf", "$ref", "enum",
                "items"}


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """What output was asked for: JSON following `schema` (plain JSON Schema, as the
    caller gave it or pydantic made it), or any JSON object. `strict` asks the provider
    to hold to the schema exactly where it can; `model` validates the answer."""

    kind: Literal["json_schema", "json_object"]
    name: str
    schema: dict[str, Any] | None
    strict: bool
    model: type[Any] | None = None


def retry_messages(messages: list[dict[str, Any]], spec: OutputSpec, text: str | None,
                   error: ResponseParseError) -> list[dict[str, Any]]:
    """The conversation to ask again with: the answer that did not parse, and what is
    wrong with it."""
    wanted = "a JSON object" if spec.schema is None else \
        f"JSON that follows this schema: {json.dumps(spec.schema, ensure_ascii=False)}"
    return [*messages, {"role": "assistant", "content": text or ""},
            {"role": "user", "content": f"That answer could not be used: {error.message}. "
                                        f"Answer again with only {wanted}"}]


def normalize_response_format(fmt: Any) -> OutputSpec | None:
    """An OutputSpec from a pydantic model class, a JSON schema, or an OpenAI
    response_format dict; None for None or {"type": "text"}."""
    if fmt is None:
        return None
    if isinstance(fmt, type):
        from pydantic import BaseModel, TypeAdapter

        if issubclass(fmt, BaseModel):
            return OutputSpec("json_schema", fmt.__name__, fmt.model_json_schema(), True, fmt)
        try:
            schema = TypeAdapter(fmt).json_schema()
        except Exception as exc:
            raise TypeError(f"response_format type {fmt.__name__} has no JSON schema") from exc
        return OutputSpec("json_schema", fmt.__name__, schema, False, fmt)
    if isinstance(fmt, Mapping):
        kind = fmt.get("type")
        if kind == "text" and len(fmt) == 1:
            return None
        if kind == "json_object":
            return OutputSpec("json_object", "response", None, False)
        if kind == "json_schema" and isinstance(fmt.get("json_schema"), Mapping):
            spec = fmt["json_schema"]
            if not isinstance(spec.get("schema"), Mapping):
                raise TypeError("response_format json_schema needs a 'schema' object")
            return OutputSpec("json_schema", str(spec.get("name") or "response"),
                              json.loads(json.dumps(spec["schema"])),
                              bool(spec.get("strict", False)))
        if _SCHEMA_KEYS & set(fmt):
            return OutputSpec("json_schema", str(fmt.get("title") or "response"),
                              json.loads(json.dumps(dict(fmt))), False)
    raise TypeError(
        "response_format must be a pydantic model class, a JSON schema dict, "
        "{'type': 'json_schema', 'json_schema': {...}} or {'type': 'json_object'}; "
        f"got {type(fmt).__name__}")


def parse_output(spec: OutputSpec, text: str | None) -> Any:
    """The answer text parsed as the spec asks (fenced ```json blocks tolerated).

    A ResponseParseError says why it does not match without quoting the answer (that is
    in its `response`, for the caller to redact), and chains no exception: the
    decoder's would hold the whole text.
    """
    if not text or not text.strip():
        raise ResponseParseError(f"expected JSON for {spec.name!r}, got an empty answer")
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text.strip()
    why = ""
    try:
        if spec.model is not None:
            from pydantic import BaseModel, TypeAdapter, ValidationError

            try:
                if isinstance(spec.model, type) and issubclass(spec.model, BaseModel):
                    return spec.model.model_validate_json(body)
                return TypeAdapter(spec.model).validate_json(body)
            except ValidationError as exc:
                why = _validation_summary(exc)
        else:
            return json.loads(body)
    except ValueError as exc:  # not JSON at all
        why = f"it is not JSON ({getattr(exc, 'msg', type(exc).__name__)})"
    raise ResponseParseError(f"the answer does not match {spec.name!r}: {why}",
                             response=text)


def _validation_summary(error: Any) -> str:
    """What pydantic found wrong, without the values it found (they may quote anything)."""
    found = error.errors(include_input=False, include_url=False, include_context=False)
    parts = [f"{'.'.join(map(str, e['loc'])) or 'the value'}: {e['msg']}" for e in found[:3]]
    more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
    return "; ".join(parts) + more
