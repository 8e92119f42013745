"""Dotted response paths (`data.response.choices.0.message.content`): where the POST
wrappers find text, tool calls, usage, embeddings and image URLs in whatever JSON an
endpoint answers with.

A path is keys and list indexes joined by dots; `*` takes every item of a list (so
`data.*.embedding` is a list). A path that does not match says where it stopped, and
`describe_shape` shows the shape of what arrived without any of its values (keys cut,
values summarised by type and size), so an error can show it safely.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MISSING", "PathGroup", "ResponsePath", "describe_shape", "openai_prefix"]

MISSING: Any = object()  # what `find` returns for a path that does not match
_WILDCARD = "*"
_INDEX = re.compile(r"-?\d+")
# The text path of an OpenAI chat.completion body, under any prefix.
_OPENAI_TEXT = re.compile(r"^(?P<prefix>(?:.+\.)?)choices\.(?P<n>\d+)\.message\.content$")


def _walk(value: Any, steps: tuple[str, ...]) -> tuple[Any, int]:
    """(what `steps` lead to, or MISSING; how many steps matched)."""
    for depth, step in enumerate(steps):
        if step == _WILDCARD:
            if not isinstance(value, list):
                return MISSING, depth
            items = []
            for item in value:
                found, _ = _walk(item, steps[depth + 1:])
                if found is MISSING:
                    return MISSING, depth
                items.append(found)
            return items, len(steps)
        if isinstance(value, Mapping):
            if step not in value:
                return MISSING, depth
            value = value[step]
        elif isinstance(value, list) and _INDEX.fullmatch(step):
            index = int(step)
            if not -len(value) <= index < len(value):
                return MISSING, depth
            value = value[index]
        else:
            return MISSING, depth
    return value, len(steps)


@dataclass(frozen=True, slots=True)
class ResponsePath:
    """One compiled dotted path."""

    text: str
    steps: tuple[str, ...]
    # Each step and its index if it is one; empty for a path with a wildcard.
    fast: tuple[tuple[str, int | None], ...] = ()

    @classmethod
    def parse(cls, text: str) -> ResponsePath:
        """Compile `text`; a ValueError for an empty path or an empty step."""
        steps = tuple(text.split("."))
        if not text or any(not s for s in steps):
            raise ValueError(f"a response path is keys and indexes joined by dots, such as "
                             f"'data.response.choices.0.message.content'; got {text!r}")
        if _WILDCARD in steps:  # the general walk only
            return cls(text, steps)
        return cls(text, steps, tuple((s, int(s) if _INDEX.fullmatch(s) else None)
                                      for s in steps))

    def find(self, data: Any) -> Any:
        """What the path leads to in `data`, or MISSING."""
        if not self.fast:
            return _walk(data, self.steps)[0]
        value = data
        for step, index in self.fast:  # plain dicts and lists, without the general walk
            kind = type(value)
            if kind is dict:
                value = value.get(step, MISSING)
                if value is MISSING:
                    return MISSING
            elif kind is list and index is not None and -len(value) <= index < len(value):
                value = value[index]
            else:
                return _walk(data, self.steps)[0]
        return value

    def miss(self, data: Any) -> str:
        """Where the path stops matching `data`, said in a sentence."""
        _, depth = _walk(data, self.steps)
        steps = self.steps
        if depth >= len(steps):  # a wildcard's item missed further down
            depth = max(i for i, s in enumerate(steps) if s == _WILDCARD)
        at, found = ".".join(steps[:depth]) or "the top", _walk(data, steps[:depth])[0]
        step = steps[depth]
        if step == _WILDCARD:
            if isinstance(found, list):
                rest = ".".join(steps[depth + 1:])
                return f"not every item of the list at {at!r} has {rest!r}"
            return f"at {at!r} there is {_kind(found)}, not a list"
        if isinstance(found, Mapping):
            return f"at {at!r} there is no key {step!r}"
        if isinstance(found, list):
            return f"at {at!r} the list has {len(found)} item(s), so no index {step}"
        return f"at {at!r} there is {_kind(found)}, where {step!r} was looked for"


# What a group's walk holds for a node it could not read on the fast path: each path
# through that node is then looked up on its own.
_SLOW: Any = object()
# Where no step can lead anywhere.
_SCALARS = frozenset({str, int, float, bool, type(None)})


class PathGroup:
    """Several compiled paths looked up in one walk: a step they share (such as the
    `data.response.choices.0` of every stream event's paths) is taken once.

    `find_all(data)` is `[path.find(data) for path in paths]`, the same values for any
    data: the walk reads plain dicts, lists and scalars as `find` does, and hands each
    path that meets anything else (a wildcard, another kind of mapping or list) to
    that path's own `find`.
    """

    __slots__ = ("_leaves", "_nodes", "_slow", "paths")

    def __init__(self, paths: tuple[ResponsePath, ...] | list[ResponsePath]) -> None:
        self.paths = tuple(paths)
        # The steps of every path as a tree, flattened parents first: each node is
        # (its parent's node number, its step, that step as an index or None); node 0
        # is the data itself.
        nodes: list[tuple[int, str, int | None]] = []
        numbers: dict[tuple[str, ...], int] = {(): 0}
        leaves: list[int] = []
        slow: list[int] = []
        for number, path in enumerate(self.paths):
            if not path.fast:  # a wildcard: the general walk only
                leaves.append(-1)
                slow.append(number)
                continue
            for depth, (step, index) in enumerate(path.fast):
                key = path.steps[:depth + 1]
                if key not in numbers:
                    numbers[key] = len(nodes) + 1
                    nodes.append((numbers[path.steps[:depth]], step, index))
            leaves.append(numbers[path.steps])
        self._nodes = tuple(nodes)
        self._leaves = tuple(leaves)
        self._slow = tuple(slow)

    def find_all(self, data: Any) -> list[Any]:
        """What each path leads to in `data` (MISSING where it does not match), in the
        order of `paths`."""
        values = [data]
        append = values.append
        slow = bool(self._slow)
        for parent, step, index in self._nodes:
            value = values[parent]
            kind = type(value)
            if kind is dict:
                append(value.get(step, MISSING))
            elif kind is list:
                append(value[index] if index is not None and -len(value) <= index < len(value)
                       else MISSING)
            elif value is MISSING or kind in _SCALARS:
                append(MISSING)  # what the general walk finds there too
            else:  # another kind of mapping or list: the general walk
                append(_SLOW)
                slow = True
        found = [values[leaf] if leaf >= 0 else _SLOW for leaf in self._leaves]
        if slow:
            paths = self.paths
            found = [paths[n].find(data) if value is _SLOW else value
                     for n, value in enumerate(found)]
        return found


def openai_prefix(text_path: str) -> tuple[str, str] | None:
    """(prefix, choice index) when `text_path` is the text of an OpenAI chat.completion
    (`<prefix>choices.<n>.message.content`), else None."""
    match = _OPENAI_TEXT.match(text_path)
    return (match.group("prefix"), match.group("n")) if match else None


# -- shapes ------------------------------------------------------------------------------
MAX_KEY = 24  # a key longer than this is cut
MAX_KEYS = 8  # keys shown per object
MAX_DEPTH = 4


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _cut(key: Any) -> str:
    text = str(key)
    return text if len(text) <= MAX_KEY else text[:MAX_KEY] + "..."


def _shape(value: Any, depth: int) -> Any:
    if isinstance(value, Mapping):
        if depth >= MAX_DEPTH:
            return f"{{{len(value)} keys}}"
        keys = list(value)
        out: dict[str, Any] = {_cut(k): _shape(value[k], depth + 1) for k in keys[:MAX_KEYS]}
        if len(keys) > MAX_KEYS:
            out["..."] = f"{len(keys) - MAX_KEYS} more keys"
        return out
    if isinstance(value, list):
        if not value:
            return []
        if depth >= MAX_DEPTH:
            return f"[{len(value)} items]"
        first = _shape(value[0], depth + 1)
        return [first, f"... {len(value) - 1} more"] if len(value) > 1 else [first]
    if isinstance(value, str):
        return f"<string of {len(value)}>"
    if isinstance(value, bool) or value is None:
        return "<bool>" if isinstance(value, bool) else None
    if isinstance(value, (int, float)):
        return "<number>"
    return f"<{type(value).__name__}>"


def describe_shape(value: Any) -> str:
    """The shape of a decoded JSON answer, as compact JSON holding none of its values:
    keys (cut past 24 characters, 8 per object), then strings, numbers and bools by
    kind, lists by their first item and length."""
    return json.dumps(_shape(value, 0), ensure_ascii=False, separators=(", ", ": "))
