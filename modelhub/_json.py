"""Walking nested JSON-like values (dicts, lists, tuples, scalars): the one walker of
modelhub, so that depth limits and cycle checks live in one place.

`map_leaves` copies a value with every leaf (and, optionally, every key) replaced;
`map_dicts` copies it bottom-up, handing each rebuilt dict to a function. Both raise
`NestingError` for a value nested deeper than `MAX_DEPTH`, one that contains itself,
or one that would copy to more than `MAX_VALUES` values (a structure that shares its
parts many times over, as a YAML alias bomb does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_VALUES", "NestingError", "Path", "map_dicts", "map_leaves"]

MAX_DEPTH = 64
MAX_VALUES = 100_000
Path = tuple[str | int, ...]


class NestingError(ValueError):
    """A value nested deeper than MAX_DEPTH, or one that contains itself."""

    def __init__(self, message: str, path: Path) -> None:
        self.path = path
        super().__init__(message)


class _Walk:
    """What one walk has entered: the containers open on the way down, and a count."""

    __slots__ = ("count", "open_ids")

    def __init__(self) -> None:
        self.open_ids: set[int] = set()
        self.count = 0

    def enter(self, item: Any, path: Path) -> int:
        if id(item) in self.open_ids:
            raise NestingError("the value contains itself", path)
        if len(path) >= MAX_DEPTH:
            raise NestingError(f"nested more than {MAX_DEPTH} levels deep", path)
        self.count += len(item)
        if self.count > MAX_VALUES:
            raise NestingError(f"more than {MAX_VALUES:,} values (parts shared many times "
                               "over, as YAML aliases can be, count each time)", path)
        self.open_ids.add(id(item))
        return id(item)


# Leaves of the kinds JSON and YAML give, told apart without an (slower) ABC check.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def map_leaves(value: Any, leaf: Callable[[Any, Path], Any],
               key: Callable[[Any], Any] | None = None) -> Any:
    """A copy of `value` with `leaf(item, path)` in place of each non-container item,
    and `key(k)` in place of each mapping key when given. Tuples become lists."""
    state = _Walk()

    def walk(item: Any, path: Path) -> Any:
        if type(item) in _SCALARS:
            return leaf(item, path)
        if isinstance(item, Mapping):
            ident = state.enter(item, path)
            out = {(key(k) if key else k): walk(v, (*path, k)) for k, v in item.items()}
        elif isinstance(item, (list, tuple)):
            ident = state.enter(item, path)
            out = [walk(v, (*path, i)) for i, v in enumerate(item)]  # type: ignore[assignment]
        else:
            return leaf(item, path)
        state.open_ids.discard(ident)
        return out

    return walk(value, ())


def map_dicts(value: Any, fn: Callable[[dict[str, Any]], Any]) -> Any:
    """A copy of `value` rebuilt bottom-up: each dict, its items already mapped, is
    replaced by `fn(dict)`. Lists are copied; other items kept."""
    state = _Walk()

    def walk(item: Any, path: Path) -> Any:
        if isinstance(item, Mapping):
            ident = state.enter(item, path)
            out = fn({k: walk(v, (*path, k)) for k, v in item.items()})
        elif isinstance(item, list):
            ident = state.enter(item, path)
            out = [walk(v, (*path, i)) for i, v in enumerate(item)]
        else:
            return item
        state.open_ids.discard(ident)
        return out

    return walk(value, ())
