"""Suggesting what was meant: the "did you mean" helpers of modelhub."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["closest", "did_you_mean", "edit_distance", "misspelling_of"]


def closest(word: str, choices: Iterable[str], *, n: int = 1, cutoff: float = 0.6) -> list[str]:
    """The choices closest in spelling to `word`, best first."""
    import difflib

    return difflib.get_close_matches(word, list(choices), n=n, cutoff=cutoff)


def did_you_mean(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str:
    """`"; did you mean 'x'?"` for the closest choice, or '' when none is close."""
    found = closest(word, choices, cutoff=cutoff)
    return f"; did you mean {found[0]!r}?" if found else ""


def edit_distance(a: str, b: str) -> int:
    """The optimal string alignment distance: insertions, deletions, substitutions and
    swaps of neighbours, each one edit."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def misspelling_of(word: str, known: Iterable[str]) -> str | None:
    """The known name `word` is a near miss of (case, `-` for `_`, or a small edit
    away), or None when it is one of them or far from all."""
    known = list(known)
    if word in known:
        return None
    folded = word.lower().replace("-", "_")
    allowed = 0 if len(folded) <= 3 else 1 if len(folded) <= 5 else 2
    best: tuple[int, str] | None = None
    for name in known:
        if folded == name.lower():
            return name
        distance = edit_distance(folded, name.lower())
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, name)
    return best[1] if best else None
