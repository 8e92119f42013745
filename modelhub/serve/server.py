"""Running `modelhub serve`: the served models built from a registry, the listening
socket, and uvicorn serving the app on it."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelhub.errors import ModelhubError

if TYPE_CHECKING:
    from modelhub.registry import Registry
    from modelhub.wrappers.base import ModelWrapperBase

__all__ = ["Served", "bind", "is_loopback", "run", "served_models", "url_of"]

# The kinds of model the server can answer for.
SERVED_KINDS = ("chat", "embedding")


@dataclass
class Served:
    """The models to serve (config name -> wrapper), and those left out, with why."""

    models: dict[str, ModelWrapperBase] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def served_models(registry: Registry, names: Sequence[str] = ()) -> Served:
    """Build the wrappers to serve. Named configs must each be a chat or embedding model
    that builds (any error is raised); with no names, every loaded chat and embedding
    config is served, and one that cannot be built (a missing SDK, say) is skipped."""
    served = Served()
    for name in names or registry.list_configs():
        try:
            kind = registry.wrapper_class(name).kind
            if kind not in SERVED_KINDS:
                raise ModelhubError(f"config {name!r} is of kind {kind!r} (the server answers "
                                    "for chat and embedding models)")
            served.models[name] = registry.get(name)
        except ModelhubError as error:
            if names:
                raise
            served.skipped[name] = str(error)
    return served


def is_loopback(host: str) -> bool:
    """Whether `host` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host`:`port` (0: a free port)."""
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """`http://HOST:PORT` of a bound socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run(app: Any, sock: socket.socket, *, log_level: str = "info") -> None:
    """Serve `app` on `sock` with uvicorn until interrupted (SIGINT or SIGTERM)."""
    import uvicorn

    config = uvicorn.Config(app, log_level=log_level, timeout_keep_alive=5,
                            timeout_graceful_shutdown=5, lifespan="off",
                            server_header=False)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
