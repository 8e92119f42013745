"""`${VAR}` expansion in config values.

- `${VAR}` is the variable's value;
- `${VAR:-default}` the default when VAR is unset or empty, `${VAR-default}` the
  default only when unset; a default may itself hold references, so
  `${A:-${B}}` is A if set, else B, else the error for B;
- `$${VAR}` is a literal `${VAR}`; a bare `$VAR` is left alone (prompts contain `$`);
- `${pkg:NAME/PATH}` is the absolute path of a file or folder inside the installed
  package NAME (see `modelhub.config.packages`).

Missing variables and malformed references are reported, never raised, so the caller
can name the config and field; the variables each field's value came from are
reported too, so an error about such a value can name them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["Expanded", "MissingVar", "expand_env"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class MissingVar:
    """A reference that could not be expanded: where it is, the variable, and why."""

    field_path: FieldPath
    name: str
    reason: str | None = None  # None: the variable is unset and has no default
    package: bool = False  # a `${pkg:...}` reference: `name` is what it names


class Expanded(NamedTuple):
    """A value with its references expanded, the problems met, and, per field path,
    the variables its value came from."""

    value: Any
    problems: list[MissingVar]
    variables: dict[FieldPath, list[str]]


class _Reader:
    """Expands the references of one string; `used` collects the variables read."""

    def __init__(self, text: str, path: FieldPath, env: Mapping[str, str]) -> None:
        self.text, self.path, self.env = text, path, env
        self.problems: list[MissingVar] = []
        self.used: list[str] = []

    def _fail(self, name: str, reason: str | None = None, *, package: bool = False) -> None:
        self.problems.append(MissingVar(self.path, name, reason, package))

    def expand(self, pos: int, *, in_default: bool) -> tuple[str, int]:
        """The text from `pos` expanded, up to the `}` closing a default (when
        `in_default`) or the end; and where reading stopped."""
        text, out = self.text, []
        while pos < len(text):
            if text.startswith("$${", pos):
                out.append("${")
                pos += 3
            elif text.startswith("${", pos):
                value, pos = self._reference(pos)
                out.append(value)
            elif in_default and text[pos] == "}":
                return "".join(out), pos
            else:  # plain text, up to the next `$` (or, in a default, its closing `}`)
                stops = [text.find("$", pos + 1), text.find("}", pos) if in_default else -1]
                nxt = min((i for i in stops if i >= 0), default=len(text))
                out.append(text[pos:nxt])
                pos = nxt
        return "".join(out), pos

    def _reference(self, start: int) -> tuple[str, int]:
        text = self.text
        match = _NAME.match(text, start + 2)
        if match is None:
            end = text.find("}", start)
            body = text[start + 2:end] if end >= 0 else text[start + 2:]
            self._fail(body, f"'${{{body}}}' is not a variable name (letters, digits and "
                             "_, not starting with a digit)" if end >= 0
                       else "unterminated '${' (missing '}')")
            return text[start:end + 1 if end >= 0 else len(text)], \
                end + 1 if end >= 0 else len(text)
        name, pos = match.group(), match.end()
        if name == "pkg" and text.startswith(":", pos) and not text.startswith(":-", pos):
            return self._package(start, pos + 1)
        op = ":-" if text.startswith(":-", pos) else "-" if text.startswith("-", pos) else None
        default: str | None = None
        if op is not None:
            saved = len(self.problems), len(self.used)
            default, pos = self.expand(pos + len(op), in_default=True)
            default_problems = self.problems[saved[0]:]
            default_used = self.used[saved[1]:]
            del self.problems[saved[0]:], self.used[saved[1]:]
        if not text.startswith("}", pos):
            self._fail(name, "unterminated '${' (missing '}')")
            return text[start:], len(text)
        pos += 1
        value = self.env.get(name)
        use_default = op is not None and (value is None or (op == ":-" and not value))
        if use_default:
            # the default's own references count only when the default is used
            self.problems += default_problems
            self.used += default_used
            return default or "", pos
        if value is None:
            self._fail(name)
            return text[start:pos], pos
        self.used.append(name)
        return value, pos


    def _package(self, start: int, pos: int) -> tuple[str, int]:
        """`${pkg:NAME/PATH}` from `start`; `pos` is where NAME begins."""
        from modelhub.config.packages import PackagePathError, package_path

        text = self.text
        end = text.find("}", pos)
        if end < 0:
            self._fail("pkg", "unterminated '${pkg:' (missing '}')")
            return text[start:], len(text)
        reference = text[pos:end]
        try:
            return package_path(reference), end + 1
        except PackagePathError as exc:
            self._fail(reference, str(exc), package=True)
            return text[start:end + 1], end + 1


def expand_env(value: Any, environ: Mapping[str, str] | None = None) -> Expanded:
    """A copy of `value` with references expanded in every string, the problems, and
    the variables each field's value came from."""
    from modelhub._json import map_leaves

    env = os.environ if environ is None else environ
    problems: list[MissingVar] = []
    variables: dict[FieldPath, list[str]] = {}

    def leaf(item: Any, path: FieldPath) -> Any:
        if not (isinstance(item, str) and "${" in item):
            return item
        reader = _Reader(item, path, env)
        expanded, _ = reader.expand(0, in_default=False)
        problems.extend(reader.problems)
        if reader.used:
            variables[path] = reader.used
        return expanded

    return Expanded(map_leaves(value, leaf), problems, variables)
