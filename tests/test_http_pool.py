"""The shared TLS context SDK-built clients are given."""

from __future__ import annotations

import ssl
import threading

from modelhub.http import pool


def test_one_verifying_context_for_the_process() -> None:
    seen: list[ssl.SSLContext] = []
    threads = [threading.Thread(target=lambda: seen.append(pool.ssl_context()))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    context = pool.ssl_context()
    assert all(c is context for c in seen)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.get_ca_certs()  # the CA bundle is loaded


def test_an_httpx_client_takes_it_as_verify() -> None:
    import httpx

    with httpx.Client(verify=pool.ssl_context()) as client:
        # used as it is: no second context, no second load of the CA bundle
        assert client._transport._pool._ssl_context is pool.ssl_context()  # type: ignore[attr-defined]
