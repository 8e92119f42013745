"""The invocation log: an SQLite file (`log: path` in a config) with a row per call of
that config, written when the call ends (a stream when it finishes, breaks or is
closed) and committed on its own, so a process killed mid-call loses nothing already
recorded. The database runs in WAL mode, so readers (`modelhub logs`) never block
writers and several processes may share one file.

Each row holds the config that answered and the one asked for, the model, the input
(messages, texts or prompt) and generation arguments, the answer's text, reasoning and
tool calls, usage, cost, latency, attempts, and the error; every secret the process
knows (the config's keys, headers, URL passwords) is removed from every column first,
and the input and arguments are the masked copies hooks see (`CallEvent`). sqlite3 is
imported on first use.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

    from modelhub.calls.hooks import CallEvent

__all__ = ["COLUMNS", "LogFileError", "LogStore", "search", "totals"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY,
    started REAL NOT NULL,
    latency REAL,
    config_name TEXT NOT NULL,
    requested TEXT,
    fallback_from TEXT,
    model_type TEXT,
    model TEXT,
    response_model TEXT,
    kind TEXT,
    stream INTEGER,
    status TEXT NOT NULL,
    attempts INTEGER,
    input TEXT,
    params TEXT,
    response_text TEXT,
    reasoning TEXT,
    tool_calls TEXT,
    finish_reason TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost REAL,
    error_type TEXT,
    error TEXT,
    pid INTEGER
);
CREATE INDEX IF NOT EXISTS calls_config ON calls (config_name, started);
"""
COLUMNS = ("id", "started", "latency", "config_name", "requested", "fallback_from",
           "model_type", "model", "response_model", "kind", "stream", "status", "attempts",
           "input", "params", "response_text", "reasoning", "tool_calls", "finish_reason",
           "input_tokens", "output_tokens", "cost", "error_type", "error", "pid")
_INSERT = (f"INSERT INTO calls ({', '.join(COLUMNS[1:])}) "
           f"VALUES ({', '.join('?' for _ in COLUMNS[1:])})")


class LogFileError(ValueError):
    """A file read as an invocation log that is not one (not SQLite, or no `calls`)."""


def _read(path: str, query: str, args: list[Any]) -> list[Any]:
    """The rows of a query of the log file at `path` (FileNotFoundError: no such file;
    LogFileError: the file is not an invocation log)."""
    import sqlite3

    connection = _connect(path, create=False)
    try:
        return connection.execute(query, args).fetchall()
    except sqlite3.DatabaseError as error:
        raise LogFileError(f"{path} is not a modelhub invocation log ({error})") from None
    finally:
        connection.close()


def _connect(path: str, *, create: bool) -> sqlite3.Connection:
    import sqlite3

    if create:
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        connection = sqlite3.connect(path, timeout=10, check_same_thread=False,
                                     isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process
        connection.executescript(_SCHEMA)
        connection.execute("PRAGMA user_version=1")
    else:
        if not os.path.exists(path):
            raise FileNotFoundError(path)
        connection = sqlite3.connect(path, timeout=10, isolation_level=None)
    return connection


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, default=str)


def _clean(text: str | None, secrets: list[str]) -> str | None:
    if text is None or not secrets:
        return text
    from modelhub._secrets import redact

    return redact(text, secrets)


def row_of(event: CallEvent, secrets: Iterable[str]) -> tuple[Any, ...]:
    """The row recording a finished call, every secret removed: the event's input and
    arguments are masked already (`modelhub._secrets.mask_call`, as hooks see them),
    the answer and the error are cleaned of `secrets` here."""
    found = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
    response = event.response
    text = getattr(response, "text", None)
    if text is None and event.partial_text:
        text = event.partial_text
    calls = getattr(response, "tool_calls", None) or None
    usage = getattr(response, "usage", None)
    error = event.error
    return (
        event.started, event.latency, event.config_name, event.requested,
        event.fallback_from, event.model_type, event.model,
        getattr(response, "model", None), event.kind, int(event.stream), event.status,
        event.attempts, _clean(_json(event.input), found),
        _clean(_json(event.params), found), _clean(text, found),
        _clean(getattr(response, "reasoning", None), found),
        _clean(_json([{"id": c.id, "name": c.name, "arguments": c.arguments}
                      for c in calls]) if calls else None, found),
        getattr(response, "finish_reason", None),
        usage.input_tokens if usage is not None else None,
        usage.output_tokens if usage is not None else None, event.cost,
        type(error).__qualname__ if error is not None else None,
        _clean(str(error), found) if error is not None else None, os.getpid())


class LogStore:
    """One log file, written by every thread of the process through one connection (a
    forked child opens its own: SQLite's connections must not cross a fork)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = os.getpid()

    def write(self, event: CallEvent, secrets: Iterable[str]) -> None:
        """Record a finished call (committed at once)."""
        row = row_of(event, secrets)
        if self._pid != os.getpid():  # a forked child: the parent's connection is left
            self._lock = threading.Lock()
            self._connection = None
            self._pid = os.getpid()
        with self._lock:
            if self._connection is None:
                self._connection = _connect(self.path, create=True)
            self._connection.execute(_INSERT, row)  # autocommit: a transaction of its own

    def close(self) -> None:
        """Close the file (it is opened again on the next write)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def search(path: str, *, text: str | None = None, config_name: str | None = None,
           status: str | None = None, limit: int | None = 50) -> list[dict[str, Any]]:
    """The recorded calls, newest first: those whose input, answer or error holds
    `text` (case-insensitive), of one config (that answered or was asked for), of one
    status."""
    where, args = [], []
    if text:
        where.append("(input LIKE ? ESCAPE '\\' OR response_text LIKE ? ESCAPE '\\' "
                     "OR error LIKE ? ESCAPE '\\' OR tool_calls LIKE ? ESCAPE '\\')")
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        args += [pattern] * 4
    if config_name:
        where.append("(config_name = ? OR requested = ?)")
        args += [config_name, config_name]
    if status:
        where.append("status = ?")
        args.append(status)
    query = f"SELECT {', '.join(COLUMNS)} FROM calls"
    if where:
        query += " WHERE " + " AND ".join(where)
    query += " ORDER BY started DESC, id DESC"
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    return [dict(zip(COLUMNS, row)) for row in _read(path, query, args)]


def totals(path: str) -> dict[str, Mapping[str, Any]]:
    """Per-config totals over a log file: calls, errors, tokens, latency and cost."""
    rows = _read(path, "SELECT config_name, COUNT(*), SUM(status IN ('error', 'broken')), "
                 "SUM(COALESCE(input_tokens, 0)), SUM(COALESCE(output_tokens, 0)), "
                 "SUM(COALESCE(latency, 0)), SUM(cost), MIN(started), MAX(started) "
                 "FROM calls GROUP BY config_name ORDER BY config_name", [])
    keys = ("calls", "errors", "input_tokens", "output_tokens", "latency", "cost", "first",
            "last")
    return {row[0]: dict(zip(keys, row[1:])) for row in rows}
