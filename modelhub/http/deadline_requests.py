"""A `requests` session whose connections keep to the deadline of the call in flight
(`modelhub.http.deadline`): for SDKs that speak HTTP through `requests` (DashScope's
sync calls), so that an attempt is bounded as a whole, not each read alone.

`requests` (through urllib3) sets one timeout on a socket and waits that long for
every read, however slowly the bytes come. The session's adapter builds urllib3
connections whose socket, once connected, cuts each wait to what is left of the
deadline, and refuses one with nothing left (`socket.timeout`, which urllib3 and
`requests` report as a read or connect timeout). Outside `within`, and for a SOCKS
proxy (urllib3 builds those connections itself), waits are as `requests` sets them.

Imported only by an SDK-based wrapper's setup: `requests` is never imported by
`import modelhub` or `init()`.
"""

from __future__ import annotations

import io
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError

from modelhub.http.deadline import remaining

__all__ = ["DeadlineAdapter", "deadline_session"]


class _Socket:
    """A connected socket whose every wait is cut to what is left of the deadline."""

    __slots__ = ("_set", "_sock", "_timeout")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._timeout = self._set = sock.gettimeout()  # the caller's; what is set now

    def __getattr__(self, name: str) -> Any:  # fileno, close, shutdown, version, ...
        return getattr(self._sock, name)

    def settimeout(self, value: float | None) -> None:
        """Set the wait the caller asks for (cut to the deadline at each wait)."""
        self._timeout = value
        if value != self._set:
            self._sock.settimeout(value)
            self._set = value

    def gettimeout(self) -> float | None:
        """The wait the caller asked for."""
        return self._timeout

    def _wait(self) -> None:
        left = remaining()
        want = self._timeout
        if left is not None:
            if left <= 0:
                raise TimeoutError("the call's time is up")
            if want is None or left < want:
                want = left
        if want != self._set:
            self._sock.settimeout(want)
            self._set = want

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        """`socket.recv_into`, within the deadline."""
        self._wait()
        return self._sock.recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        """`socket.recv`, within the deadline."""
        self._wait()
        return self._sock.recv(bufsize, flags)

    def send(self, data: Any, flags: int = 0) -> int:
        """`socket.send`, within the deadline."""
        self._wait()
        return self._sock.send(data, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        """`socket.sendall`, within the deadline."""
        self._wait()
        self._sock.sendall(data, flags)

    def makefile(self, mode: str = "r", buffering: int | None = None, **kwargs: Any) -> Any:
        """A binary reader over this socket's reads (what http.client asks for)."""
        if mode not in ("r", "rb") or kwargs.get("encoding"):
            return self._sock.makefile(mode, buffering, **kwargs)  # type: ignore[call-overload]
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]
        # Counted as socket.makefile counts its files (the socket closes after them).
        self._sock._io_refs += 1  # type: ignore[attr-defined]
        if buffering == 0:
            return raw
        size = io.DEFAULT_BUFFER_SIZE if buffering is None or buffering < 0 else buffering
        return io.BufferedReader(raw, size)


class _Connecting:
    """Connect within the deadline, then keep every wait to it."""

    timeout: Any
    sock: Any

    def connect(self) -> None:
        left = remaining()
        if left is not None:
            if left <= 0:
                raise ConnectTimeoutError(self, "the call's time is up before connecting")
            if not isinstance(self.timeout, (int, float)) or left < self.timeout:
                self.timeout = left
        super().connect()  # type: ignore[misc]
        if self.sock is not None and not isinstance(self.sock, _Socket):
            self.sock = _Socket(self.sock)


class _HTTPConnection(_Connecting, HTTPConnection):
    """An HTTP connection keeping to the deadline."""


class _HTTPSConnection(_Connecting, HTTPSConnection):
    """An HTTPS connection keeping to the deadline."""


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections keep to the deadline of the call in flight."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The pool manager, building connections that keep to the deadline."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        """The manager for `proxy`, likewise (not a SOCKS one, built by urllib3)."""
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = _POOLS
        return manager


def deadline_session() -> requests.Session:
    """A new `requests.Session` whose HTTP and HTTPS connections keep to the deadline."""
    session = requests.Session()
    adapter = DeadlineAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
