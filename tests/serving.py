"""Running real servers on 127.0.0.1 for the serve and batch tests: `modelhub serve`'s
app under uvicorn in a thread of the test process, and whole commands (`modelhub
serve`, `python -m llama_cpp.server`) as child processes, each stopped by its own
process id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

__all__ = ["Child", "free_port", "modelhub_command", "run_app", "run_command", "wait_until_up"]


def free_port() -> int:
    """A port free on 127.0.0.1 just now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def run_app(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on a free port of 127.0.0.1, in a thread, for the
    block; yields `http://127.0.0.1:PORT`."""
    import uvicorn

    from modelhub.serve import bind, url_of

    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def wait_until_up(url: str, process: subprocess.Popen[Any] | None = None,
                  timeout: float = 60.0) -> None:
    """Poll `url` until it answers (any status), the process dies, or `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before answering")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:g} s") from None
            time.sleep(0.1)


@dataclass
class Child:
    """A child process and the file its stderr goes to."""

    process: subprocess.Popen[str]
    log: Path

    def first_line(self, timeout: float = 60.0) -> str:
        """The first line the process writes to stdout (its address, for `modelhub
        serve`)."""
        assert self.process.stdout is not None
        found: list[str] = []
        reader = threading.Thread(target=lambda: found.append(self.process.stdout.readline()),  # type: ignore[union-attr]
                                  daemon=True)
        reader.start()
        reader.join(timeout)
        if not found or not found[0]:
            raise RuntimeError(f"no line from {self.process.args!r}; its stderr:\n"
                               f"{self.stderr()[-3000:]}")
        return found[0]

    def stderr(self) -> str:
        """What the process wrote to stderr so far."""
        return self.log.read_text(errors="replace")


@contextmanager
def run_command(args: Sequence[str], *, env: Mapping[str, str] | None = None,
                ) -> Iterator[Child]:
    """A child process (stdout piped, stderr to a file) for the block; then SIGTERM to
    it, and SIGKILL if it has not exited within 10 s."""
    with tempfile.NamedTemporaryFile(prefix="modelhub-child-", suffix=".log",
                                     delete=False) as log:
        process = subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=log,
                                   text=True, env={**os.environ, **(env or {})})
    child = Child(process, Path(log.name))
    try:
        yield child
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
        child.log.unlink(missing_ok=True)


def modelhub_command(*args: str) -> list[str]:
    """The `modelhub` command line as this interpreter runs it."""
    return [sys.executable, "-m", "modelhub", *args]
