"""Receipts: digests of configs that validated, so a warm `init()` need not import a
wrapper module (and pydantic's model machinery) to validate them again.

A receipt is the SHA-256 of everything that decides whether a config is valid: the
config after `${VAR}` expansion (each secret replaced by the name of its type, so no
digest is derived from a key), the entry point behind its model_type with its
distribution and version, a stat fingerprint of the files of that plugin's package and
of modelhub's own, pydantic's version, and the distributions visible on `sys.path`. A
config whose receipt is known is validated in full when its wrapper is first built.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from modelhub import cache, plugins
from modelhub._secrets import is_secret_key

__all__ = ["Receipts"]

_CACHE_NAME = "receipts.json"
# The newest receipts kept; older ones are dropped when new ones are written.
MAX_RECEIPTS = 20_000


def _without_secrets(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: f"<secret {type(v).__name__}>" if isinstance(k, str) and is_secret_key(k)
                else _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


class Receipts:
    """The receipts known from earlier runs, with those this run adds or withdraws."""

    def __init__(self) -> None:
        self._known: dict[str, None] | None = None  # insertion-ordered: oldest first
        self._changed = False
        self._environment: str | None = None

    def _environment_key(self) -> str | None:
        """What every receipt of this run shares; None when the cache is off."""
        if self._environment is None and cache.cache_dir() is not None:
            from pydantic.version import VERSION

            self._environment = json.dumps(
                [cache.FORMAT, VERSION, cache.tree_fingerprint("modelhub"),
                 cache.path_fingerprint()], separators=(",", ":"))
        return self._environment

    def digest(self, model_type: str, data: Mapping[str, Any]) -> str | None:
        """The receipt of a config (expanded), or None when it cannot have one."""
        environment = self._environment_key()
        info = plugins.claim(model_type)
        if environment is None or info is None:
            return None
        package = info.value.partition(":")[0].strip().split(".")[0]
        tree = cache.tree_fingerprint(package)
        if tree is None:
            return None
        try:
            blob = json.dumps([environment, info.value, info.distribution, info.version, tree,
                               _without_secrets(data)],
                              sort_keys=True, separators=(",", ":"), default=repr)
        except (TypeError, ValueError):  # e.g. a nested mapping with mixed key types
            return None
        return hashlib.sha256(blob.encode()).hexdigest()

    def _load(self) -> dict[str, None]:
        if self._known is None:
            stored = cache.read(_CACHE_NAME)
            self._known = dict.fromkeys(d for d in stored if isinstance(d, str)) \
                if isinstance(stored, list) else {}
        return self._known

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and digest in self._load()

    def add(self, digest: str) -> None:
        """Record that the config with this receipt validated."""
        known = self._load()
        if digest not in known:
            known[digest] = None
            self._changed = True

    def withdraw(self, digest: str) -> None:
        """Forget a receipt that turned out wrong (its config failed to validate)."""
        if self._load().pop(digest, "absent") is None:
            self._changed = True
            self.save()

    def save(self) -> None:
        """Write the receipts back if anything changed (failures are ignored)."""
        if self._changed:
            cache.write(_CACHE_NAME, list(self._load())[-MAX_RECEIPTS:])
            self._changed = False
