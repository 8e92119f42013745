"""Reckoning a call's tokens before it is made, for budgets and `tpm` limits: the input
by its characters (about four to a token in alphabetic scripts, one per CJK character),
the output by the most the call asks for (`max_tokens` and its spellings), else none
(a call on a config with a budget is then given a limit: see `modelhub.calls.ledger`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["OUTPUT_CAP", "choices", "input_tokens", "output_tokens", "text_tokens"]

# The spellings of "at most this many output tokens" across providers.
_MAX_OUTPUT = ("max_tokens", "max_completion_tokens", "max_output_tokens", "max_new_tokens",
               "num_predict", "max_length")
# The spellings of "this many answers".
_CHOICES = ("n", "candidate_count")
# Mappings of generation arguments a provider takes them in (Ollama's `options`,
# google-generativeai's `generation_config`, TGI's `parameters`).
_NESTED = ("options", "generation_config", "parameters")
# The most output tokens a call on a config with a budget is given when it names none
# (and its wrapper can bound its answer): about every current model's output allows it.
OUTPUT_CAP = 4096
# Tokens a chat message costs besides its text (role, separators).
_PER_MESSAGE = 4


def text_tokens(text: str) -> int:
    """About how many tokens `text` is."""
    if not text:
        return 0
    wide = sum(1 for ch in text if ord(ch) >= 0x2E80)  # CJK and beyond: ~1 token each
    return wide + -(-(len(text) - wide) // 4)


def input_tokens(value: Any) -> int:
    """About how many tokens a call's input is: chat messages, a list of texts or one."""
    if isinstance(value, str):
        return text_tokens(value)
    if isinstance(value, Mapping):
        if "role" in value:
            return _PER_MESSAGE + input_tokens(value.get("content")) \
                + input_tokens(value.get("tool_calls"))
        import json

        return text_tokens(json.dumps(value, ensure_ascii=False, default=str))
    if isinstance(value, (list, tuple)):
        total = 0
        for item in value:
            if isinstance(item, Mapping) and item.get("type") == "text":
                total += text_tokens(str(item.get("text", "")))
            elif isinstance(item, Mapping) and "type" in item and "role" not in item:
                continue  # an image or audio part: not counted
            else:
                total += input_tokens(item)
        return total
    if value is None:
        return 0
    return text_tokens(str(value))


def choices(params: Mapping[str, Any]) -> int:
    """How many answers a call asks for (`n`, Gemini's `candidate_count`): each may be
    as long as the output limit."""
    nested = [params.get(key) for key in _NESTED]
    for source in (params, *(n for n in nested if isinstance(n, Mapping))):
        for key in _CHOICES:
            value = source.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 1:
                return value
    return 1


def output_tokens(params: Mapping[str, Any]) -> int:
    """The most output tokens a call asks for, all its answers together (0 when it
    does not say)."""
    nested = [params.get(key) for key in _NESTED]
    for source in (params, *(n for n in nested if isinstance(n, Mapping))):
        for key in _MAX_OUTPUT:
            value = source.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value * choices(params)
    return 0
