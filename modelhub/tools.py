"""Plain Python functions as tools a model can call.

`function_to_tool(fn)` describes a function as an OpenAI function spec: its name, the
description and per-parameter descriptions from its docstring (Google, NumPy, reST or
Epydoc style, read by `docstring_parser`), and the JSON schema of its parameters from
their annotations through pydantic (Optional, defaults, Literal, Enum, lists, dicts,
pydantic models, `Annotated[..., Field(...)]`). `Tool` keeps that schema's pydantic
model, so what a model sends is validated and coerced before the call (`"3"` for an
`int`, a dict for a pydantic model, a value for an Enum, a JSON string for a list),
and `Tool.run` turns every way a call can go wrong (arguments that do not validate,
an unknown argument, the function raising) into an observation for the model instead
of an exception::

    from modelhub.tools import Toolbox, tool

    @tool
    def add_numbers(a: int, b: int) -> int:
        '''Add two integers.

        Args:
            a: The first number.
            b: The second number.
        '''
        return a + b

    toolbox = Toolbox([add_numbers])
    toolbox.specs                                  # OpenAI function specs
    toolbox.run(ToolCall("c1", "add_numbers", {"a": "2", "b": 3})).content  # "5"

Any callable can be a tool: a function, a method, a `functools.partial`, an object
with `__call__`; `async def` functions are awaited by `arun` (and run to completion by
`run`). The spec-level helpers every wrapper uses (`normalize_tools`, ...) are in
`modelhub.wrappers.tools`.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from modelhub.response import ToolCall

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "Tool",
    "ToolArgumentsError",
    "ToolResult",
    "Toolbox",
    "as_tool",
    "function_to_tool",
    "observation_text",
    "tool",
]

ToolSpec = dict[str, Any]
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# Types a docstring may give for a parameter that has no annotation.
_DOC_TYPES: dict[str, Any] = {"int": int, "integer": int, "float": float, "number": float,
                              "str": str, "string": str, "bool": bool, "boolean": bool,
                              "list": list, "dict": dict, "object": dict}


class ToolArgumentsError(ValueError):
    """A tool call's arguments do not fit the tool's parameters; the message says
    what is wrong, argument by argument, in words a model can act on."""

    def __init__(self, message: str, *, tool_name: str) -> None:
        self.tool_name = tool_name
        super().__init__(message)


# -- docstrings --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Doc:
    description: str
    params: dict[str, str]
    types: dict[str, str]


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _read_docstring(doc: str) -> _Doc:
    """The description and parameter docs of a docstring in any style it is written in."""
    import docstring_parser

    parsed = docstring_parser.parse(doc)
    description = "\n\n".join(p.strip() for p in (parsed.short_description,
                                                   parsed.long_description) if p and p.strip())
    params: dict[str, str] = {}
    types: dict[str, str] = {}
    for param in parsed.params:
        for name in (n.strip().lstrip("*") for n in param.arg_name.split(",")):  # "x, y : int"
            if name:
                params[name] = _one_line(param.description)
                if param.type_name:
                    types[name] = param.type_name.split(",")[0].strip()  # "int, optional"
    return _Doc(description, params, types)


# -- the arguments model -----------------------------------------------------------------
def _target(fn: Callable[..., Any]) -> tuple[Any, str | None]:
    """The function whose hints and docstring describe `fn`, and its natural name."""
    import functools
    import inspect

    target: Any = fn
    while isinstance(target, functools.partial):
        target = target.func
    if inspect.isfunction(target) or inspect.ismethod(target) or inspect.isbuiltin(target):
        return target, getattr(target, "__name__", None)
    if callable(target) and not isinstance(target, type):
        return target.__call__, type(target).__name__
    return target, getattr(target, "__name__", None)


def _arguments_model(fn: Callable[..., Any], name: str, doc: _Doc) -> type[BaseModel]:
    """A pydantic model of `fn`'s parameters (unknown arguments forbidden)."""
    import inspect
    import typing

    from pydantic import ConfigDict, Field, create_model

    target, _ = _target(fn)
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:  # forward references that do not resolve: the raw annotations
        hints = {}
    fields: dict[str, Any] = {}
    for pname, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {name!r}: parameter {pname!r} is *args/**kwargs; tools "
                            "need named parameters only")
        if param.kind is param.POSITIONAL_ONLY:
            raise TypeError(f"tool {name!r}: parameter {pname!r} is positional-only; a "
                            "model calls tools by parameter name")
        annotation = hints.get(pname, param.annotation)
        if annotation is inspect.Parameter.empty or isinstance(annotation, str):
            annotation = _DOC_TYPES.get(doc.types.get(pname, "").lower(), Any)
        default = ... if param.default is inspect.Parameter.empty else param.default
        # Fields under names of their own, the parameter's name as their alias: a
        # parameter may be called anything (`model_config`, `json`, `schema`...).
        fields[f"p{len(fields)}"] = (annotation, Field(default, alias=pname))
    config = ConfigDict(extra="forbid", protected_namespaces=())
    return create_model(f"{name}_arguments", __config__=config, **fields)


def _strip_titles(schema: Any) -> Any:
    from modelhub._json import map_dicts

    def strip(node: dict[str, Any]) -> dict[str, Any]:
        # a property literally named "title" keeps its schema
        return {k: v for k, v in node.items() if not (k == "title" and isinstance(v, str))}

    return map_dicts(schema, strip)


def _parameters_schema(model: type[BaseModel], doc: _Doc) -> dict[str, Any]:
    import warnings

    with warnings.catch_warnings():  # a default JSON cannot show is left out, as it should
        warnings.filterwarnings("ignore", message="Default value .* is not JSON serializable")
        schema = _strip_titles(model.model_json_schema())
    properties = schema.get("properties", {})
    for pname, text in doc.params.items():
        prop = properties.get(pname)
        if prop is not None and text and "description" not in prop:
            prop["description"] = text
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if schema.get("required"):
        parameters["required"] = schema["required"]
    if "$defs" in schema:
        parameters["$defs"] = schema["$defs"]
    return parameters


def _is_text(prop: Mapping[str, Any]) -> bool:
    """Whether a property schema takes a string (so a JSON-looking string is kept)."""
    options = prop.get("anyOf") or [prop]
    return any(isinstance(o, Mapping) and (o.get("type") == "string" or ("type" not in o
                                           and "$ref" not in o and "items" not in o))
               for o in options)


def _describe(error: Any) -> str:
    """One pydantic error as a line a model can act on."""
    where = ".".join(str(p) for p in error["loc"]) or "arguments"
    if error["type"] == "extra_forbidden":
        return f"{where}: not a parameter of this tool"
    if error["type"] == "missing":
        return f"{where}: required, but missing"
    given = error.get("input")
    shown = json.dumps(given, default=str)[:80] if given is not None else "null"
    return f"{where}: {error['msg']} (got {shown})"


# -- tools -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ToolResult:
    """What running one call gave: `content` is the observation the model is shown;
    `value` what the function returned; `error` says what went wrong, if anything
    (`unknown_tool`, `invalid_arguments`, `tool_error`), `exception` the exception."""

    call: ToolCall
    content: str
    value: Any = None
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the tool ran and returned."""
        return self.error is None


def observation_text(value: Any) -> str:
    """A tool's return value as the text a model reads: strings as they are; numbers,
    lists, dicts, pydantic models, dataclasses, enums as JSON; anything else by `str()`."""
    if isinstance(value, str):
        return value
    if value is None:
        return "(no result)"
    from pydantic_core import PydanticSerializationError, to_jsonable_python

    try:
        return json.dumps(to_jsonable_python(value), ensure_ascii=False)
    except (TypeError, ValueError, PydanticSerializationError):
        return str(value)


class Tool:
    """A function a model can call: its spec, and its arguments validated before it
    runs. Build one with `as_tool(fn)` or the `@tool` decorator; calling the tool
    calls the function with its arguments validated."""

    __slots__ = ("_model", "description", "function", "is_async", "name", "parameters")

    def __init__(self, function: Callable[..., Any], *, name: str | None = None,
                 description: str | None = None) -> None:
        import inspect

        target, natural = _target(function)
        name = name or getattr(function, "__tool_name__", None) or natural
        if not name or name == "<lambda>":
            raise TypeError("a tool needs a named function (lambdas have no usable name); "
                            "define it with def, or give name=")
        if not NAME_PATTERN.match(name):
            raise ValueError(f"tool name {name!r} must match {NAME_PATTERN.pattern}")
        doc = _read_docstring(inspect.getdoc(target) or "")
        self.function = function
        self.name: str = name
        self.description: str | None = description if description is not None \
            else doc.description or None
        self._model = _arguments_model(function, name, doc)
        self.parameters: dict[str, Any] = _parameters_schema(self._model, doc)
        self.is_async = inspect.iscoroutinefunction(target)

    @property
    def spec(self) -> ToolSpec:
        """The OpenAI function spec (a fresh copy each time)."""
        function: dict[str, Any] = {"name": self.name,
                                    "parameters": json.loads(json.dumps(self.parameters))}
        if self.description:
            function["description"] = self.description
        return {"type": "function", "function": function}

    def validate(self, arguments: Mapping[str, Any] | str | None) -> dict[str, Any]:
        """The keyword arguments to call the function with: `arguments` (a dict, or
        its JSON text) checked against the parameters and coerced to their types.
        Raises ToolArgumentsError saying what is wrong."""
        from pydantic import ValidationError

        from modelhub.errors import ResponseParseError
        from modelhub.wrappers.tools import parse_arguments

        try:
            given = parse_arguments(arguments, tool_name=self.name)
        except ResponseParseError as exc:
            raise ToolArgumentsError(f"the arguments of {self.name} must be a JSON object: "
                                     f"{exc.message}", tool_name=self.name) from None
        properties = self.parameters.get("properties", {})
        for key, value in list(given.items()):  # a list or an object sent as JSON text
            prop = properties.get(key)
            if isinstance(value, str) and prop is not None and not _is_text(prop) \
                    and value.strip()[:1] in ("[", "{"):
                with contextlib.suppress(ValueError):
                    given[key] = json.loads(value)
        try:
            validated = self._model.model_validate(given)
        except ValidationError as exc:
            lines = [_describe(e) for e in exc.errors()]
            raise ToolArgumentsError(
                f"invalid arguments for {self.name}: " + "; ".join(lines),
                tool_name=self.name) from None
        fields = type(validated).model_fields
        return {fields[k].alias or k: getattr(validated, k) for k in validated.model_fields_set}

    def __call__(self, **arguments: Any) -> Any:
        """Call the function with `arguments` validated (ToolArgumentsError if not)."""
        return self.function(**self.validate(arguments))

    def run(self, call: ToolCall) -> ToolResult:
        """Run one call; whatever goes wrong comes back as an observation."""
        try:
            kwargs = self.validate(call.arguments)
        except ToolArgumentsError as exc:
            return self._failed(call, "invalid_arguments", exc)
        try:
            value = self.function(**kwargs)
            if self.is_async or _awaitable(value):
                value = _run_to_completion(value)
        except Exception as exc:
            return self._failed(call, "tool_error", exc)
        return ToolResult(call, observation_text(value), value)

    async def arun(self, call: ToolCall) -> ToolResult:
        """Async twin of `run`: a coroutine function is awaited, a plain one runs in a
        worker thread."""
        import asyncio

        try:
            kwargs = self.validate(call.arguments)
        except ToolArgumentsError as exc:
            return self._failed(call, "invalid_arguments", exc)
        try:
            if self.is_async:
                value = await self.function(**kwargs)
            else:
                value = await asyncio.to_thread(self.function, **kwargs)
                if _awaitable(value):
                    value = await value
        except Exception as exc:
            return self._failed(call, "tool_error", exc)
        return ToolResult(call, observation_text(value), value)

    def _failed(self, call: ToolCall, kind: str, exc: Exception) -> ToolResult:
        if kind == "invalid_arguments":
            content = f"Error: {exc}. The parameters of {self.name} are " \
                      f"{json.dumps(self.parameters.get('properties', {}))}."
        else:
            content = f"Error: {self.name} raised {type(exc).__name__}: {exc}"
        return ToolResult(call, content, error=kind, exception=exc)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r})"


def _awaitable(value: Any) -> bool:
    import inspect

    return inspect.isawaitable(value)


async def _await(value: Any) -> Any:
    return await value


def _run_to_completion(awaitable: Any) -> Any:
    """An awaitable's result, from sync code: in a worker thread's own event loop when
    this thread already runs one (a notebook, an async caller of a sync agent)."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(awaitable))
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="modelhub-tool") as pool:
        return pool.submit(asyncio.run, _await(awaitable)).result()


def as_tool(obj: Tool | Callable[..., Any], *, name: str | None = None,
            description: str | None = None) -> Tool:
    """`obj` as a Tool: a Tool as it is (renamed or redescribed if asked), any other
    callable described from its signature and docstring."""
    if isinstance(obj, Tool):
        if name is None and description is None:
            return obj
        return Tool(obj.function, name=name or obj.name,
                    description=description if description is not None else obj.description)
    if not callable(obj):
        raise TypeError(f"a tool must be a function or callable, got {type(obj).__name__}")
    return Tool(obj, name=name, description=description)


@overload
def tool(function: Callable[..., Any], /) -> Tool: ...


@overload
def tool(*, name: str | None = None,
         description: str | None = None) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(function: Callable[..., Any] | None = None, /, *, name: str | None = None,
         description: str | None = None) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Decorator making a function a Tool: `@tool` or `@tool(name=..., description=...)`."""
    if function is not None:
        return as_tool(function, name=name, description=description)
    return lambda fn: as_tool(fn, name=name, description=description)


def function_to_tool(fn: Callable[..., Any]) -> ToolSpec:
    """The OpenAI function spec describing `fn` (a function, method, partial, callable
    object or Tool)."""
    return as_tool(fn).spec


class Toolbox:
    """The tools of one agent or call, by name: their specs, and calls run by name
    (an unknown name is an observation listing the known ones)."""

    __slots__ = ("_tools",)

    def __init__(self, tools: Iterable[Tool | Callable[..., Any]] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.add(item)

    def add(self, item: Tool | Callable[..., Any]) -> Tool:
        """Add a tool (ValueError if its name is taken); returns it."""
        found = as_tool(item)
        if found.name in self._tools:
            raise ValueError(f"two tools are named {found.name!r}")
        self._tools[found.name] = found
        return found

    @property
    def names(self) -> list[str]:
        """The tools' names, in the order they were added."""
        return list(self._tools)

    @property
    def specs(self) -> list[ToolSpec]:
        """The tools' OpenAI function specs."""
        return [t.spec for t in self._tools.values()]

    def get(self, name: str) -> Tool | None:
        """The tool of that name, if any."""
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Any:
        return iter(self._tools.values())

    def _unknown(self, call: ToolCall) -> ToolResult:
        known = ", ".join(self._tools) or "none"
        return ToolResult(call, f"Error: there is no tool named {call.name!r}. The tools are: "
                                f"{known}.", error="unknown_tool")

    def run(self, call: ToolCall) -> ToolResult:
        """Run one call by its tool's name."""
        found = self._tools.get(call.name)
        return found.run(call) if found is not None else self._unknown(call)

    async def arun(self, call: ToolCall) -> ToolResult:
        """Async twin of `run`."""
        found = self._tools.get(call.name)
        return await found.arun(call) if found is not None else self._unknown(call)
