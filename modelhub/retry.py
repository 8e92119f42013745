"""Retrying a call on transient failures: 429 (honouring Retry-After), 5xx, timeouts,
connection errors. Exponential backoff with jitter, bounded in count and delay."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from modelhub.errors import (
    ModelConnectionError,
    ModelhubError,
    ModelTimeoutError,
    RateLimitError,
    ServerError,
)

__all__ = ["RetryPolicy", "is_retryable"]

T = TypeVar("T")

RETRYABLE: tuple[type[ModelhubError], ...] = (
    RateLimitError, ServerError, ModelTimeoutError, ModelConnectionError)


def is_retryable(error: BaseException) -> bool:
    """Whether a failed call may succeed if made again."""
    return isinstance(error, RETRYABLE)


class RetryPolicy:
    """How often and how long to wait between attempts of one call."""

    __slots__ = ("base_delay", "label", "max_delay", "max_retries")

    def __init__(self, max_retries: int = 2, *, base_delay: float = 0.5,
                 max_delay: float = 30.0, label: str = "") -> None:
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.label = label

    def delay(self, attempt: int, error: BaseException) -> float | None:
        """Seconds to wait before retry number `attempt` (1-based), or None: give up."""
        if attempt > self.max_retries or not is_retryable(error):
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            # A server asking for longer than we would wait at most: give up now
            # rather than block the caller for minutes.
            return float(retry_after) if retry_after <= self.max_delay else None
        backoff: float = min(self.base_delay * 2 ** (attempt - 1), self.max_delay)
        return backoff * (0.75 + random.random() / 2)

    def _log(self, attempt: int, error: BaseException, wait: float) -> None:
        import logging

        logging.getLogger("modelhub").info(
            "%s: %s; retry %d/%d in %.2fs", self.label or "model call",
            type(error).__name__, attempt, self.max_retries, wait)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn`, retrying transient failures."""
        attempt = 0
        while True:
            try:
                return fn()
            except ModelhubError as error:
                attempt += 1
                wait = self.delay(attempt, error)
                if wait is None:
                    raise
                self._log(attempt, error, wait)
                time.sleep(wait)

    async def acall(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await `fn()`, retrying transient failures."""
        attempt = 0
        while True:
            try:
                return await fn()
            except ModelhubError as error:
                attempt += 1
                wait = self.delay(attempt, error)
                if wait is None:
                    raise
                self._log(attempt, error, wait)
                import asyncio

                await asyncio.sleep(wait)
