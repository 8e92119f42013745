"""Retrying a call on transient failures: 429 (honouring Retry-After), 408, 409, 5xx,
timeouts, connection errors. Exponential backoff with jitter, bounded in count and
delay; a server asking to wait longer than `max_retry_after` is not waited for (the
error goes up at once, so a fallback can take the call)."""

from __future__ import annotations

import contextlib
import contextvars
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from modelhub.errors import (
    ModelAPIError,
    ModelConnectionError,
    ModelhubError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
)

__all__ = ["RETRY_STATUSES", "CallRetries", "RetryPolicy", "call_retries", "is_retryable"]

T = TypeVar("T")

RETRYABLE: tuple[type[ModelhubError], ...] = (
    RateLimitError, ServerError, ModelTimeoutError, ModelConnectionError)
# Statuses retried besides 429 and 5xx: 408 Request Timeout, 409 Conflict (a lock or a
# concurrent update on the provider's side, which OpenAI and Anthropic ask to retry).
RETRY_STATUSES = frozenset({408, 409})


class CallRetries:
    """One call's own retry settings (`model(..., max_retries=N)`), and how many
    attempts it has made so far (every retried request of the call counted)."""

    __slots__ = ("attempts", "max_retries")

    def __init__(self, max_retries: int | None = None) -> None:
        self.max_retries = max_retries
        self.attempts = 0


_CALL: contextvars.ContextVar[CallRetries | None] = contextvars.ContextVar(
    "modelhub_call_retries", default=None)


class _CallScope:
    """The context manager `call_retries` returns."""

    __slots__ = ("_own", "_token")

    def __init__(self, max_retries: int | None) -> None:
        self._own = CallRetries(max_retries)
        self._token: contextvars.Token[CallRetries | None] | None = None

    def __enter__(self) -> CallRetries:
        self._token = _CALL.set(self._own)
        return self._own

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _CALL.reset(self._token)
            self._token = None


def call_retries(max_retries: int | None = None) -> contextlib.AbstractContextManager[CallRetries]:
    """Inside the block, every retry policy keeps to the call's own `max_retries`
    (None: the policy's own) and counts its attempts on the object yielded."""
    return _CallScope(max_retries)


def is_retryable(error: BaseException) -> bool:
    """Whether a failed call may succeed if made again."""
    if isinstance(error, RETRYABLE):
        return True
    return isinstance(error, ModelAPIError) and error.status_code in RETRY_STATUSES


class RetryPolicy:
    """How often and how long to wait between attempts of one call.

    `max_retries` retries after the first attempt; the n-th waits `base_delay * 2**(n-1)`
    seconds, times a random factor within `1 ± jitter`, at most `max_delay`. A
    `Retry-After` the server sends is honoured as it is when it is at most
    `max_retry_after` seconds; a longer one ends the retries.
    """

    __slots__ = ("base_delay", "jitter", "label", "max_delay", "max_retries",
                 "max_retry_after")

    def __init__(self, max_retries: int = 2, *, base_delay: float = 0.5,
                 max_delay: float = 30.0, jitter: float = 0.25,
                 max_retry_after: float | None = None, label: str = "") -> None:
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.jitter = jitter
        self.max_retry_after = max_delay if max_retry_after is None else max_retry_after
        self.label = label

    @property
    def attempts(self) -> int:
        """How many attempts a call may take in all (the first included)."""
        return self.max_retries + 1

    def with_max_retries(self, max_retries: int) -> RetryPolicy:
        """This policy with another number of retries (a call's own `max_retries`)."""
        return RetryPolicy(max_retries, base_delay=self.base_delay, max_delay=self.max_delay,
                           jitter=self.jitter, max_retry_after=self.max_retry_after,
                           label=self.label)

    def delay(self, attempt: int, error: BaseException,
              max_retries: int | None = None) -> float | None:
        """Seconds to wait before retry number `attempt` (1-based), or None: give up.
        `max_retries` replaces the policy's own (a call's own setting)."""
        limit = self.max_retries if max_retries is None else max_retries
        if attempt > limit or not is_retryable(error):
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            # A server asking for longer than we would wait at most: give up now
            # rather than block the caller for minutes.
            return float(retry_after) if retry_after <= self.max_retry_after else None
        backoff: float = self.base_delay * 2 ** (attempt - 1)
        factor = 1 + self.jitter * (2 * random.random() - 1)
        return min(backoff * factor, self.max_delay)

    def _log(self, attempt: int, error: BaseException, wait: float) -> None:
        import logging

        logging.getLogger("modelhub").info(
            "%s: %s; retry %d/%d in %.2fs", self.label or "model call",
            type(error).__name__, attempt, self.max_retries, wait)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn`, retrying transient failures."""
        own = _CALL.get()
        limit = own.max_retries if own is not None else None
        attempt = 0
        while True:
            if own is not None:
                own.attempts += 1
            try:
                return fn()
            except ModelhubError as error:
                attempt += 1
                wait = self.delay(attempt, error, limit)
                if wait is None:
                    raise
                self._log(attempt, error, wait)
                time.sleep(wait)

    async def acall(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await `fn()`, retrying transient failures."""
        own = _CALL.get()
        limit = own.max_retries if own is not None else None
        attempt = 0
        while True:
            if own is not None:
                own.attempts += 1
            try:
                return await fn()
            except ModelhubError as error:
                attempt += 1
                wait = self.delay(attempt, error, limit)
                if wait is None:
                    raise
                self._log(attempt, error, wait)
                import asyncio

                await asyncio.sleep(wait)

    def __repr__(self) -> str:
        return (f"RetryPolicy(max_retries={self.max_retries}, base_delay={self.base_delay}, "
                f"max_delay={self.max_delay}, jitter={self.jitter}, "
                f"max_retry_after={self.max_retry_after})")
