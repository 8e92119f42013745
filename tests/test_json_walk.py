"""The one walker of nested values: copies, depth limit, cycles."""

from __future__ import annotations

from typing import Any

import pytest

from modelhub._json import MAX_DEPTH, NestingError, map_dicts, map_leaves


def test_map_leaves_copies_with_paths_and_keys() -> None:
    value = {"a": [1, {"b": "x"}], "c": ("t",)}
    seen: list[tuple[Any, ...]] = []
    out = map_leaves(value, lambda item, path: seen.append(path) or str(item).upper(),
                     key=str.upper)
    assert out == {"A": ["1", {"B": "X"}], "C": ["T"]}
    assert seen == [("a", 0), ("a", 1, "b"), ("c", 0)]
    assert value == {"a": [1, {"b": "x"}], "c": ("t",)}  # the input is untouched


def test_map_dicts_works_bottom_up() -> None:
    order: list[str] = []

    def fn(node: dict[str, Any]) -> dict[str, Any]:
        order.append(",".join(node))
        return {**node, "seen": True}

    assert map_dicts({"outer": {"inner": 1}}, fn) == {"outer": {"inner": 1, "seen": True},
                                                       "seen": True}
    assert order == ["inner", "outer"]


def test_a_value_that_contains_itself_is_reported() -> None:
    loop: dict[str, Any] = {"a": 1}
    loop["self"] = {"again": loop}
    with pytest.raises(NestingError, match="contains itself") as info:
        map_leaves(loop, lambda item, path: item)
    assert info.value.path == ("self", "again")
    shared = [1]
    assert map_leaves({"x": shared, "y": shared}, lambda i, p: i) == {"x": [1], "y": [1]}


def test_depth_is_bounded() -> None:
    deep: Any = "leaf"
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(NestingError, match="levels deep"):
        map_leaves(deep, lambda item, path: item)
    with pytest.raises(NestingError):
        map_dicts(deep, lambda node: node)
