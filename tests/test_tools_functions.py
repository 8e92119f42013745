"""modelhub.tools, case by case: docstring styles, annotations, and arguments validated
and coerced before the call (a bad call is an observation, not an exception)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from enum import Enum
from typing import Annotated, Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field

from modelhub.response import ToolCall
from modelhub.tools import (
    Tool,
    ToolArgumentsError,
    Toolbox,
    as_tool,
    function_to_tool,
    observation_text,
    tool,
)
from modelhub.wrappers.tools import normalize_tool_choice, normalize_tools


def params(fn: Any) -> dict[str, Any]:
    return function_to_tool(fn)["function"]["parameters"]  # type: ignore[no-any-return]


def described(fn: Any) -> tuple[str | None, dict[str, str]]:
    function = function_to_tool(fn)["function"]
    props = function["parameters"]["properties"]
    return function.get("description"), {k: v.get("description") for k, v in props.items()}


# -- docstrings, one style at a time ------------------------------------------------------
def test_google_style_with_types_and_continued_lines() -> None:
    def search(query: str, limit: int = 5) -> list[str]:
        """Search the web.

        Returns the best pages first.

        Args:
            query (str): What to search for,
                in plain words.
            limit: How many results.

        Returns:
            list[str]: The pages.
        """
        return []

    assert described(search) == ("Search the web.\n\nReturns the best pages first.",
                                 {"query": "What to search for, in plain words.",
                                  "limit": "How many results."})


def test_numpy_style_with_shared_and_optional_entries() -> None:
    def scale(x: float, y: float, factor: float = 1.0) -> float:
        """Scale a point.

        Parameters
        ----------
        x, y : float
            The point.
        factor : float, optional
            How much to scale by.

        Returns
        -------
        float
        """
        return x * factor

    assert described(scale) == ("Scale a point.", {"x": "The point.", "y": "The point.",
                                                    "factor": "How much to scale by."})


def test_rest_style() -> None:
    def fetch(url: str, timeout: float = 10) -> str:
        """Fetch a page.

        :param url: The page's address.
        :param float timeout: Seconds to wait,
            at most.
        :type url: str
        :returns: The page's text.
        """
        return url

    assert described(fetch) == ("Fetch a page.", {"url": "The page's address.",
                                                  "timeout": "Seconds to wait, at most."})


def test_epydoc_style() -> None:
    def greet(name: str) -> str:
        """Greet someone.

        @param name: Who to greet.
        """
        return name

    assert described(greet) == ("Greet someone.", {"name": "Who to greet."})


def test_no_docstring_and_a_parameter_the_docstring_does_not_know() -> None:
    def bare(a: int) -> int:
        return a

    def partly(a: int, b: int) -> int:
        """Partly documented.

        Args:
            a: Documented.
            z: Not a parameter.
        """
        return a

    assert described(bare) == (None, {"a": None})
    assert described(partly) == ("Partly documented.", {"a": "Documented.", "b": None})
    assert "z" not in params(partly)["properties"]


def test_a_docstring_type_stands_in_for_a_missing_annotation() -> None:
    def legacy(count, label):  # type: ignore[no-untyped-def]
        """Old code.

        Args:
            count (int): How many.
            label: A name.
        """
        return count

    props = params(legacy)["properties"]
    assert props["count"] == {"type": "integer", "description": "How many."}
    assert props["label"] == {"description": "A name."}  # any value
    assert Tool(legacy).validate({"count": "2", "label": [1]}) == {"count": 2, "label": [1]}


# -- annotations, one at a time -------------------------------------------------------------
class Unit(str, Enum):
    CELSIUS = "c"
    FAHRENHEIT = "f"


class Place(BaseModel):
    city: str
    country: str | None = None


@pytest.mark.parametrize(("annotation", "schema"), [
    (str, {"type": "string"}),
    (int, {"type": "integer"}),
    (float, {"type": "number"}),
    (bool, {"type": "boolean"}),
    (list[int], {"type": "array", "items": {"type": "integer"}}),
    (dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
    (Literal["now", "daily"], {"enum": ["now", "daily"], "type": "string"}),
    (Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}),  # noqa: UP045
    (int | None, {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
    (Annotated[int, Field(ge=0, description="At least zero.")],
     {"type": "integer", "minimum": 0, "description": "At least zero."}),
])
def test_each_annotation_gives_its_schema(annotation: Any, schema: dict[str, Any]) -> None:
    def fn(x: Any) -> None:
        """A tool."""

    fn.__annotations__["x"] = annotation
    parameters = params(fn)
    assert parameters["properties"]["x"] == schema and parameters["required"] == ["x"]


def test_defaults_are_shown_and_not_required() -> None:
    def fn(a: int, b: str = "x", c: int | None = None) -> None:
        """A tool."""

    parameters = params(fn)
    assert parameters["required"] == ["a"]
    assert parameters["properties"]["b"] == {"type": "string", "default": "x"}
    assert parameters["properties"]["c"]["default"] is None


def test_enums_and_pydantic_models_are_defs() -> None:
    def weather(place: Place, unit: Unit = Unit.CELSIUS) -> str:
        """Weather.

        Args:
            place: Where.
        """
        return ""

    parameters = params(weather)
    assert parameters["properties"]["place"] == {"$ref": "#/$defs/Place", "description": "Where."}
    assert parameters["$defs"]["Unit"] == {"enum": ["c", "f"], "type": "string"}
    assert parameters["$defs"]["Place"]["required"] == ["city"]
    assert "title" not in json.dumps(parameters)


def test_a_parameter_named_title_keeps_its_schema() -> None:
    def rename(title: str) -> str:
        """Rename."""
        return title

    assert params(rename)["properties"] == {"title": {"type": "string"}}


def test_methods_partials_callable_objects_and_rejected_shapes() -> None:
    import functools

    class Counter:
        def bump(self, by: int = 1) -> int:
            """Bump the counter."""
            return by

        def __call__(self, n: int) -> int:
            """Count to n."""
            return n

    assert list(params(Counter().bump)["properties"]) == ["by"]
    assert function_to_tool(Counter())["function"]["name"] == "Counter"

    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    assert list(params(functools.partial(add, 1))["properties"]) == ["b"]
    assert Tool(functools.partial(add, 1))(b="2") == 3

    def positional(a: int, /) -> int:
        return a

    with pytest.raises(TypeError, match="positional-only"):
        Tool(positional)
    with pytest.raises(TypeError, match="named function"):
        Tool(lambda x: x)
    with pytest.raises(ValueError, match="must match"):
        Tool(add, name="no spaces")
    with pytest.raises(TypeError, match="callable"):
        as_tool(3)  # type: ignore[arg-type]


# -- validation and coercion ----------------------------------------------------------------
def weather(place: Place, unit: Unit = Unit.CELSIUS, days: list[int] | None = None,
            mode: Literal["now", "daily"] = "now", note: str = "") -> dict[str, Any]:
    """Weather for a place."""
    return {"place": place, "unit": unit, "days": days, "mode": mode, "note": note}


WEATHER = Tool(weather)


def test_arguments_are_coerced_to_their_types() -> None:
    kwargs = WEATHER.validate({"place": {"city": "Oslo"}, "unit": "f", "days": "[1, 2]",
                               "note": "[not a list]"})
    assert kwargs == {"place": Place(city="Oslo"), "unit": Unit.FAHRENHEIT, "days": [1, 2],
                      "note": "[not a list]"}
    assert isinstance(kwargs["place"], Place) and isinstance(kwargs["unit"], Unit)
    assert WEATHER.validate('{"place": {"city": "Rome"}, "days": ["3"]}')["days"] == [3]


def test_defaults_not_sent_are_the_functions_own() -> None:
    marker = object()

    def fn(a: int, b: Any = marker) -> Any:
        """A tool."""
        return b

    assert Tool(fn)(a=1) is marker


@pytest.mark.parametrize(("arguments", "message"), [
    ({"unit": "c"}, "place: required, but missing"),
    ({"place": {"city": "Oslo"}, "unit": "k"}, "unit: Input should be 'c' or 'f'"),
    ({"place": {"city": "Oslo"}, "mode": "weekly"}, "mode: Input should be 'now' or 'daily'"),
    ({"place": {}}, "place.city: required, but missing"),
    ({"place": {"city": "Oslo"}, "days": ["x"]}, "days.0: Input should be a valid integer"),
    ({"place": {"city": "Oslo"}, "extra": 1}, "extra: not a parameter of this tool"),
    ("{oops", "must be a JSON object"),
    ("[1, 2]", "must be a JSON object"),
])
def test_bad_arguments_say_what_is_wrong(arguments: Any, message: str) -> None:
    with pytest.raises(ToolArgumentsError, match="weather") as caught:
        WEATHER.validate(arguments)
    assert message in str(caught.value) and caught.value.tool_name == "weather"


def test_run_turns_every_failure_into_an_observation() -> None:
    def explode(x: int) -> int:
        """Explode."""
        raise RuntimeError("boom")

    ok = WEATHER.run(ToolCall("c1", "weather", {"place": {"city": "Oslo"}}))
    assert ok.ok and ok.value["place"] == Place(city="Oslo")
    assert json.loads(ok.content)["unit"] == "c"  # the value as JSON for the model
    bad = WEATHER.run(ToolCall("c2", "weather", {"unit": "k"}))
    assert not bad.ok and bad.error == "invalid_arguments"
    assert bad.content.startswith("Error: invalid arguments for weather: place: required")
    assert '"place": {"$ref": "#/$defs/Place"}' in bad.content
    failed = Tool(explode).run(ToolCall("c3", "explode", {"x": 1}))
    assert failed.error == "tool_error" and failed.content == \
        "Error: explode raised RuntimeError: boom"
    assert isinstance(failed.exception, RuntimeError)
    with pytest.raises(ToolArgumentsError):
        WEATHER(unit="c")


def test_async_tools() -> None:
    async def slow(n: int) -> int:
        """Slow."""
        await asyncio.sleep(0)
        return n * 2

    t = Tool(slow)
    assert t.is_async
    assert t.run(ToolCall("c", "slow", {"n": "2"})).value == 4
    assert asyncio.run(t.arun(ToolCall("c", "slow", {"n": 3}))).value == 6
    assert asyncio.run(Tool(weather).arun(ToolCall("c", "weather", {}))).error == \
        "invalid_arguments"

    async def sync_run_inside_a_loop() -> int:
        return t.run(ToolCall("c", "slow", {"n": 4})).value  # type: ignore[no-any-return]

    assert asyncio.run(sync_run_inside_a_loop()) == 8


@dataclasses.dataclass
class Point:
    x: int


@pytest.mark.parametrize(("value", "text"), [
    ("plain", "plain"), (None, "(no result)"), (3, "3"), ({"a": [1, "é"]}, '{"a": [1, "é"]}'),
    (Place(city="Oslo"), '{"city": "Oslo", "country": null}'), (Point(1), '{"x": 1}'),
    (Unit.CELSIUS, "c"), (object, str(object)),
])
def test_observation_text(value: Any, text: str) -> None:
    assert observation_text(value) == text


# -- Tool, @tool, Toolbox and the wrappers' helpers -------------------------------------------
def test_the_decorator_names_describes_and_keeps_the_function_callable() -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @tool(name="plus", description="Adds.")
    def other(a: int) -> int:
        return a

    assert isinstance(add, Tool) and add(a="1", b=2) == 3
    assert add.spec["function"]["description"] == "Add two numbers."
    assert other.spec["function"] == {"name": "plus", "description": "Adds.",
                                      "parameters": {"type": "object", "properties": {
                                          "a": {"type": "integer"}}, "required": ["a"]}}
    assert as_tool(add) is add and as_tool(add, name="sum").name == "sum"
    assert repr(add) == "Tool(name='add')"
    specs = normalize_tools([add, other])
    assert specs is not None and [s["function"]["name"] for s in specs] == ["add", "plus"]
    assert normalize_tool_choice(other, specs) == {"type": "function",
                                                   "function": {"name": "plus"}}


def test_toolbox_runs_by_name() -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    box = Toolbox([add, weather])
    assert box.names == ["add", "weather"] and len(box) == 2 and "add" in box
    assert [t.name for t in box] == ["add", "weather"] and box.get("nope") is None
    assert box.run(ToolCall("c", "add", {"a": 1, "b": 2})).content == "3"
    missing = asyncio.run(box.arun(ToolCall("c", "sub", {})))
    assert missing.error == "unknown_tool" and "The tools are: add, weather." in missing.content
    with pytest.raises(ValueError, match="two tools"):
        box.add(add)
    spec = box.specs[0]
    spec["function"]["name"] = "changed"
    assert box.specs[0]["function"]["name"] == "add"  # each spec is a copy


def test_parameter_names_pydantic_would_reserve() -> None:
    import warnings

    def configure(model_name: str, model_config: int = 0) -> str:
        """Configure."""
        return model_name

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = Tool(configure)
    assert found.validate({"model_name": "m", "model_config": "2"}) == {
        "model_name": "m", "model_config": 2}
    assert list(found.parameters["properties"]) == ["model_name", "model_config"]
