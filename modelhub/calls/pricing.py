"""What a call cost: a config's `pricing` block, else the bundled table of well-known
models (`prices.json`, read once, on first use; never fetched), found by the config's
model name. A name is looked up as it is, without a provider prefix
(`openai/gpt-4o`, `models/gemini-2.0-flash`), and without a date or version suffix
(`gpt-4o-2024-08-06`, `claude-3-5-sonnet-20241022`, `gemini-1.5-flash-002`,
`qwen-max-latest`)."""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelhub.config.schema import ModelConfig
    from modelhub.response import Usage

__all__ = ["Price", "price_of", "table_price"]

_SUFFIX = re.compile(
    r"-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest|preview(?:-[\w.-]+)?|v\d+(?::\d+)?)$")
_lock = threading.Lock()
_table: dict[str, tuple[float, float]] = {}


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million input and output tokens, and per successful call."""

    input: float = 0.0
    output: float = 0.0
    per_call: float = 0.0

    def cost(self, usage: Usage | None, *, succeeded: bool = True) -> float:
        """What a call with these token counts cost."""
        tokens = 0.0
        if usage is not None:
            tokens = (usage.input_tokens * self.input + usage.output_tokens * self.output) / 1e6
        return tokens + (self.per_call if succeeded else 0.0)

    def estimate(self, input_tokens: int, output_tokens: int) -> float:
        """What a call of about this many tokens would cost."""
        return (input_tokens * self.input + output_tokens * self.output) / 1e6 + self.per_call


def _load() -> dict[str, tuple[float, float]]:
    if not _table:
        with _lock:
            if not _table:
                import json
                from importlib import resources

                text = resources.files("modelhub.calls").joinpath("prices.json").read_text(
                    encoding="utf-8")
                _table.update({name.lower(): (float(i), float(o))
                               for name, (i, o) in json.loads(text)["models"].items()})
    return _table


@functools.lru_cache(maxsize=512)
def table_price(model_name: str) -> Price | None:
    """The bundled list price of a model by its name, or None when it is not known."""
    table = _load()
    name = model_name.strip().lower()
    candidates = [name, name.rsplit("/", 1)[-1]]
    for candidate in candidates:
        while True:
            found = table.get(candidate)
            if found is not None:
                return Price(*found)
            shorter = _SUFFIX.sub("", candidate)
            if shorter == candidate:
                break
            candidate = shorter
    return None


def price_of(config: ModelConfig) -> Price | None:
    """A config's price: its `pricing` block, else the table's, else None."""
    pricing = config.pricing
    if pricing is not None:
        return Price(pricing.input, pricing.output, pricing.per_call)
    return table_price(config.model_name or config.config_name)
