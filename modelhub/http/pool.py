"""Shared HTTP connection pools.

Building an httpx client costs a TLS context (tens of milliseconds), so wrappers whose
transport settings match share one client: one per (verify, proxy) for sync calls,
and one per event loop and (verify, proxy) for async calls (an async client cannot
outlive or cross its loop). Plain-HTTP endpoints, such as a local model server, need
no TLS context at all (see `transport_key`). Each client's connections keep to the
deadline of the call in flight (`modelhub.http.deadline`). httpx is imported on first
use, never by `import modelhub`.

`library` picks the HTTP library: httpx (the default), or its drop-in fork httpx2,
which some SDKs (google-genai) are built on and run faster with; each has its own
clients, built and shared alike.

A provider whose SDK builds its own httpx client (one per wrapper) passes it
`ssl_context()`: one verifying TLS context for the whole process, so that each client
costs no CA bundle load.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING, Any, Literal, overload

from modelhub.http import deadline

if TYPE_CHECKING:
    import asyncio
    import ssl

    import httpx

__all__ = ["Library", "TransportKey", "aclose", "async_client", "close", "ssl_context",
           "sync_client", "transport_key"]

# The HTTP libraries clients can be built with (httpx2 mirrors httpx's API).
Library = Literal["httpx", "httpx2"]

# (verify, proxy): what makes two clients different. Timeouts, headers and URLs are
# per request, so they do not split the pool.
TransportKey = tuple[Any, str | None]

# The environment variables through which httpx may send a plain-HTTP request via a
# proxy (which may itself be reached over TLS).
_HTTP_PROXY_VARS = ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")

MAX_CONNECTIONS = 1000
MAX_KEEPALIVE = 200

_lock = threading.Lock()
_ssl: list[ssl.SSLContext] = []  # the shared verifying context, once built
# Keyed by (library, verify, proxy).
_sync: dict[tuple[Any, ...], Any] = {}
_async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], Any]] = \
    weakref.WeakKeyDictionary()


def _module(library: Library) -> Any:
    import importlib

    if library not in ("httpx", "httpx2"):
        raise ValueError(f"unknown HTTP library {library!r}")
    return importlib.import_module(library)


def _client_kwargs(key: TransportKey, library: Library = "httpx") -> dict[str, Any]:
    verify, proxy = key
    return {
        "verify": verify,
        "proxy": proxy,
        "timeout": None,  # set per request
        "limits": _module(library).Limits(max_connections=MAX_CONNECTIONS,
                                          max_keepalive_connections=MAX_KEEPALIVE),
        "follow_redirects": False,
        "trust_env": proxy is None,
    }


def transport_key(url: str, verify: Any = True, proxy: str | None = None) -> TransportKey:
    """The client settings for requests to `url`.

    A plain-HTTP URL that no proxy carries never opens a TLS connection (redirects are
    not followed), so it goes through a client built without a TLS context, which
    saves loading the CA bundle.
    """
    if url.startswith("http://") and proxy is None \
            and not any(os.environ.get(var) for var in _HTTP_PROXY_VARS):
        return (False, None)
    return (verify, proxy)


def ssl_context() -> ssl.SSLContext:
    """The process's verifying TLS context, as httpx builds it for `verify=True` (the
    CA bundle, and `SSL_CERT_FILE` / `SSL_CERT_DIR` when set), built once. An SSL
    context may serve any number of clients and event loops."""
    if not _ssl:
        with _lock:
            if not _ssl:
                import httpx

                _ssl.append(httpx.create_ssl_context(verify=True, trust_env=True))
    return _ssl[0]


@overload
def sync_client(key: TransportKey = ..., *,
                library: Literal["httpx"] = ...) -> httpx.Client: ...


@overload
def sync_client(key: TransportKey = ..., *, library: Library) -> Any: ...


def sync_client(key: TransportKey = (True, None), *, library: Library = "httpx") -> Any:
    """The shared sync client for these transport settings (and HTTP library)."""
    slot = (library, *key) if library != "httpx" else key
    client = _sync.get(slot)
    if client is None or client.is_closed:
        with _lock:
            client = _sync.get(slot)
            if client is None or client.is_closed:
                if not _sync:
                    import atexit

                    atexit.register(close)
                client = _module(library).Client(**_client_kwargs(key, library))
                deadline.install(client)
                _sync[slot] = client
    return client


@overload
def async_client(key: TransportKey = ..., *,
                 library: Literal["httpx"] = ...) -> httpx.AsyncClient: ...


@overload
def async_client(key: TransportKey = ..., *, library: Library) -> Any: ...


def async_client(key: TransportKey = (True, None), *, library: Library = "httpx") -> Any:
    """The shared async client of the running event loop for these settings (and HTTP
    library)."""
    import asyncio

    loop = asyncio.get_running_loop()
    clients = _async.get(loop)
    if clients is None:
        clients = _async.setdefault(loop, {})
    slot = (library, *key) if library != "httpx" else key
    client = clients.get(slot)
    if client is None or client.is_closed:
        client = _module(library).AsyncClient(**_client_kwargs(key, library))
        deadline.install(client)
        clients[slot] = client
    return client


def close() -> None:
    """Close every shared sync client (run at interpreter exit too). Async clients
    belong to their event loop: close them from it with `aclose()`."""
    with _lock:
        clients = list(_sync.values())
        _sync.clear()
    for client in clients:
        client.close()


async def aclose() -> None:
    """Close the shared async clients of the running event loop, then the sync ones."""
    import asyncio

    clients = _async.pop(asyncio.get_running_loop(), {})
    for client in clients.values():
        await client.aclose()
    close()
