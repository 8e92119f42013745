"""Fallbacks: the configs a call moves on to when it still fails after its retries.

A config's `fallbacks` are tried in order, each with its own retries, limits and
budget; a fallback's own fallbacks follow it (depth first, each config once). A call
moves on only for an error of a class the config names in `fallback_on` (default:
rate limits, server errors, timeouts, connection errors and context-length errors).
`init()` refuses a fallback that names no loaded config, and a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from modelhub.errors import (
    AuthenticationError,
    BudgetExceededError,
    ConfigIssue,
    ContextLengthError,
    ModelAPIError,
    ModelConnectionError,
    ModelTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)

if TYPE_CHECKING:
    from modelhub.config.schema import ModelConfig
    from modelhub.registry import ConfigEntry

__all__ = ["DEFAULT_ON", "chain", "check", "error_class", "falls_back"]

DEFAULT_ON = ("rate_limit", "server_error", "timeout", "connection", "context_length")


def error_class(error: BaseException) -> str | None:
    """The fallback class of an error (`fallback_on` names these), or None."""
    if isinstance(error, RateLimitError):
        return "rate_limit"
    if isinstance(error, ServerError):
        return "server_error"
    if isinstance(error, ContextLengthError):
        return "context_length"
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return "auth"
    if isinstance(error, NotFoundError):
        return "not_found"
    if isinstance(error, ModelTimeoutError):
        return "timeout"
    if isinstance(error, ModelConnectionError):
        return "connection"
    if isinstance(error, BudgetExceededError):
        return "budget"
    if isinstance(error, ModelAPIError):
        # 408 Request Timeout and 409 Conflict: retried, and moved on like their kin.
        return {408: "timeout", 409: "server_error"}.get(error.status_code or 0)
    return None


def falls_back(config: ModelConfig, error: BaseException) -> bool:
    """Whether a call of `config` that failed with `error` moves on to its fallbacks."""
    kind = error_class(error)
    return kind is not None and kind in (config.fallback_on or DEFAULT_ON)


def chain(name: str, fallbacks_of: Callable[[str], list[str]]) -> list[str]:
    """The configs a call of `name` may try, in order: itself, then each fallback
    followed by its own (each config once)."""
    order: list[str] = []

    def visit(current: str) -> None:
        if current in order:
            return
        order.append(current)
        for nxt in fallbacks_of(current):
            visit(nxt)

    visit(name)
    return order


def check(loaded: Mapping[str, ConfigEntry], new: Mapping[str, ConfigEntry]
          ) -> list[ConfigIssue]:
    """The fallback problems of the configs in `new` within the table `loaded` (which
    holds them): names that are not loaded, and cycles."""
    issues: list[ConfigIssue] = []

    def issue(entry: ConfigEntry, index: int, message: str) -> ConfigIssue:
        loc = entry.location
        return ConfigIssue(message, config_name=entry.config_name, field="fallbacks",
                           path=loc.path if loc else None,
                           line=loc.line_of(("fallbacks", index)) if loc else None)

    for name, entry in new.items():
        for index, target in enumerate(entry.config.fallbacks):
            if target not in loaded:
                from modelhub.config.suggest import closest

                near = closest(target, list(loaded), n=1, cutoff=0.6)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                issues.append(issue(entry, index,
                                    f"fallback {target!r} is not a loaded config{hint}"))
                continue
            path = _path_back(target, name, loaded)
            if path is not None:
                cycle = " -> ".join([name, *path])
                issues.append(issue(entry, index, f"fallback cycle: {cycle}"))
    return issues


def _path_back(start: str, goal: str, loaded: Mapping[str, ConfigEntry]) -> list[str] | None:
    """A path of fallbacks from `start` to `goal` (both included), or None."""
    seen: set[str] = set()
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    while stack:
        current, path = stack.pop()
        if current == goal:
            return path
        if current in seen or current not in loaded:
            continue
        seen.add(current)
        stack.extend((nxt, [*path, nxt]) for nxt in loaded[current].config.fallbacks)
    return None
