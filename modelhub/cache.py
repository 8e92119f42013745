"""A small on-disk cache, so that a warm `init()` skips work an earlier run proved.

Two things are kept, each as a JSON file in the cache folder: the entry-point table,
keyed by the distributions visible on `sys.path` (the name and modification time of
each `*.dist-info` / `*.egg-info` folder, which installing, removing or reinstalling a
distribution always changes), and the digests of configs that validated (see
`modelhub.config.receipts`). Neither holds a config value, let alone a secret.

The folder is `$MODELHUB_CACHE_DIR`, else `$XDG_CACHE_HOME/modelhub`, else
`~/.cache/modelhub`; `MODELHUB_CACHE_DIR=` (empty) turns the cache off. A cache that
cannot be read or written is ignored: it only ever saves time.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any

__all__ = ["CACHE_ENV_VAR", "cache_dir", "path_fingerprint", "read", "refresh",
           "tree_fingerprint", "write"]

CACHE_ENV_VAR = "MODELHUB_CACHE_DIR"
FORMAT = 1
# A plugin package with more source files than this is not fingerprinted (and so its
# configs are always validated in full): walking it would cost more than it saves.
MAX_TREE_FILES = 2000


def cache_dir() -> str | None:
    """The cache folder, or None when the cache is turned off."""
    value = os.environ.get(CACHE_ENV_VAR)
    if value is not None:
        return value or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "modelhub")


def read(name: str) -> Any:
    """The JSON value stored under `name`, or None (missing, unreadable, other format)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            stored = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        return None
    return stored.get("data")


def write(name: str, data: Any) -> None:
    """Store `data` under `name`, atomically; failures are ignored."""
    folder = cache_dir()
    if folder is None:
        return
    path = os.path.join(folder, name)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"format": FORMAT, "data": data}, f, separators=(",", ":"))
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


_METADATA_SUFFIXES = (".dist-info", ".egg-info")


def _metadata_entries(entry: str) -> list[str]:
    """`name mtime` of each distribution's metadata folder in one sys.path entry (or the
    entry's own mtime when it is a file, such as a zip)."""
    try:
        if not os.path.isdir(entry or "."):
            return [f"{entry} {os.stat(entry).st_mtime_ns}"]
        found = []
        with os.scandir(entry or ".") as it:
            for item in it:
                if item.name.endswith(_METADATA_SUFFIXES):
                    found.append(f"{item.name} {item.stat().st_mtime_ns}")
        return sorted(found)
    except OSError:
        return []


def path_fingerprint() -> str:
    """A digest of the distributions visible on `sys.path`: each metadata folder's name
    and modification time, which change when a distribution is installed, removed,
    upgraded or reinstalled. Other files coming and going (a script writing next to
    itself) leave it alone."""
    import hashlib

    digest = hashlib.sha256()
    for entry in sys.path:
        digest.update(f"\0{entry}\n".encode())
        digest.update("\n".join(_metadata_entries(entry)).encode())
    return digest.hexdigest()


_trees: dict[str, str | None] = {}


def refresh() -> None:
    """Forget the package fingerprints computed in this process (files were edited)."""
    _trees.clear()


def tree_fingerprint(package: str) -> str | None:
    """A digest of the stat data of every source file of a top-level package, found
    without importing it; None when it cannot be found or is too large to walk.

    It changes when any file of the package is edited, as in an editable install.
    """
    if package in _trees:
        return _trees[package]
    import hashlib
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    roots = list(spec.submodule_search_locations or ()) if spec else []
    if spec is not None and not roots and spec.origin:
        roots = [spec.origin]
    digest: str | None = None
    if roots:
        stats: list[str] = []
        for root in roots:
            if not _walk(root, stats):
                stats = []
                break
        if stats:
            digest = hashlib.sha256("\n".join(sorted(stats)).encode()).hexdigest()
    _trees[package] = digest
    return digest


def _walk(root: str, out: list[str]) -> bool:
    """Append `path mtime size` of each source file below `root`; False if too many."""
    if os.path.isfile(root):
        st = os.stat(root)
        out.append(f"{root} {st.st_mtime_ns} {st.st_size}")
        return True
    pending = [root]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__" and not entry.name.startswith("."):
                    pending.append(entry.path)
            elif entry.name.endswith((".py", ".pyi", ".so", ".pyd", ".json", ".yaml")):
                st = entry.stat()
                out.append(f"{entry.path} {st.st_mtime_ns} {st.st_size}")
                if len(out) > MAX_TREE_FILES:
                    return False
    return True
