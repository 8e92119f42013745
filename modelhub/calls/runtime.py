"""What one registry keeps for the calls of its configs: hooks, usage totals and
budgets (`Ledger`), the rate limiter and price of each config, the invocation log files
and the OpenTelemetry tracer provider (None: the global one)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from modelhub.calls.hooks import Hooks
from modelhub.calls.ledger import Ledger

if TYPE_CHECKING:
    from modelhub.calls.calllog import LogStore
    from modelhub.calls.pricing import Price
    from modelhub.calls.ratelimit import RateLimiter
    from modelhub.config.schema import ModelConfig

__all__ = ["CallRuntime", "ConfigState"]

_UNSET: Any = object()


class ConfigState:
    """What the calls of one config share: its rate limiter, price and log file."""

    __slots__ = ("_price", "config", "limiter", "log", "secrets")

    def __init__(self, config: ModelConfig, limiter: RateLimiter | None,
                 log: LogStore | None) -> None:
        self.config = config
        self.limiter = limiter
        self.log = log
        secret_values = getattr(config, "secret_values", None)
        self.secrets: tuple[str, ...] = tuple(secret_values()) if secret_values else ()
        self._price: Price | None = _UNSET

    @property
    def price(self) -> Price | None:
        """The config's price (looked up on first use; None: not known)."""
        if self._price is _UNSET:
            from modelhub.calls.pricing import price_of

            self._price = price_of(self.config)
        return self._price


class CallRuntime:
    """The call-time state of one registry (thread-safe)."""

    def __init__(self) -> None:
        self.hooks = Hooks()
        self.ledger = Ledger()
        self.tracer_provider: Any = None
        self._lock = threading.Lock()
        self._states: dict[str, ConfigState] = {}
        self._logs: dict[str, LogStore] = {}

    def state(self, config: ModelConfig) -> ConfigState:
        """The shared state of a config's calls (made again when the config is
        reloaded: a new limit, price or log file applies at once)."""
        state = self._states.get(config.config_name)
        if state is not None and state.config is config:
            return state
        with self._lock:
            state = self._states.get(config.config_name)
            if state is None or state.config is not config:
                state = ConfigState(config, self._limiter(state, config), self._log(config))
                self._states[config.config_name] = state
            return state

    @staticmethod
    def _limiter(old: ConfigState | None, config: ModelConfig) -> RateLimiter | None:
        if config.rpm is None and config.tpm is None:
            return None
        if old is not None and old.limiter is not None \
                and old.limiter.same_limits(config.rpm, config.tpm):
            return old.limiter  # the same limits: the window goes on
        from modelhub.calls.ratelimit import RateLimiter

        return RateLimiter(config.rpm, config.tpm)

    def _log(self, config: ModelConfig) -> LogStore | None:
        if not config.log:
            return None
        import os

        path = os.path.realpath(os.path.expanduser(config.log))
        store = self._logs.get(path)
        if store is None:
            from modelhub.calls.calllog import LogStore

            store = self._logs[path] = LogStore(path)
        return store

    def close(self) -> None:
        """Close the log files (they open again on the next write)."""
        with self._lock:
            stores = list(self._logs.values())
        for store in stores:
            store.close()
