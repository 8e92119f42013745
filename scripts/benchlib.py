"""What every benchmark in scripts/ shares: a fast loopback server answering with
precomputed bytes, and the ways of measuring (fresh processes, calls in turns, ratios).

The server is a minimal asyncio HTTP/1.1 server (keep-alive, no parsing beyond the
request line, headers and body length) in its own process, so that client cost
dominates what is measured. Each benchmark gives it a list of `Route`s: the first
route whose path fragment, body fragment and header fragment all match the request
answers it.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["ENV", "ROWS", "Route", "best_of", "best_pair", "cpu_per_call", "fresh",
           "http_answer", "interleaved", "paired", "per_call", "report", "report_paired",
           "serve", "sse_body", "table"]


@dataclass(frozen=True)
class Route:
    """Requests whose path holds `path`, body holds `body` and head holds `header`
    (lower-cased) get `answer`, a whole HTTP response."""

    path: bytes
    answer: bytes
    body: bytes | None = None
    header: bytes | None = None


def http_answer(body: bytes, content_type: str = "application/json", status: int = 200,
                headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 response with a content-length."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return (f"HTTP/1.1 {status} OK\r\ncontent-type: {content_type}\r\n{extra}"
            f"content-length: {len(body)}\r\n\r\n").encode() + body


def sse_body(events: Sequence[Any], done: str | None = None, prefix: str = "data: ") -> bytes:
    """An event-stream body: each event as `data: <json>` and a blank line."""
    out = [(prefix + (e if isinstance(e, str) else json.dumps(e)) + "\n\n").encode()
           for e in events]
    if done is not None:
        out.append(f"{prefix}{done}\n\n".encode())
    return b"".join(out)


class _Protocol(asyncio.Protocol):
    routes: Sequence[Route] = ()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].lower()
            start = head.find(b"content-length:")
            length = 0
            if start >= 0:
                end = head.find(b"\r\n", start)
                length = int(head[start + 15:end if end > 0 else None])
            if len(self.buffer) < head_end + 4 + length:
                return
            body = self.buffer[head_end + 4:head_end + 4 + length]
            path = head.split(b" ", 2)[1] if b" " in head else b""
            self.buffer = self.buffer[head_end + 4 + length:]
            self.transport.write(self._answer(path, head, body))

    def _answer(self, path: bytes, head: bytes, body: bytes) -> bytes:
        for route in self.routes:
            if route.path.lower() in path and (route.body is None or route.body in body) \
                    and (route.header is None or route.header in head):
                return route.answer
        return http_answer(b'{"error": "no route"}', status=404)


def _serve(port: int, routes: Sequence[Route], ready: Any, lifetime: float) -> None:
    _Protocol.routes = routes

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Protocol, "127.0.0.1", port, backlog=2048)
        ready.set()
        await asyncio.sleep(lifetime)  # watchdog: stops by itself
        server.close()

    asyncio.run(run())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(routes: Sequence[Route], lifetime: float = 900) -> Iterator[str]:
    """Run the server in its own process for the block; yields `http://127.0.0.1:PORT`."""
    port = _free_port()
    ready = multiprocessing.Event()
    process = multiprocessing.Process(target=_serve, args=(port, list(routes), ready, lifetime),
                                      daemon=True)
    process.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.join(5)


# -- measuring -------------------------------------------------------------------------------
# Installed packages have their bytecode compiled; let ours be cached too, as it is
# after any `pip install`, even where PYTHONDONTWRITEBYTECODE is set in the shell.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def fresh(code: str, runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall times of `runs` fresh `python -c code` processes."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env or ENV)
        times.append(time.perf_counter() - start)
    return times


def interleaved(a: str, b: str, runs: int) -> tuple[float, float]:
    """Median fresh-process times of two snippets, run in turns after a warm-up."""
    fresh(a, 1), fresh(b, 1)  # warm-up: bytecode written, files in the page cache
    ta, tb = [], []
    for _ in range(runs):
        ta += fresh(a, 1)
        tb += fresh(b, 1)
    return statistics.median(ta), statistics.median(tb)


def per_call(fn: Callable[[], Any], n: int) -> float:
    """Seconds per call of `fn` over `n` calls, after a warm-up."""
    for _ in range(min(50, n)):
        fn()
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def cpu_per_call(fn: Callable[[], Any], n: int) -> float:
    """This process's CPU seconds per call of `fn` over `n` calls, after a warm-up: the
    client's own cost (the server runs in another process), which other load on a
    busy machine disturbs far less than wall time."""
    for _ in range(min(5, n)):
        fn()
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n


def best_of(fn: Callable[[], float], repeats: int) -> float:
    """The least of `repeats` measurements."""
    return min(fn() for _ in range(repeats))


def best_pair(a: Callable[[], float], b: Callable[[], float],
              repeats: int) -> tuple[float, float]:
    """The best of each, measured in turns so that drift of the machine hits both."""
    best_a = best_b = float("inf")
    for _ in range(repeats):
        best_a, best_b = min(best_a, a()), min(best_b, b())
    return best_a, best_b


def paired(floor: Callable[[], Any], ours: Callable[[], Any], batch: int, rounds: int,
           clock: Callable[[], float] = time.perf_counter) -> tuple[float, float, float]:
    """The two measured in alternating batches of `batch` calls, `rounds` of each, after
    a warm-up: (the floor's median seconds per call, ours, the median of the rounds'
    ratios). A burst of other load then spoils a round or two of both sides, and the
    medians pass over it, where the best of a few long turns each lands on whichever
    side it falls."""
    for _ in range(min(20, batch)):
        floor()
        ours()
    floors, mine = [], []
    for _ in range(rounds):
        start = clock()
        for _ in range(batch):
            floor()
        middle = clock()
        for _ in range(batch):
            ours()
        end = clock()
        floors.append((middle - start) / batch)
        mine.append((end - middle) / batch)
    ratios = [m / f for f, m in zip(floors, mine) if f > 0]
    return (statistics.median(floors), statistics.median(mine),
            statistics.median(ratios) if ratios else float("nan"))


def report_paired(label: str, floor: Callable[[], Any], ours: Callable[[], Any], batch: int,
                  rounds: int, target: str) -> None:
    """Report `ours` against `floor` measured by `paired`, in wall time and then in this
    process's CPU time (the server runs in another process): the median ratio, with
    each side's median time."""
    for suffix, clock in (("", time.perf_counter), (", client CPU", time.process_time)):
        base, mine, ratio = paired(floor, ours, batch, rounds, clock)
        shown = f"{mine * 1e3:.2f} ms vs {base * 1e3:.2f} ms"
        ROWS.append((label + suffix, f"{ratio:.2f}x", target, shown))
        print(f"  {label}{suffix}: {ratio:.2f}x  ({shown}; median of {rounds} rounds; "
              f"target {target})", flush=True)


ROWS: list[tuple[str, str, str, str]] = []


def report(label: str, ours: float, floor: float, target: str, unit: str = "ms") -> None:
    """Print and record one figure as a ratio against its floor."""
    ratio = ours / floor if floor else float("nan")
    scale = {"ms": 1e3, "us": 1e6, "ns": 1e9, "tokens/s": 1.0, "MB": 1e-6}[unit]
    shown = f"{ours * scale:.2f} {unit} vs {floor * scale:.2f} {unit}"
    ROWS.append((label, f"{ratio:.2f}x", target, shown))
    print(f"  {label}: {ratio:.2f}x  ({shown}; target {target})", flush=True)


def table() -> str:
    """Every recorded figure as a markdown table."""
    lines = ["| figure | measured | target | detail |", "| --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(row) + " |" for row in ROWS]
    return "\n".join(lines) + f"\n\n(python {sys.version.split()[0]}, {os.cpu_count()} cores)"
