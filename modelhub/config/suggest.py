"""Suggesting what was meant: the one "did you mean" helper of modelhub."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["closest", "did_you_mean"]


def closest(word: str, choices: Iterable[str], *, n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The choices closest in spelling to `word`, best first."""
    import difflib

    return difflib.get_close_matches(word, list(choices), n=n, cutoff=cutoff)


def did_you_mean(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str:
    """`"; did you mean 'x'?"` for the closest choice, or '' when none is close."""
    found = closest(word, choices, cutoff=cutoff)
    return f"; did you mean {found[0]!r}?" if found else ""
