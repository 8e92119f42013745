"""Shared fixtures: one loopback OpenAI-protocol server per test session."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from tests.openai_server import OpenAIServer

# modelhub's on-disk cache (entry points, validation receipts) goes to a folder of this
# test process's own, never the user's; subprocesses inherit it.
os.environ["MODELHUB_CACHE_DIR"] = tempfile.mkdtemp(prefix="modelhub-test-cache-")


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
