"""Structured output: `response_format` as a pydantic model or a JSON schema, sent in
the provider's form, and the answer parsed into `resp.parsed`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from modelhub.errors import ResponseParseError

__all__ = ["OutputSpec", "normalize_response_format", "parse_output", "strict_json_schema",
           "to_openai_response_format"]

_FENCE = re.compile(r"^\s*```(?:json|JSON)?\s*\n(.*?)\n?```\s*$", re.S)
_SCHEMA_KEYS = {"type", "properties", "$schema", "anyOf", "oneOf", "allOf", "$ref", "enum",
                "items"}


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """What output was asked for."""

    kind: Literal["json_schema", "json_object"]
    name: str
    schema: dict[str, Any] | None
    strict: bool
    model: type[Any] | None = None


def strict_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` as OpenAI strict mode wants it: every object closed
    (`additionalProperties: false`) and every property required."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items()}
        if out.get("type") == "object" or "properties" in out:
            props = out.get("properties", {})
            out["additionalProperties"] = False
            out["required"] = list(props)
        if "$ref" in out and len(out) > 1:  # strict mode forbids siblings of $ref
            out = {"$ref": out["$ref"]}
        if out.get("default", 0) is None:
            del out["default"]
        return out

    result: dict[str, Any] = walk(schema)
    return result


def normalize_response_format(fmt: Any) -> OutputSpec | None:
    """An OutputSpec from a pydantic model class, a JSON schema, or an OpenAI
    response_format dict; None for None or {"type": "text"}."""
    if fmt is None:
        return None
    if isinstance(fmt, type):
        from pydantic import BaseModel, TypeAdapter

        if issubclass(fmt, BaseModel):
            schema = strict_json_schema(fmt.model_json_schema())
            return OutputSpec("json_schema", fmt.__name__, schema, True, fmt)
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


def to_openai_response_format(spec: OutputSpec) -> dict[str, Any]:
    """The OpenAI `response_format` body for `spec`."""
    if spec.kind == "json_object":
        return {"type": "json_object"}
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", spec.name)[:64] or "response"
    return {"type": "json_schema",
            "json_schema": {"name": name, "schema": spec.schema, "strict": spec.strict}}


def parse_output(spec: OutputSpec, text: str | None) -> Any:
    """The answer text parsed as the spec asks (fenced ```json blocks tolerated)."""
    if not text or not text.strip():
        raise ResponseParseError(f"expected JSON for {spec.name!r}, got an empty answer")
    fenced = _FENCE.match(text)
    body = fenced.group(1) if fenced else text.strip()
    try:
        if spec.model is not None:
            from pydantic import BaseModel, TypeAdapter

            if isinstance(spec.model, type) and issubclass(spec.model, BaseModel):
                return spec.model.model_validate_json(body)
            return TypeAdapter(spec.model).validate_json(body)
        return json.loads(body)
    except ValueError as exc:  # json.JSONDecodeError and pydantic.ValidationError
        raise ResponseParseError(
            f"the answer does not match {spec.name!r}: {body[:200]!r}") from exc
