"""Per-config totals of one registry (calls, errors, tokens, latency, cost) and the
budgets kept against them: a call reserves its worst case before it is sent (its input
as reckoned, and the most output it may get: the `max_tokens` it names, else what the
budget has left, up to `OUTPUT_CAP`, which it is then limited to), and a call that
would take its config past its budget, counting what calls in flight hold, is refused
with `BudgetExceededError`. So calls together pass a budget only by the error of their
input estimates."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from modelhub.errors import BudgetExceededError

if TYPE_CHECKING:
    from modelhub.calls.pricing import Price
    from modelhub.config.schema import Budget

__all__ = ["Ledger", "Reservation", "UsageTotals"]


@dataclass(slots=True)
class UsageTotals:
    """What one config's calls came to. `calls` counts every call of the config (those
    refused by its budget and those that failed included), `errors` those that failed;
    `latency` is the seconds they took together; `cost` is in USD, None while no price
    is known for the config's model (see `pricing`)."""

    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency: float = 0.0
    cost: float | None = None
    _reserved_tokens: int = field(default=0, repr=False, compare=False)
    _reserved_usd: float = field(default=0.0, repr=False, compare=False)

    @property
    def total_tokens(self) -> int:
        """Input and output tokens together."""
        return self.input_tokens + self.output_tokens

    @property
    def mean_latency(self) -> float:
        """Seconds per call, on average (0 before any call)."""
        return self.latency / self.calls if self.calls else 0.0

    def __add__(self, other: UsageTotals) -> UsageTotals:
        """Two configs' totals together (for a grand total)."""
        cost = None if self.cost is None and other.cost is None \
            else (self.cost or 0.0) + (other.cost or 0.0)
        return UsageTotals(self.calls + other.calls, self.errors + other.errors,
                           self.input_tokens + other.input_tokens,
                           self.output_tokens + other.output_tokens,
                           self.latency + other.latency, cost)


@dataclass(frozen=True, slots=True)
class Reservation:
    """What one call in flight holds of its config's budget."""

    config_name: str
    tokens: int = 0
    usd: float = 0.0


def _money(value: float) -> str:
    return f"${value:.4f}" if value < 100 else f"${value:,.2f}"


class Ledger:
    """The totals of every config a registry has called (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[str, UsageTotals] = {}

    def reserve(self, config_name: str, budget: Budget | None, tokens: int,
                usd: float | None) -> Reservation:
        """Hold `tokens` (and `usd`, None: no price known) of a config's budget for a
        call about to be made; raise BudgetExceededError if they do not fit."""
        with self._lock:
            totals = self._totals.get(config_name)
            if totals is None:
                totals = self._totals[config_name] = UsageTotals()
            if budget is not None:
                self._check(config_name, budget, totals, tokens, usd)
            totals._reserved_tokens += tokens
            totals._reserved_usd += usd or 0.0
        return Reservation(config_name, tokens, usd or 0.0)

    def reserve_fitting(self, config_name: str, budget: Budget, input_tokens: int,
                        most: int, price: Price | None, choices: int = 1
                        ) -> tuple[Reservation, int]:
        """Hold the worst case of a call that names no output limit: its input and as
        many output tokens as the budget has left (tokens, and USD at `price`), at most
        `most`, for each of its `choices` answers. Returns the hold and that many
        output tokens, which each answer is then limited to; raises
        BudgetExceededError when not one fits."""
        with self._lock:
            totals = self._totals.get(config_name)
            if totals is None:
                totals = self._totals[config_name] = UsageTotals()
            fits = most
            if budget.tokens is not None:
                spent = totals.total_tokens + totals._reserved_tokens
                fits = min(fits, (budget.tokens - spent - input_tokens) // choices)
            usd_counted = budget.usd is not None and price is not None
            if usd_counted and price is not None and budget.usd is not None \
                    and price.output > 0:
                left = budget.usd - (totals.cost or 0.0) - totals._reserved_usd \
                    - price.estimate(input_tokens, 0)
                fits = min(fits, math.floor(left * 1e6 / price.output) // choices)
            if fits < 1:
                usd = price.estimate(input_tokens, choices) if usd_counted and price else None
                self._check(config_name, budget, totals, input_tokens + choices, usd)
                fits = 1  # rounding let one token each through: it fits
            out = fits * choices
            usd = price.estimate(input_tokens, out) if usd_counted and price else None
            self._check(config_name, budget, totals, input_tokens + out, usd)
            totals._reserved_tokens += input_tokens + out
            totals._reserved_usd += usd or 0.0
        return Reservation(config_name, input_tokens + out, usd or 0.0), fits

    @staticmethod
    def _check(config_name: str, budget: Budget, totals: UsageTotals, tokens: int,
               usd: float | None) -> None:
        if budget.tokens is not None:
            spent = totals.total_tokens + totals._reserved_tokens
            if spent >= budget.tokens or spent + tokens > budget.tokens:
                raise BudgetExceededError(
                    f"config {config_name!r}: this call (about {tokens:,} tokens) would take "
                    f"it past its budget of {budget.tokens:,} tokens ({spent:,} used or "
                    "held by calls in flight)", config_name=config_name,
                    budget=budget.tokens, spent=spent, estimate=tokens, unit="tokens")
        if budget.usd is not None and usd is not None:
            spent_usd = (totals.cost or 0.0) + totals._reserved_usd
            if spent_usd >= budget.usd or spent_usd + usd > budget.usd:
                raise BudgetExceededError(
                    f"config {config_name!r}: this call (about {_money(usd)}) would take it "
                    f"past its budget of {_money(budget.usd)} ({_money(spent_usd)} spent or "
                    "held by calls in flight)", config_name=config_name, budget=budget.usd,
                    spent=spent_usd, estimate=usd, unit="usd")

    def settle(self, reservation: Reservation | None, config_name: str, *, failed: bool,
               input_tokens: int, output_tokens: int, latency: float,
               cost: float | None) -> None:
        """Count one finished call and release what it held."""
        with self._lock:
            totals = self._totals.get(config_name)
            if totals is None:
                totals = self._totals[config_name] = UsageTotals()
            if reservation is not None:
                totals._reserved_tokens -= reservation.tokens
                totals._reserved_usd -= reservation.usd
            totals.calls += 1
            totals.errors += failed
            totals.input_tokens += input_tokens
            totals.output_tokens += output_tokens
            totals.latency += latency
            if cost is not None:
                totals.cost = (totals.cost or 0.0) + cost

    def snapshot(self, config_name: str | None = None) -> dict[str, UsageTotals]:
        """A copy of the totals: of every config called, or of one."""
        with self._lock:
            items = self._totals.items() if config_name is None else \
                [(config_name, self._totals.get(config_name, UsageTotals()))]
            return {name: replace(t, _reserved_tokens=0, _reserved_usd=0.0)
                    for name, t in items if t.calls or config_name is not None}

    def reset(self, config_name: str | None = None) -> None:
        """Forget the totals (of one config, or all); calls in flight keep their hold."""
        with self._lock:
            names = list(self._totals) if config_name is None else [config_name]
            for name in names:
                held = self._totals.get(name)
                if held is not None:
                    self._totals[name] = UsageTotals(_reserved_tokens=held._reserved_tokens,
                                                     _reserved_usd=held._reserved_usd)
