"""What a call may say about itself besides what it asks the model: its own `timeout`
and `max_retries` (`model(messages, timeout=5, max_retries=0)`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["CALL_OPTIONS", "CallOptions"]

# The keyword arguments taken from a call before its generation arguments are read.
CALL_OPTIONS = ("timeout", "max_retries")


@dataclass(frozen=True, slots=True)
class CallOptions:
    """A call's own settings. `timeout_given` tells `timeout=None` (no limit) from no
    timeout given (the config's)."""

    timeout: float | None = None
    timeout_given: bool = False
    max_retries: int | None = None

    @classmethod
    def take(cls, kwargs: dict[str, Any]) -> CallOptions:
        """Remove the call options from a call's keyword arguments and check them."""
        if "timeout" not in kwargs and "max_retries" not in kwargs:
            return _NONE
        given = "timeout" in kwargs
        timeout = kwargs.pop("timeout", None)
        max_retries = kwargs.pop("max_retries", None)
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
                    or not math.isfinite(timeout) or timeout <= 0:
                raise ValueError("timeout must be a positive number of seconds, or None "
                                 "for no limit")
            timeout = float(timeout)
        if max_retries is not None and (isinstance(max_retries, bool)
                                        or not isinstance(max_retries, int)
                                        or not 0 <= max_retries <= 20):
            raise ValueError("max_retries must be an integer from 0 to 20")
        return cls(timeout, given, max_retries)


_NONE = CallOptions()
