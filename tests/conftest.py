"""Shared fixtures: one loopback OpenAI-protocol server per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.openai_server import OpenAIServer


@pytest.fixture(scope="session")
def openai_server_session() -> Iterator[OpenAIServer]:
    """The session's server."""
    with OpenAIServer() as server:
        yield server


@pytest.fixture
def openai_server(openai_server_session: OpenAIServer) -> OpenAIServer:
    """The server, with no queued replies or recorded requests."""
    openai_server_session.reset()
    return openai_server_session
