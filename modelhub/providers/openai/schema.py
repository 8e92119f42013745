"""OpenAI's forms of structured output: a neutral `OutputSpec` as a `response_format`
body, in strict mode where the spec asks for it (every object closed, every property
required, no siblings of `$ref`)."""

from __future__ import annotations

import re
from typing import Any

from modelhub._json import map_dicts
from modelhub.wrappers.structured import OutputSpec

__all__ = ["response_format", "strict_json_schema"]


def strict_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` as OpenAI strict mode wants it: every object closed
    (`additionalProperties: false`) and every property required."""

    def close(out: dict[str, Any]) -> dict[str, Any]:
        if out.get("type") == "object" or "properties" in out:
            props = out.get("properties", {})
            out["additionalProperties"] = False
            out["required"] = list(props)
        if "$ref" in out and len(out) > 1:  # strict mode forbids siblings of $ref
            out = {"$ref": out["$ref"]}
        if out.get("default", 0) is None:
            del out["default"]
        return out

    result: dict[str, Any] = map_dicts(schema, close)
    return result


def response_format(spec: OutputSpec) -> dict[str, Any]:
    """The OpenAI `response_format` body for `spec`."""
    if spec.kind == "json_object" or spec.schema is None:
        return {"type": "json_object"}
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", spec.name)[:64] or "response"
    # A schema pydantic made is made strict here; one the caller wrote is sent as written.
    schema = strict_json_schema(spec.schema) if spec.strict and spec.model is not None \
        else spec.schema
    return {"type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": spec.strict}}
