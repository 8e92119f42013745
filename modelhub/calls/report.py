"""What `modelhub usage` and `modelhub logs` print: per-config totals and recorded calls
from invocation log files, as aligned text or JSON-ready rows."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["call_lines", "log_paths", "merged_totals", "usage_lines"]


def log_paths(configs: Iterable[Any]) -> list[str]:
    """The log files the configs write to (each once, as given)."""
    import os

    found: dict[str, str] = {}
    for config in configs:
        path = getattr(config, "log", None)
        if path:
            found.setdefault(os.path.realpath(os.path.expanduser(path)), path)
    return list(found.values())


def merged_totals(paths: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per-config totals over several log files together."""
    from modelhub.calls.calllog import totals

    merged: dict[str, dict[str, Any]] = {}
    for path in paths:
        for name, row in totals(path).items():
            into = merged.setdefault(name, {"calls": 0, "errors": 0, "input_tokens": 0,
                                            "output_tokens": 0, "latency": 0.0, "cost": None})
            for key in ("calls", "errors", "input_tokens", "output_tokens", "latency"):
                into[key] += row[key] or 0
            if row["cost"] is not None:
                into["cost"] = (into["cost"] or 0.0) + row["cost"]
    return dict(sorted(merged.items()))


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return lines


def _cost(value: float | None) -> str:
    return "-" if value is None else f"${value:.6f}" if value < 1 else f"${value:,.2f}"


def usage_lines(totals: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The totals as a table, with a line for all configs together."""
    rows = []
    for name, t in totals.items():
        mean = t["latency"] / t["calls"] if t["calls"] else 0.0
        rows.append([name, str(t["calls"]), str(t["errors"]), f"{t['input_tokens']:,}",
                     f"{t['output_tokens']:,}", f"{mean:.2f}s", _cost(t["cost"])])
    if len(rows) > 1:
        costs = [t["cost"] for t in totals.values() if t["cost"] is not None]
        rows.append(["(all)", *(f"{sum(t[k] for t in totals.values()):,}" for k in
                                ("calls", "errors", "input_tokens", "output_tokens")),
                     "", _cost(sum(costs) if costs else None)])
    return _table(["CONFIG", "CALLS", "ERRORS", "INPUT", "OUTPUT", "MEAN", "COST"], rows)


def _short(text: str | None, width: int = 48) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _asked(input_json: str | None) -> str:
    """The last user text of a recorded input (messages, texts or a prompt)."""
    if not input_json:
        return ""
    try:
        value = json.loads(input_json)
    except ValueError:
        return input_json
    if isinstance(value, list) and value and isinstance(value[-1], dict):
        content = value[-1].get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        return str(content or "")
    if isinstance(value, list):
        return " | ".join(map(str, value))
    return str(value)


def call_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Recorded calls as a table, newest first."""
    table = []
    for row in rows:
        name = row["config_name"]
        if row["requested"] and row["requested"] != name:
            name = f"{row['requested']}->{name}"
        answer = row["response_text"] if row["error"] is None else row["error"]
        tokens = ("" if row["input_tokens"] is None
                  else f"{row['input_tokens']}+{row['output_tokens']}")
        table.append([str(row["id"]),
                      time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["started"])),
                      name, row["status"], tokens, f"{row['latency'] or 0:.2f}s",
                      _short(_asked(row["input"]), 32), _short(answer)])
    return _table(["ID", "STARTED", "CONFIG", "STATUS", "TOKENS", "LATENCY", "INPUT",
                   "ANSWER / ERROR"], table)
