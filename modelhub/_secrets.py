"""Keeping secrets out of every surface: reprs, logs, errors, exports."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "**********"

# Keys whose values are treated as secrets wherever they appear in a config,
# e.g. inside `client_args` or `headers`.
_SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|authorization|credential)",
                         re.IGNORECASE)


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (api_key, Authorization, token, ...)."""
    return bool(_SECRET_KEY.search(key))


def mask_secrets(value: Any) -> Any:
    """A copy of `value` with every secret replaced by a mask.

    SecretStr values and the values of secret-named keys are masked, at any depth.
    """
    from pydantic import SecretBytes, SecretStr

    if isinstance(value, (SecretStr, SecretBytes)):
        return MASK
    if isinstance(value, Mapping):
        return {
            k: (MASK if isinstance(k, str) and is_secret_key(k) and v not in (None, "")
                else mask_secrets(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [mask_secrets(v) for v in value]
    return value


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every occurrence of each secret (4+ characters) masked."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_any(value: Any, secrets: Iterable[str | None]) -> Any:
    """Like `redact`, through the strings of a decoded JSON value, keys included."""
    from modelhub._json import map_leaves

    found = [s for s in secrets if s and len(s) >= 4]
    if not found:
        return value

    def one(item: Any, path: Any = ()) -> Any:
        return redact(item, found) if isinstance(item, str) else item

    return map_leaves(value, one, key=one)
