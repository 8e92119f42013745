"""Tools from plain Python functions; tool specs and tool_choice validated."""

from __future__ import annotations

import functools
from enum import Enum
from typing import Literal

import pytest
from pydantic import BaseModel

from modelhub import errors
from modelhub.wrappers.tools import (
    function_to_tool,
    normalize_tool_choice,
    normalize_tools,
    parse_arguments,
)


class Unit(str, Enum):
    C = "c"
    F = "f"


class Place(BaseModel):
    city: str
    country: str | None = None


def get_weather(place: Place, unit: Unit = Unit.C, days: list[int] | None = None,
                mode: Literal["now", "daily"] = "now") -> str:
    """Look up the weather.

    Uses a fake service.

    Args:
        place: Where to look.
        unit (Unit): Temperature unit,
            Celsius or Fahrenheit.
        days: Which days ahead.
    """
    return ""


def sphinx_style(query: str, limit: int = 5) -> list[str]:
    """Search the web.

    :param query: What to search for.
    :param limit: How many results.
    """
    return []


def numpy_style(x: float, y: float) -> float:
    """Add two numbers.

    Parameters
    ----------
    x : float
        The first.
    y : float
        The second.
    """
    return x + y


def test_google_docstring_function() -> None:
    spec = function_to_tool(get_weather)
    fn = spec["function"]
    assert spec["type"] == "function" and fn["name"] == "get_weather"
    assert fn["description"] == "Look up the weather.\n\nUses a fake service."
    props = fn["parameters"]["properties"]
    assert fn["parameters"]["required"] == ["place"]
    assert props["unit"]["description"] == "Temperature unit, Celsius or Fahrenheit."
    assert props["days"]["description"] == "Which days ahead."
    assert props["mode"]["enum"] == ["now", "daily"]
    assert "Place" in fn["parameters"]["$defs"] and "title" not in props["place"]
    assert fn["parameters"]["$defs"]["Unit"]["enum"] == ["c", "f"]


def test_sphinx_and_numpy_docstrings() -> None:
    s = function_to_tool(sphinx_style)["function"]
    assert s["description"] == "Search the web."
    assert s["parameters"]["properties"]["limit"] == {"default": 5, "description":
                                                      "How many results.", "type": "integer"}
    n = function_to_tool(numpy_style)["function"]
    assert n["description"] == "Add two numbers."
    assert n["parameters"]["properties"]["y"]["description"] == "The second."
    assert n["parameters"]["required"] == ["x", "y"]


def test_methods_partials_and_callable_objects() -> None:
    class Calc:
        def add(self, a: int, b: int) -> int:
            """Add."""
            return a + b

        def __call__(self, n: int) -> int:
            """Square."""
            return n * n

    assert list(function_to_tool(Calc().add)["function"]["parameters"]["properties"]) == ["a", "b"]
    part = function_to_tool(functools.partial(numpy_style, 1.0))
    assert part["function"]["name"] == "numpy_style"
    assert list(part["function"]["parameters"]["properties"]) == ["y"]
    call = function_to_tool(Calc())["function"]
    assert call["name"] == "Calc" and call["description"] == "Square."


def test_rejects_lambdas_and_varargs() -> None:
    with pytest.raises(TypeError, match="named function"):
        function_to_tool(lambda x: x)

    def f(*args: int) -> None:
        return None

    with pytest.raises(TypeError, match="args"):
        function_to_tool(f)


def test_normalize_tools_mixes_specs_and_functions_without_mutating() -> None:
    bare = {"name": "lookup", "description": "d"}
    spec = {"type": "function", "function": {"name": "calc", "parameters": {
        "type": "object", "properties": {"x": {"type": "number"}}}}}
    out = normalize_tools([bare, spec, numpy_style])
    assert out is not None
    assert [t["function"]["name"] for t in out] == ["lookup", "calc", "numpy_style"]
    assert out[0]["function"]["parameters"] == {"type": "object", "properties": {}}
    assert bare == {"name": "lookup", "description": "d"}
    assert normalize_tools(None) is None and normalize_tools([]) is None


@pytest.mark.parametrize(("tools", "error"), [
    ([{"name": "bad name!"}], ValueError),
    ([{"type": "retrieval"}], ValueError),
    ([numpy_style, numpy_style], ValueError),
    ([3], TypeError),
    (numpy_style, TypeError),
    ([{"name": "x", "parameters": {"type": "array"}}], ValueError),
])
def test_normalize_tools_rejects(tools: object, error: type) -> None:
    with pytest.raises(error):
        normalize_tools(tools)  # type: ignore[arg-type]


def test_tool_choice_forms() -> None:
    tools = normalize_tools([numpy_style])
    assert normalize_tool_choice("auto", tools) == "auto"
    assert normalize_tool_choice("any", tools) == "required"
    expected = {"type": "function", "function": {"name": "numpy_style"}}
    assert normalize_tool_choice("numpy_style", tools) == expected
    assert normalize_tool_choice(numpy_style, tools) == expected
    with pytest.raises(ValueError, match="not among the tools"):
        normalize_tool_choice("other", tools)
    with pytest.raises(ValueError):
        normalize_tool_choice("required", None)


def test_parse_arguments() -> None:
    assert parse_arguments('{"a": 1}') == {"a": 1}
    assert parse_arguments("") == {} and parse_arguments(None) == {}
    with pytest.raises(errors.ResponseParseError, match="not valid JSON"):
        parse_arguments("{oops", tool_name="f")
    with pytest.raises(errors.ResponseParseError, match="JSON object"):
        parse_arguments("[1]")
