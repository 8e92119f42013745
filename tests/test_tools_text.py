"""The tool-call text protocol: instructions, history as text, parsing, streams."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from modelhub import errors
from modelhub.tools_text import AnswerFilter, ToolTextFilter, ToolTextProtocol, template_messages
from modelhub.wrappers.tools import normalize_tools


def get_weather(city: str, unit: str = "c") -> str:
    """Current weather.

    Args:
        city: The city name.
    """
    return city


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


TOOLS = normalize_tools([get_weather, add])
assert TOOLS is not None
SMOL = ToolTextProtocol(name_key="tool", arguments_key="args")


@pytest.mark.parametrize(("text", "expected_text", "expected"), [
    ('{"name": "add", "arguments": {"a": 1, "b": 2}}', None, [("add", {"a": 1, "b": 2})]),
    ('Let me add.\n<tool_call>\n{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call>',
     "Let me add.", [("add", {"a": 1, "b": 2})]),
    ('```json\n[{"name": "add", "arguments": {"a": 1, "b": 2}}, '
     '{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}]\n```', None,
     [("add", {"a": 1, "b": 2}), ("get_weather", {"city": "Paris"})]),
    ('{"name": "get_weather", "parameters": {"city": "Oslo"}}', None,
     [("get_weather", {"city": "Oslo"})]),
    ('{"type": "function", "function": {"name": "add", "arguments": {"a": 0, "b": 0}}}', None,
     [("add", {"a": 0, "b": 0})]),
    ('{"name": "add"} then {"name": "get_weather", "arguments": {"city": "Rome"}}', "then",
     [("add", {}), ("get_weather", {"city": "Rome"})]),
    ('{"name": "unknown_tool", "arguments": {}}', '{"name": "unknown_tool", "arguments": {}}', []),
    ('The set {1, 2} and the list [3] are not calls.', 'The set {1, 2} and the list [3] are '
     'not calls.', []),
    ('{"result": {"name": "add", "arguments": {}}}', '{"result": {"name": "add", "arguments": {}}}',
     []),
    ('{"name": "add", "arguments": {"a": 1', '{"name": "add", "arguments": {"a": 1', []),
    ("", "", []),
])
def test_parse(text: str, expected_text: str | None, expected: list[tuple[str, Any]]) -> None:
    found_text, calls = ToolTextProtocol().parse(text, TOOLS)
    assert found_text == expected_text
    assert [(c.name, c.arguments) for c in calls] == expected
    assert len({c.id for c in calls}) == len(calls)


def test_parse_with_other_keys_and_without_a_tool_list() -> None:
    text, calls = SMOL.parse('{"tool": "anything", "args": {"x": 1}}')
    assert text is None and [(c.name, c.arguments) for c in calls] == [("anything", {"x": 1})]
    text, calls = SMOL.parse('{"name": "add", "arguments": {}}', TOOLS)
    assert calls == [] and text == '{"name": "add", "arguments": {}}'


def test_arguments_that_are_not_an_object_are_a_parse_error() -> None:
    with pytest.raises(errors.ResponseParseError, match="'add'"):
        ToolTextProtocol().parse('{"name": "add", "arguments": [1, 2]}', TOOLS)
    with pytest.raises(errors.ResponseParseError, match="not valid JSON"):
        ToolTextProtocol().parse('{"name": "add", "arguments": "a=1"}', TOOLS)


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 7, 100])
def test_the_stream_filter_shows_prose_and_holds_back_calls(cut: int) -> None:
    answer = 'Checking the weather.\n<tool_call>{"name": "get_weather", ' \
             '"arguments": {"city": "Paris"}}</tool_call>'
    tool_filter = ToolTextFilter(ToolTextProtocol(), TOOLS)
    shown = "".join(tool_filter.feed(answer[i:i + cut]) for i in range(0, len(answer), cut))
    rest, calls = tool_filter.finish()
    assert shown == "Checking the weather.\n" and rest.strip() == ""
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", {"city": "Paris"})]


@pytest.mark.parametrize("cut", [1, 3, 100])
def test_the_stream_filter_releases_what_was_no_call(cut: int) -> None:
    answer = "Use a dict {like: this} or `code`, then <b>bold</b> text."
    tool_filter = ToolTextFilter(ToolTextProtocol(), TOOLS)
    shown = "".join(tool_filter.feed(answer[i:i + cut]) for i in range(0, len(answer), cut))
    rest, calls = tool_filter.finish()
    assert calls == [] and shown + rest == answer and shown == "Use a dict "


def test_render_messages_writes_history_and_instructions() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
    ]
    out = SMOL.render_messages(messages, TOOLS, "required")
    assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
    assert out[0]["content"].startswith("Be brief.\n\nYou can call these tools")
    assert '{"tool": "<tool name>", "args": {"<argument>": "<value>"}}' in out[0]["content"]
    assert "You must call a tool." in out[0]["content"]
    described = json.loads(out[0]["content"].splitlines()[3])
    assert [d["name"] for d in described] == ["get_weather", "add"]
    assert described[0]["description"] == "Current weather."
    assert out[1]["content"] == "Weather in Paris?"
    assert json.loads(out[2]["content"]) == {"tool": "get_weather", "args": {"city": "Paris"}}
    assert out[3]["content"] == "Result of get_weather (call c1):\nsunny"
    named = SMOL.render_messages([{"role": "user", "content": "hi"}], TOOLS,
                                 {"type": "function", "function": {"name": "add"}})
    assert named[0]["role"] == "system" and "You must call the tool add." in named[0]["content"]
    assert '"get_weather"' not in named[0]["content"]
    assert SMOL.render_messages([{"role": "user", "content": "hi"}], TOOLS, "none") == [
        {"role": "user", "content": "hi"}]


def test_call_schema_accepts_exactly_the_calls_allowed() -> None:
    schema = ToolTextProtocol().call_schema(TOOLS)
    jsonschema.validate({"name": "add", "arguments": {"a": 1, "b": 2}}, schema)
    jsonschema.validate({"name": "get_weather", "arguments": {"city": "Oslo"}}, schema)
    for bad in ({"name": "add", "arguments": {"a": "x", "b": 2}}, {"name": "nope", "arguments": {}},
                {"name": "add"}, {"name": "add", "arguments": {"a": 1, "b": 2}, "extra": 1}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    named = SMOL.call_schema(TOOLS, {"type": "function", "function": {"name": "add"}})
    assert named["properties"]["tool"] == {"const": "add"} and "anyOf" not in named


def test_call_schema_hoists_defs_and_refuses_conflicting_ones() -> None:
    item = {"type": "object", "properties": {"n": {"type": "integer"}}}
    tools = [{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"x": {"$ref": "#/$defs/Item"}}, "$defs": {"Item": item}}}}]
    schema = ToolTextProtocol().call_schema(tools)
    jsonschema.validate({"name": "f", "arguments": {"x": {"n": 1}}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "f", "arguments": {"x": {"n": "one"}}}, schema)
    other = [{"type": "function", "function": {"name": "g", "parameters": {
        "type": "object", "$defs": {"Item": {"type": "string"}}}}}]
    with pytest.raises(ValueError, match="Item"):
        ToolTextProtocol().call_schema(tools + other)


def test_template_messages_take_arguments_as_dicts_and_name_results() -> None:
    out = template_messages([
        {"role": "user", "content": "hi", "name": "bob"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "2"}]},
    ])
    assert out == [
        {"role": "user", "content": "hi", "name": "bob"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "add", "arguments": {"a": 1}}}]},
        {"role": "tool", "content": "2", "tool_call_id": "c1", "name": "add"},
    ]


@pytest.mark.parametrize("cut", [1, 4, 100])
def test_answer_filter_cuts_at_stops_and_holds_calls(cut: int) -> None:
    def run(answer: str, stops: list[str] | None, tools: Any) -> str:
        answer_filter = AnswerFilter(stops, ToolTextProtocol(), tools)
        shown = "".join(answer_filter.feed(answer[i:i + cut]) for i in range(0, len(answer), cut))
        return shown + answer_filter.end()

    assert run("Hello there. STOP and more", ["STOP"], None) == "Hello there. "
    assert run("Hello there.", None, None) == "Hello there."
    call = '{"name": "add", "arguments": {"a": 1, "b": 2}}'
    assert run(f"Adding. {call} STOP {call}", ["STOP"], TOOLS) == "Adding. "
    assert run("A {set} STOP", ["STOP"], TOOLS) == "A {set} "
