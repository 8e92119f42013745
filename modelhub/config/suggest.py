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


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """The optimal string alignment distance: insertions, deletions, substitutions and
    swaps of neighbours, each one edit. With `limit`, any distance past it comes back as
    `limit + 1`, found from the cells within `limit` of the diagonal only."""
    if limit is None:
        limit = max(len(a), len(b))
    elif abs(len(a) - len(b)) > limit:
        return limit + 1
    over = limit + 1  # stands for any value past the limit
    prev2: list[int] = []
    prev = [j if j <= limit else over for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        row = [over] * (len(b) + 1)
        if i <= limit:
            row[0] = i
        lowest = row[0]
        for j in range(max(1, i - limit), min(len(b), i + limit) + 1):
            cb = b[j - 1]
            cost = prev[j - 1] + (ca != cb)
            if prev[j] + 1 < cost:
                cost = prev[j] + 1
            if row[j - 1] + 1 < cost:
                cost = row[j - 1] + 1
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb and prev2[j - 2] + 1 < cost:
                cost = prev2[j - 2] + 1
            row[j] = cost if cost < over else over
            if cost < lowest:
                lowest = cost
        # Past the limit for good: no cell of this row (nor, through a swap, of the one
        # before) can lead back under it.
        if lowest > limit and min(prev) >= limit:
            return over
        prev2, prev = prev, row
    return prev[-1]


def misspelling_of(word: str, known: Iterable[str]) -> str | None:
    """The known name `word` is a near miss of (case, `-` for `_`, or a small edit
    away), or None when it is one of them or far from all."""
    names: frozenset[str] | set[str] | list[str] = \
        known if isinstance(known, (set, frozenset)) else list(known)
    if word in names:
        return None
    folded = word.lower().replace("-", "_")
    allowed = 0 if len(folded) <= 3 else 1 if len(folded) <= 5 else 2
    best: tuple[int, str] | None = None
    for name in sorted(names):
        lowered = name.lower()
        if folded == lowered:
            return name
        if not allowed or abs(len(lowered) - len(folded)) > allowed:
            continue
        distance = edit_distance(folded, lowered, allowed)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, name)
    return best[1] if best else None
