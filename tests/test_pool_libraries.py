"""The shared pools and transport errors with either HTTP library: httpx (the default)
or its drop-in fork httpx2, which google-genai is built on."""

from __future__ import annotations

import httpx
import pytest

from modelhub import errors
from modelhub.http import pool
from modelhub.http.errors import ErrorContext, transport_error

httpx2 = pytest.importorskip("httpx2")

KEY = (False, None)


def test_each_library_has_its_own_shared_sync_client() -> None:
    plain = pool.sync_client(KEY)
    fork = pool.sync_client(KEY, library="httpx2")
    assert isinstance(plain, httpx.Client) and isinstance(fork, httpx2.Client)
    assert pool.sync_client(KEY) is plain and pool.sync_client(KEY, library="httpx2") is fork
    assert pool.sync_client((False, "http://127.0.0.1:9"), library="httpx2") is not fork
    with pytest.raises(ValueError, match="unknown HTTP library"):
        pool.sync_client(KEY, library="requests")  # type: ignore[call-overload]


async def test_each_library_has_its_own_async_client_per_loop() -> None:
    fork = pool.async_client(KEY, library="httpx2")
    assert isinstance(fork, httpx2.AsyncClient)
    assert pool.async_client(KEY, library="httpx2") is fork
    assert isinstance(pool.async_client(KEY), httpx.AsyncClient)
    await pool.aclose()
    assert fork.is_closed and pool.async_client(KEY, library="httpx2") is not fork


def test_close_closes_both_libraries_clients() -> None:
    plain, fork = pool.sync_client(KEY), pool.sync_client(KEY, library="httpx2")
    pool.close()
    assert plain.is_closed and fork.is_closed
    assert pool.sync_client(KEY, library="httpx2") is not fork


@pytest.mark.parametrize("lib", [httpx, httpx2])
def test_transport_errors_of_either_library_map_alike(lib: object) -> None:
    context = ErrorContext(provider="p", config_name="c", url="http://h", timeout=3,
                           secrets=("sekrit-key-123",))
    timeout = transport_error(lib.ReadTimeout("timed out"), context)  # type: ignore[attr-defined]
    assert isinstance(timeout, errors.ModelTimeoutError) and timeout.timeout == 3
    refused = transport_error(lib.ConnectError("refused"), context, "part")  # type: ignore[attr-defined]
    assert isinstance(refused, errors.ModelConnectionError) and refused.partial_text == "part"
    bad = transport_error(lib.LocalProtocolError("bad header sekrit-key-123"), context)  # type: ignore[attr-defined]
    assert isinstance(bad, errors.InvalidRequestError) and "sekrit" not in str(bad)
