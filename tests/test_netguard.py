"""The suite itself cannot reach the network: only loopback answers."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.netguard import NetworkBlocked
from tests.openai_server import OpenAIServer


def test_other_hosts_are_refused_at_once() -> None:
    with pytest.raises(socket.gaierror, match="loopback"):
        socket.getaddrinfo("api.openai.com", 443)
    with socket.socket() as sock, pytest.raises(NetworkBlocked):
        sock.connect(("8.8.8.8", 53))
    with pytest.raises(httpx.ConnectError):
        httpx.get("https://example.com/", timeout=2)


def test_loopback_still_answers(openai_server: OpenAIServer) -> None:
    assert httpx.get(openai_server.base_url + "/models").status_code == 200
    assert socket.getaddrinfo("localhost", 80)
