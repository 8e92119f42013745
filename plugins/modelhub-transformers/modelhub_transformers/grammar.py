"""Decoding constrained to a JSON schema, with llguidance.

At each step the logits of every token that would break the schema are set to -inf,
so whatever the model (a 135M one, or random weights), the answer is JSON that
validates. llguidance computes the allowed tokens from the tokenizer's vocabulary in
Rust (tens of microseconds a token), has no dependencies of its own and needs no GPU;
the mask is applied here with plain torch operations (its own helper compiles a kernel
with torch.compile, which on a CPU costs seconds the first time).
"""

from __future__ import annotations

import json
from typing import Any

import torch
from transformers import LogitsProcessor

__all__ = ["SchemaLogitsProcessor", "closed_objects", "grammar_tokenizer"]

# Compact JSON, no free whitespace: a weak model cannot wander off into blank space.
_JSON_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


def closed_objects(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with `additionalProperties: false` on every object schema that lists its
    properties and says nothing of others (what OpenAI's strict mode means)."""
    closed: dict[str, Any] = _closed(schema)
    return closed


def _closed(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _closed(value) for key, value in schema.items()}
    if "properties" in out and "additionalProperties" not in out \
            and out.get("type", "object") == "object":
        out["additionalProperties"] = False
    return out


def grammar_tokenizer(tokenizer: Any, eos_ids: list[int]) -> Any:
    """llguidance's view of a Hugging Face fast tokenizer (built once per model)."""
    import llguidance.hf

    return llguidance.hf.from_tokenizer(tokenizer, eos_token=eos_ids or None)


class SchemaLogitsProcessor(LogitsProcessor):  # type: ignore[misc]
    """Masks every token that would make the answer leave `schema`."""

    def __init__(self, ll_tokenizer: Any, schema: dict[str, Any], prompt_length: int) -> None:
        import llguidance

        grammar = llguidance.LLMatcher.grammar_from_json_schema(
            json.dumps(schema), overrides=_JSON_OPTIONS)
        self._matcher = llguidance.LLMatcher(ll_tokenizer, grammar, log_level=0)
        if self._matcher.is_error():
            raise ValueError(f"the JSON schema cannot be enforced: {self._matcher.get_error()}")
        self._vocab = ll_tokenizer.vocab_size
        self._words = (self._vocab + 31) // 32
        self._seen = prompt_length  # tokens of the sequence the matcher has consumed
        self._shifts = torch.arange(32, dtype=torch.int32)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """The scores of the next token with the disallowed ones at -inf."""
        for token in input_ids[0, self._seen:].tolist():
            if not self._matcher.consume_token(token):
                raise ValueError(f"constrained decoding failed: {self._matcher.get_error()}")
        self._seen = input_ids.shape[1]
        bitmask = torch.empty((1, self._words), dtype=torch.int32)
        self._matcher.unsafe_compute_mask_ptr(bitmask.data_ptr(), bitmask.numel() * 4)
        allowed = ((bitmask[0].unsqueeze(1) >> self._shifts) & 1).flatten().bool()
        mask = torch.zeros(scores.shape[-1], dtype=torch.bool)
        width = min(self._vocab, scores.shape[-1])
        mask[:width] = allowed[:width]
        return scores.masked_fill(~mask.to(scores.device), float("-inf"))
