"""response_format: pydantic models and JSON schemas, strict schemas, parsing."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.providers.openai.schema import response_format as to_openai_response_format
from modelhub.providers.openai.schema import strict_json_schema
from modelhub.wrappers.structured import normalize_response_format, parse_output


class Item(BaseModel):
    name: str
    qty: int = 1


class Order(BaseModel):
    items: list[Item]
    note: str | None = None


def test_pydantic_model_becomes_a_strict_json_schema() -> None:
    spec = normalize_response_format(Order)
    assert spec is not None and spec.strict and spec.model is Order
    # the neutral spec keeps pydantic's own schema; OpenAI's strict form is OpenAI's
    assert spec.schema == Order.model_json_schema()
    body = to_openai_response_format(spec)
    schema = body["json_schema"]["schema"]
    assert body["type"] == "json_schema" and body["json_schema"]["name"] == "Order"
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["items", "note"]
    item = schema["$defs"]["Item"]
    assert item["required"] == ["name", "qty"] and item["additionalProperties"] is False


def test_strict_schema_does_not_mutate_input() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    strict_json_schema(schema)
    assert schema == {"type": "object", "properties": {"a": {"type": "string"}}}


def test_plain_schema_and_openai_forms() -> None:
    plain = normalize_response_format({"type": "object", "properties": {"x": {"type": "integer"}}})
    assert plain is not None and not plain.strict and plain.name == "response"
    wrapped = normalize_response_format(
        {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"},
                                                "strict": True}})
    assert wrapped is not None and wrapped.strict and wrapped.name == "n"
    obj = normalize_response_format({"type": "json_object"})
    assert obj is not None and to_openai_response_format(obj) == {"type": "json_object"}
    assert normalize_response_format({"type": "text"}) is None


@pytest.mark.parametrize("bad", ["json", 3, Item(name="x"), {"foo": 1}])
def test_rejects_what_is_not_a_format(bad: object) -> None:
    with pytest.raises(TypeError, match="response_format"):
        normalize_response_format(bad)


def test_parse_output_model_and_fences() -> None:
    spec = normalize_response_format(Order)
    assert spec is not None
    parsed = parse_output(spec, '```json\n{"items": [{"name": "tea", "qty": 2}], "note": null}\n```')
    assert parsed == Order(items=[Item(name="tea", qty=2)])
    with pytest.raises(errors.ResponseParseError, match="Order"):
        parse_output(spec, '{"items": "none"}')
    with pytest.raises(errors.ResponseParseError):
        parse_output(spec, None)


def test_parse_output_schema_returns_json() -> None:
    spec = normalize_response_format({"type": "object"})
    assert spec is not None
    assert parse_output(spec, ' {"a": [1, 2]} ') == {"a": [1, 2]}
