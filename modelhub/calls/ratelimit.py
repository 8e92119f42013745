"""`rpm` and `tpm`: at most so many requests, and so many tokens, in any minute, for one
config across every thread and asyncio task of the process. A call that would go over
waits for room (a sync call sleeps; an async one awaits, never blocking its loop); it
never fails for it.

The window slides: the requests and tokens of the last 60 seconds are counted, so a
provider that counts by the minute, or by a window of its own, is never sent more than
the limit. A call's tokens are reckoned before it is sent (`modelhub.calls.estimate`)
and set right once its usage is known. A call reckoned at more tokens than `tpm` alone
waits for an empty window, then goes.
"""

from __future__ import annotations

import threading
import time
from collections import deque

__all__ = ["WINDOW", "RateLimiter", "Ticket"]

WINDOW = 60.0  # seconds (tests shorten it)

# A request's place in the token window: [when, tokens] (tokens set right later).
Ticket = list[float]


class RateLimiter:
    """A sliding-window limit on requests and tokens (either may be None: no limit)."""

    def __init__(self, rpm: int | None, tpm: int | None, window: float | None = None) -> None:
        self.rpm = rpm
        self.tpm = tpm
        self.window = WINDOW if window is None else window
        self._lock = threading.Lock()
        self._requests: deque[float] = deque()
        self._tokens: deque[Ticket] = deque()
        self._token_sum = 0.0

    def same_limits(self, rpm: int | None, tpm: int | None) -> bool:
        """Whether this limiter enforces these limits."""
        return (self.rpm, self.tpm) == (rpm, tpm)

    def _expire(self, now: float) -> None:
        cutoff = now - self.window
        requests, tokens = self._requests, self._tokens
        while requests and requests[0] <= cutoff:
            requests.popleft()
        while tokens and tokens[0][0] <= cutoff:
            self._token_sum -= tokens.popleft()[1]

    def _wait(self, now: float, tokens: int) -> float:
        """Seconds until a request of `tokens` fits (0: it fits now)."""
        self._expire(now)
        wait = 0.0
        rpm = self.rpm
        if rpm is not None and len(self._requests) >= rpm:
            wait = self._requests[len(self._requests) - rpm] + self.window - now
        tpm = self.tpm
        if tpm is not None and self._tokens and self._token_sum + tokens > tpm:
            # The earliest moment enough of the window has slid by.
            left = self._token_sum
            for when, used in self._tokens:
                left -= used
                if left + tokens <= tpm or left <= 0:
                    wait = max(wait, when + self.window - now)
                    break
        return wait

    def _try(self, tokens: int) -> tuple[Ticket | None, float]:
        with self._lock:
            now = time.monotonic()
            wait = self._wait(now, tokens)
            if wait > 0:
                return None, max(wait, 0.001)
            if self.rpm is not None:
                self._requests.append(now)
            ticket: Ticket = [now, float(tokens)]
            if self.tpm is not None:
                self._tokens.append(ticket)
                self._token_sum += tokens
            return ticket, 0.0

    def acquire(self, tokens: int = 0) -> Ticket:
        """Wait (sleeping) until a request of about `tokens` fits; count it."""
        while True:
            ticket, wait = self._try(tokens)
            if ticket is not None:
                return ticket
            time.sleep(wait)

    async def aacquire(self, tokens: int = 0) -> Ticket:
        """Async twin of `acquire`: awaits, never blocking the event loop."""
        import asyncio

        while True:
            ticket, wait = self._try(tokens)
            if ticket is not None:
                return ticket
            await asyncio.sleep(wait)

    def settle(self, ticket: Ticket, tokens: int) -> None:
        """Set a request's tokens to what it really used."""
        if self.tpm is None:
            return
        with self._lock:
            now = time.monotonic()
            self._expire(now)
            if ticket[0] > now - self.window:  # still counted in the window
                self._token_sum += tokens - ticket[1]
                ticket[1] = float(tokens)
