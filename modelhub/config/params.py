"""Catching misspelled generation arguments.

Each config class declares in `known_params` the generation parameters its provider
knows. A key that is a near miss of one of them (`temprature`) is an error naming the
right spelling, in `generate_args` at load and in a call's keyword arguments; a key far
from every known name passes through untouched, for servers with parameters of their
own. A config's top-level key that is (or nearly is) a generation parameter gets
"did you mean generate_args.<name>?".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["misspelled_params"]


def misspelled_params(params: Mapping[str, Any], known: Iterable[str]) -> list[tuple[str, str]]:
    """(given, meant) for each key of `params` that is a near miss of a known name."""
    from modelhub.config.suggest import misspelling_of

    known = frozenset(known)
    if not known:
        return []
    found = []
    for key in params:
        meant = misspelling_of(key, known) if isinstance(key, str) else None
        if meant is not None:
            found.append((key, meant))
    return found
