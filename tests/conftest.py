"""Shared fixtures: no network but loopback, the test plugins in a temporary site
folder, a cache folder of the test process's own, and one loopback server per test
session for each provider protocol (OpenAI's, DashScope's)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator

import pytest

from tests import netguard
from tests.dashscope_server import DashScopeServer
from tests.openai_server import OpenAIServer
from tests.plugin_site import make_site

netguard.install()

# Installed for this process (and its subprocesses) only: the user's environment never
# sees the deliberately broken test plugins.
TEST_SITE = make_site()

# modelhub's entry-point cache goes to a folder of this test process's own, never the
# user's; subprocesses inherit it. A test that needs the cache off or elsewhere says so.
_CACHE = tempfile.mkdtemp(prefix="modelhub-test-cache-")
os.environ["MODELHUB_CACHE_DIR"] = _CACHE


@pytest.fixture(scope="session", autouse=True)
def _remove_cache() -> Iterator[None]:
    yield
    shutil.rmtree(_CACHE, ignore_errors=True)


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


@pytest.fixture(scope="session")
def dashscope_server_session() -> Iterator[DashScopeServer]:
    """The session's DashScope-protocol server."""
    with DashScopeServer() as server:
        yield server


@pytest.fixture
def dashscope_server(dashscope_server_session: DashScopeServer) -> DashScopeServer:
    """The DashScope server, with no queued replies, recorded requests or tasks."""
    dashscope_server_session.reset()
    return dashscope_server_session


@pytest.fixture
async def dashscope_aio_cleanup() -> AsyncIterator[None]:
    """The dashscope SDK keeps one aiohttp session per event loop: closed with the
    test's loop."""
    yield
    import dashscope

    await dashscope.close_shared_aio_session()
