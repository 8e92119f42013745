"""The entry-point table, cached on disk so a fresh process need not read every
installed distribution's metadata to find the plugins.

The table is stored with the key it was read under: the path and modification time of
every distribution's metadata folder (`*.dist-info`, `*.egg-info`) on `sys.path`,
which installing, removing, upgrading or reinstalling a distribution always changes.
Folders that hold no distribution (a script's own folder) do not count, so scripts in
different folders share the table. Nothing else is cached; no config is. A table is
stored only when that key was the same before and after reading it, and no metadata
folder had changed in the `SETTLE_SECONDS` before: a distribution being installed
while it is read (within one tick of the file system's clock) is never cached half
seen.

The folder is `$MODELHUB_CACHE_DIR`, else `$XDG_CACHE_HOME/modelhub`, else
`~/.cache/modelhub`; `MODELHUB_CACHE_DIR=` (empty) turns the cache off. A cache
that cannot be trusted is not used: the folder and the file must belong to the
current user and be writable by nobody else, and the file must be a regular file of
bounded size (reads never block on a FIFO or a device). It is written to a new file,
created exclusively without following links, then renamed into place.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from typing import Any

__all__ = ["CACHE_ENV_VAR", "SETTLE_SECONDS", "cache_dir", "cache_folder", "distributions_key",
           "distributions_state", "read", "write"]

CACHE_ENV_VAR = "MODELHUB_CACHE_DIR"
FORMAT = 3
MAX_BYTES = 4 * 1024 * 1024
# Longer than any file system's timestamp granularity (FAT's is 2 s).
SETTLE_SECONDS = 3.0
_METADATA_SUFFIXES = (".dist-info", ".egg-info")


def cache_dir() -> str | None:
    """The cache folder, or None when the cache is turned off."""
    value = os.environ.get(CACHE_ENV_VAR)
    if value is not None:
        return value or None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "modelhub")


def cache_folder(name: str) -> str | None:
    """A folder of the cache for a plugin's own files (converted model weights, say),
    created private to this user if missing: `<cache folder>/<name>`. None when the
    cache is off, or the folder cannot be made or trusted (see the module docstring)."""
    if not name or name in (".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"a cache folder name is one plain name, not {name!r}")
    root = cache_dir()
    if root is None:
        return None
    folder = os.path.join(root, name)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return folder if _trusted_folder(root) and _trusted_folder(folder) else None


def _trusted(info: os.stat_result) -> bool:
    """Whether a file or folder belongs to this user and nobody else may write it."""
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    getuid = getattr(os, "getuid", None)
    return getuid is None or info.st_uid == getuid()


def _trusted_folder(folder: str) -> bool:
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and _trusted(info)


def read(name: str) -> Any:
    """The JSON value stored under `name`, or None (missing, untrusted, too large,
    unreadable, or written by another format)."""
    folder = cache_dir()
    if folder is None or not _trusted_folder(folder):
        return None
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(os.path.join(folder, name), flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _trusted(info) or info.st_size > MAX_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            content = f.read(MAX_BYTES + 1)
        stored = json.loads(content) if len(content) <= MAX_BYTES else None
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        return None
    return stored.get("data")


def write(name: str, data: Any) -> None:
    """Store `data` under `name`, atomically; any failure leaves the cache as it was."""
    folder = cache_dir()
    if folder is None:
        return
    path = os.path.join(folder, name)
    tmp = f"{path}.{os.getpid()}.{id(data):x}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if not _trusted_folder(folder):
            return
        content = json.dumps({"format": FORMAT, "data": data},
                             separators=(",", ":")).encode("utf-8")
        fd = os.open(tmp, flags, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _metadata_folders(entry: str) -> list[tuple[str, int]]:
    """(path, mtime) of each distribution's metadata folder in one sys.path entry (for a
    zip on sys.path, of the zip itself)."""
    where = os.path.abspath(entry or ".")
    try:
        if not os.path.isdir(where):
            return [(where, os.stat(where).st_mtime_ns)] if os.path.isfile(where) else []
        found = []
        with os.scandir(where) as it:
            for item in it:
                if item.name.endswith(_METADATA_SUFFIXES):
                    found.append((item.path, item.stat().st_mtime_ns))
        return sorted(found)
    except OSError:
        return []


def distributions_state() -> tuple[str, int]:
    """`distributions_key()`, and the newest modification time (ns since the epoch) of
    the metadata folders it covers (0 when there are none)."""
    import hashlib

    digest = hashlib.sha256(f"{FORMAT}\n".encode())
    newest = 0
    for entry in sys.path:
        for path, mtime in _metadata_folders(entry):
            digest.update(f"{path} {mtime}\n".encode("utf-8", "surrogateescape"))
            newest = max(newest, mtime)
    return digest.hexdigest(), newest


def distributions_key() -> str:
    """A digest of the distributions visible on `sys.path`, in order: the path and
    modification time of each metadata folder. Entries with no distribution in them
    leave it alone."""
    return distributions_state()[0]
