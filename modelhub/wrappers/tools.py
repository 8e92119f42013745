"""Tools: OpenAI function specs from plain Python functions, and their validation.

`function_to_tool(fn)` describes a function from its signature, type hints and
docstring (Google, Sphinx or NumPy style); the parameter schema comes from pydantic,
so nested models, enums, Literal and Optional all work.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from modelhub.errors import ResponseParseError

__all__ = [
    "ToolSpec",
    "function_to_tool",
    "normalize_tool_choice",
    "normalize_tools",
    "parse_arguments",
    "tool_names",
]

ToolSpec = dict[str, Any]
_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Params|Returns|Return|Yields|Raises|"
                      r"Examples?|Notes?|Attributes)\s*:?\s*$")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """(summary, {param: description}) from a Google, Sphinx or NumPy docstring."""
    import inspect

    lines = inspect.cleandoc(doc).splitlines()
    params: dict[str, str] = {}
    summary: list[str] = []
    section: str | None = None
    current: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        sphinx = re.match(r"^:param\s+(?:[^:]+\s)?(\w+)\s*:\s*(.*)$", stripped)
        if sphinx:
            current, section = sphinx.group(1), "sphinx"
            params[current] = sphinx.group(2).strip()
        elif stripped.startswith(":"):
            current, section = None, "sphinx-other"
        elif _SECTION.match(line) or (i + 1 < len(lines)
                                      and re.fullmatch(r"-{3,}", lines[i + 1].strip())
                                      and stripped):
            section = stripped.rstrip(":").lower()
            current = None
            if i + 1 < len(lines) and re.fullmatch(r"-{3,}", lines[i + 1].strip()):
                i += 1  # NumPy underline
        elif section in ("args", "arguments", "parameters", "params"):
            google = re.match(r"^(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$", stripped)
            numpy = re.match(r"^(\w+)\s*:\s*(.*)$", stripped) if not line[:1].isspace() \
                else None
            indented = line[:1].isspace()
            if google and (indented or numpy is None):
                current = google.group(1).lstrip("*")
                params[current] = google.group(3).strip()
            elif numpy and not indented:
                current = numpy.group(1)
                params[current] = ""
            elif current and stripped:
                params[current] = (params[current] + " " + stripped).strip()
        elif section == "sphinx" and current and stripped and line[:1].isspace():
            params[current] = (params[current] + " " + stripped).strip()
        elif section is None:
            summary.append(line)
        i += 1
    return "\n".join(summary).strip(), params


def _strip_titles(schema: Any) -> Any:
    from modelhub._json import map_dicts

    return map_dicts(schema, lambda node: {k: v for k, v in node.items()
                                           if not (k == "title" and isinstance(v, str))})


def function_to_tool(fn: Callable[..., Any]) -> ToolSpec:
    """An OpenAI function tool describing `fn` (a function, method, partial or callable)."""
    import functools
    import inspect
    import typing

    from pydantic import create_model

    target: Any = fn
    if isinstance(fn, functools.partial):
        target = fn.func
    name = getattr(fn, "__tool_name__", None) or getattr(target, "__name__", None)
    if not inspect.isfunction(target) and not inspect.ismethod(target) and callable(target) \
            and not isinstance(target, type):
        name = getattr(fn, "__tool_name__", None) or type(target).__name__
        target = target.__call__
    if not name or name == "<lambda>":
        raise TypeError("a tool needs a named function (lambdas have no usable name); "
                        "define it with def, or set __tool_name__")
    if not _NAME.match(name):
        raise ValueError(f"tool name {name!r} must match {_NAME.pattern}")
    signature = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:  # unresolved forward references: fall back to raw annotations
        hints = {}
    summary, param_docs = _parse_docstring(inspect.getdoc(target) or "")
    fields: dict[str, Any] = {}
    for pname, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {name!r}: parameter {pname!r} is *args/**kwargs; tools "
                            "need named parameters only")
        annotation = hints.get(pname, param.annotation)
        if annotation is inspect.Parameter.empty:
            annotation = Any
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[pname] = (annotation, default)
    model = create_model(f"{name}_parameters", **fields)
    schema = _strip_titles(model.model_json_schema())
    for pname, text in param_docs.items():
        prop = schema.get("properties", {}).get(pname)
        if prop is not None and text and "description" not in prop:
            prop["description"] = text
    parameters: dict[str, Any] = {"type": "object",
                                  "properties": schema.get("properties", {})}
    if schema.get("required"):
        parameters["required"] = schema["required"]
    if "$defs" in schema:
        parameters["$defs"] = schema["$defs"]
    function: dict[str, Any] = {"name": name, "parameters": parameters}
    if summary:
        function["description"] = summary
    return {"type": "function", "function": function}


def _check_spec(spec: Mapping[str, Any], index: int) -> ToolSpec:
    if spec.get("type", "function") != "function":
        raise ValueError(f"tool {index}: only function tools are supported, "
                         f"got type {spec.get('type')!r}")
    function = spec.get("function", spec if "name" in spec else None)
    if not isinstance(function, Mapping):
        raise TypeError(f"tool {index}: expected {{'type': 'function', 'function': {{...}}}} "
                        "or {'name': ..., 'parameters': ...}")
    name = function.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"tool {index}: name {name!r} must match {_NAME.pattern}")
    out = json.loads(json.dumps(dict(function)))  # deep copy, and proves it is JSON
    params = out.setdefault("parameters", {"type": "object", "properties": {}})
    if not isinstance(params, dict) or params.get("type", "object") != "object":
        raise ValueError(f"tool {index} ({name}): parameters must be an object schema")
    return {"type": "function", "function": out}


def normalize_tools(tools: Sequence[Callable[..., Any] | Mapping[str, Any]] | None
                    ) -> list[ToolSpec] | None:
    """Tools as OpenAI function specs (copied), from specs or callables; None if none."""
    if tools is None:
        return None
    if isinstance(tools, (Mapping, str)) or callable(tools):
        raise TypeError("tools must be a list of functions or tool specs")
    specs: list[ToolSpec] = []
    for i, tool in enumerate(tools):
        if isinstance(tool, Mapping):
            specs.append(_check_spec(tool, i))
        elif callable(tool):
            specs.append(function_to_tool(tool))
        else:
            raise TypeError(f"tool {i}: expected a function or a tool spec dict, "
                            f"got {type(tool).__name__}")
    names = tool_names(specs)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate tool names: {', '.join(duplicates)}")
    return specs or None


def tool_names(tools: list[ToolSpec] | None) -> list[str]:
    """The function names of a list of tool specs."""
    return [t["function"]["name"] for t in tools or ()]


def normalize_tool_choice(choice: str | Mapping[str, Any] | Callable[..., Any] | None,
                          tools: list[ToolSpec] | None = None) -> str | dict[str, Any] | None:
    """tool_choice in OpenAI form: 'auto', 'none', 'required', or a named function."""
    if choice is None:
        return None
    if isinstance(choice, str) and choice in ("auto", "none", "required", "any"):
        if choice in ("required", "any") and not tools:
            raise ValueError(f"tool_choice={choice!r} needs tools")
        return "required" if choice == "any" else choice
    if isinstance(choice, Mapping):
        name = (choice.get("function") or {}).get("name") if choice.get("type") == "function" \
            else None
        if choice.get("type") == "function" and not name:
            raise ValueError("tool_choice of type 'function' needs function.name")
        if name and tools is not None and name not in tool_names(tools):
            raise ValueError(f"tool_choice names {name!r}, which is not among the tools: "
                             f"{', '.join(tool_names(tools))}")
        return dict(choice)
    if callable(choice):
        name = getattr(choice, "__tool_name__", None) or getattr(choice, "__name__", None)
    elif isinstance(choice, str):
        name = choice
    else:
        raise TypeError(f"tool_choice must be a str, a dict or a function, "
                        f"got {type(choice).__name__}")
    if not tools:
        raise ValueError(f"tool_choice {name!r} given without tools")
    if name not in tool_names(tools):
        raise ValueError(f"tool_choice names {name!r}, which is not among the tools: "
                         f"{', '.join(tool_names(tools))}")
    return {"type": "function", "function": {"name": name}}


def parse_arguments(raw: str | Mapping[str, Any] | None, *, tool_name: str = ""
                    ) -> dict[str, Any]:
    """A tool call's arguments as a dict, from a JSON string or a mapping. A
    ResponseParseError holds the arguments in `response` (not in its message, and no
    decoder exception is chained), for the caller to redact."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    why = None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        why = f"arguments are not valid JSON ({getattr(exc, 'msg', type(exc).__name__)})"
    if why is None and not isinstance(value, dict):
        why = f"arguments must be a JSON object, got {type(value).__name__}"
    if why is not None:
        raise ResponseParseError(f"tool call {tool_name!r}: {why}", response=raw)
    return value  # type: ignore[no-any-return]
