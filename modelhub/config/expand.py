"""`${VAR}` expansion in config values.

`${VAR}` is the variable's value; `${VAR:-default}` the default when VAR is unset or
empty; `${VAR-default}` the default only when unset; `$${VAR}` a literal `${VAR}`.
A bare `$VAR` is left alone (prompts contain `$`). Missing variables and malformed
references are reported, never raised, so the caller can name the config and field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MissingVar", "expand_env"]

_REFERENCE = re.compile(r"\$\$\{|\$\{(?P<body>[^}]*)(?P<close>\})?")
_BODY = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>.*))?", re.S)


@dataclass(frozen=True, slots=True)
class MissingVar:
    """A reference that could not be expanded: where it is, the variable, and why."""

    field_path: tuple[str | int, ...]
    name: str
    reason: str | None = None  # None: the variable is unset and has no default


def _expand_str(text: str, path: tuple[str | int, ...], env: Mapping[str, str],
                problems: list[MissingVar]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        body = match.group("body")
        if match.group("close") is None:
            problems.append(MissingVar(path, body, "unterminated '${' (missing '}')"))
            return match.group(0)
        ref = _BODY.fullmatch(body)
        if ref is None:
            problems.append(MissingVar(
                path, body, f"'${{{body}}}' is not a variable name (letters, digits and _, "
                            "not starting with a digit)"))
            return match.group(0)
        name, op, default = ref.group("name"), ref.group("op"), ref.group("default")
        value = env.get(name)
        if op == ":-" and not value:
            return default or ""
        if op == "-" and value is None:
            return default or ""
        if value is None:
            problems.append(MissingVar(path, name))
            return match.group(0)
        return value

    return _REFERENCE.sub(substitute, text)


def expand_env(value: Any, environ: Mapping[str, str] | None = None,
               _path: tuple[str | int, ...] = ()) -> tuple[Any, list[MissingVar]]:
    """A copy of `value` with references expanded in every string, and the problems."""
    from modelhub._json import map_leaves

    env = os.environ if environ is None else environ
    problems: list[MissingVar] = []

    def leaf(item: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(item, str) and "${" in item:
            return _expand_str(item, (*_path, *path), env, problems)
        return item

    return map_leaves(value, leaf), problems
