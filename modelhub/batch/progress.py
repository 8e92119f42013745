"""The progress bar of a batch job (tqdm, on stderr): lines done out of all, the rate,
the time left, and how many failed."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["Progress"]


class Progress:
    """Counts a job's lines; shows a bar when `enabled` (tqdm is imported only then)."""

    def __init__(self, total: int, done: int, *, desc: str, enabled: bool = True) -> None:
        self.failed = 0
        self.completed = 0
        self._bar: Any = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc=desc, unit="line",
                             file=sys.stderr, dynamic_ncols=True, smoothing=0.1)

    def advance(self, ok: bool, count: int = 1) -> None:
        """`count` more lines done (answered when `ok`, else failed)."""
        self.completed += count
        if not ok:
            self.failed += count
        if self._bar is not None:
            if not ok:
                self._bar.set_postfix(failed=self.failed, refresh=False)
            self._bar.update(count)

    def close(self) -> None:
        """Draw the bar a last time and leave it on screen."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
