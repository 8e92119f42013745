"""A call's tools as a wrapper takes them: OpenAI function specs (given as specs, or
as functions described by `modelhub.tools.function_to_tool`), `tool_choice` in
OpenAI's form, and a call's arguments as a dict.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from modelhub.errors import ResponseParseError
from modelhub.tools import NAME_PATTERN as _NAME
from modelhub.tools import Tool, function_to_tool

__all__ = [
    "ToolSpec",
    "function_to_tool",
    "normalize_tool_choice",
    "normalize_tools",
    "parse_arguments",
    "tool_names",
]

ToolSpec = dict[str, Any]


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
    if isinstance(choice, Tool):
        name = choice.name
    elif callable(choice):
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
