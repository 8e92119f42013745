"""The `google-genai` clients of one Gemini-family config.

Everything the SDK would otherwise take from the environment is passed explicitly: the
backend (`vertexai`), the base URL, the API version, the key (or, on a host that is
not Google's, none: `GOOGLE_API_KEY` and `GEMINI_API_KEY` are read here, and only for
Google's own host), the project and location, and a debug config that keeps the SDK's
record/replay mode off. The SDK's retries are off (`HttpRetryOptions(attempts=1)`):
the wrapper's retry policy is the only one.

The SDK sends its requests through modelhub's shared pools (`modelhub.http.pool`), with
httpx2 clients (the httpx fork the SDK is built on, and runs fastest with), so proxies,
TLS verification and connection reuse follow the config as for every other family. An
async client belongs to one event loop, so async calls use an SDK client per loop
(building one costs well under a millisecond).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

from pydantic import SecretStr

from modelhub._secrets import LOGGERS, protect_logger, remember
from modelhub.http.errors import ErrorContext, public_url, same_origin
from modelhub.providers.gemini.config import KEY_ENV, LOCATION_ENV, PROJECT_ENV, GeminiConfig
from modelhub.wrappers.sdk import PerLoop, acall_sdk, call_sdk

if TYPE_CHECKING:
    import httpx2
    from google import genai

    from modelhub.errors import ModelhubError

__all__ = ["GEMINI_HOST", "GeminiClients", "vertex_host"]

T = TypeVar("T")

GEMINI_HOST = "https://generativelanguage.googleapis.com"
GEMINI_API_VERSION = "v1beta"
VERTEX_API_VERSION = "v1beta1"
# Vertex AI's multi-region locations, served from their own hosts.
_MULTI_REGION = ("us", "eu")
# The SDK's loggers: a filter on each removes any secret a record might quote.
SDK_LOGGERS = ("google_genai", "google_genai._api_client", "google_genai.models",
               "google_genai._common", "google_genai.types", "google_genai._transformers",
               "google_genai._extra_utils")
# The header the SDK puts the key in.
KEY_HEADER = "x-goog-api-key"
# The HTTP library of the SDK's clients.
LIBRARY: Final = "httpx2"


def vertex_host(location: str | None) -> str:
    """Vertex AI's host for a location, as the SDK picks it."""
    if not location or location == "global":
        return "https://aiplatform.googleapis.com"
    if location in _MULTI_REGION:
        return f"https://aiplatform.{location}.rep.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


class GeminiClients:
    """The SDK clients of one config, and the settings they were built from."""

    __slots__ = ("__weakref__", "_async", "_key", "_location", "_options", "_project",
                 "_sync", "_transport", "api_version", "base_url", "context", "vertexai")

    def __init__(self, config: GeminiConfig, provider: str) -> None:
        from modelhub.http import pool

        self.vertexai = config.vertexai
        self._project: str | None = None
        self._location: str | None = None
        if self.vertexai:
            if _config_key(config):  # express mode: no project
                self._location = config.location
            else:
                self._project = config.project or os.environ.get(PROJECT_ENV)
                self._location = config.location or os.environ.get(LOCATION_ENV) or "global"
            default_host = vertex_host(self._location)
            self.api_version = config.api_version or VERTEX_API_VERSION
        else:
            default_host = GEMINI_HOST
            self.api_version = config.api_version or GEMINI_API_VERSION
        self.base_url = config.wire_url() or default_host
        key = self._api_key(config, default_host)
        self._key = SecretStr(key) if key else None
        secrets = [s for s in [key, *config.secret_values()] if s]
        self.context = ErrorContext(provider=provider, config_name=config.config_name,
                                    url=public_url(self.base_url), secrets=tuple(secrets),
                                    timeout=config.timeout)
        self._transport = pool.transport_key(self.base_url, config.verify_ssl, config.proxy)
        self._sync: tuple[httpx2.Client, genai.Client] | None = None
        self._async: PerLoop[tuple[httpx2.AsyncClient, genai.Client]] = PerLoop(
            self._build_async, stale=lambda built: built[0] is not self._pool_client())
        protect_logger(*LOGGERS, *SDK_LOGGERS)
        remember(self, secrets)
        self._options = _options(config, self.base_url, self.api_version)

    def _api_key(self, config: GeminiConfig, default_host: str) -> str | None:
        """The config's key; else, for Google's own host only, the first of
        GOOGLE_API_KEY and GEMINI_API_KEY that is set (Vertex AI with a project
        authenticates with Application Default Credentials instead). An empty key
        (`${GEMINI_API_KEY:-}` with the variable unset) counts as none."""
        key = _config_key(config)
        if key:
            return key
        if self._project:
            return None
        if config.base_url is not None and not same_origin(self.base_url, default_host):
            return None
        return next((os.environ[n] for n in KEY_ENV if os.environ.get(n)), None)

    # -- building -------------------------------------------------------------------
    def _build(self, sync: httpx2.Client, asynchronous: httpx2.AsyncClient) -> genai.Client:
        from google import genai
        from google.genai import client as genai_client
        from google.genai import types

        options = types.HttpOptions(**self._options, httpx_client=sync,
                                    httpx_async_client=asynchronous)
        key = self._key.get_secret_value() if self._key is not None else None
        keyless = key is None and not self._project
        # The SDK insists on a key for the Gemini API and would take one from the
        # environment: it gets a placeholder, whose header is removed below.
        client = genai.Client(
            vertexai=self.vertexai, api_key="keyless" if keyless else key,
            project=self._project, location=self._location, http_options=options,
            debug_config=genai_client.DebugConfig(client_mode=None, replays_directory=None,
                                                  replay_id=None))
        if keyless:
            _drop_key(client)
        return client

    def sync(self) -> genai.Client:
        """The SDK client for sync calls, on the shared sync pool."""
        from modelhub.http import pool

        http = pool.sync_client(self._transport, library=LIBRARY)
        built = self._sync
        if built is None or built[0] is not http:
            built = self._sync = (http, self._build(http, _unused_async()))
        return built[1]

    def aio(self) -> genai.Client:
        """The SDK client for async calls in the running event loop (rebuilt if the
        loop's shared pool client was replaced)."""
        return self._async.get()[1]

    def _pool_client(self) -> httpx2.AsyncClient:
        from modelhub.http import pool

        client: httpx2.AsyncClient = pool.async_client(self._transport, library=LIBRARY)
        return client

    def _build_async(self) -> tuple[httpx2.AsyncClient, genai.Client]:
        http = self._pool_client()
        return http, self._build(_unused_sync(), http)

    # -- calling --------------------------------------------------------------------
    def map_error(self, exc: BaseException) -> ModelhubError | None:
        """This config's `modelhub.errors` instance for an exception of the SDK (see
        `errors.map_error`), or None for one that is not about the call."""
        from modelhub.providers.gemini.errors import map_error

        return map_error(exc, self.context)

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()`, the SDK's exceptions raised as `modelhub.errors` (none chained)."""
        return call_sdk(fn, self.map_error)

    async def acall(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Async twin of `call`."""
        return await acall_sdk(fn, self.map_error)


def _options(config: GeminiConfig, base_url: str, api_version: str) -> dict[str, Any]:
    from google.genai import types

    options: dict[str, Any] = {
        "base_url": base_url, "api_version": api_version,
        "retry_options": types.HttpRetryOptions(attempts=1),
        # Only the SDK's websocket and aiohttp paths read an SSL context from here,
        # and neither is used (requests go through the clients given); setting
        # one spares the SDK loading the CA bundle for each client it builds.
        "async_client_args": {"ssl": False},
    }
    if config.timeout is not None:
        options["timeout"] = max(1, round(config.timeout * 1000))  # milliseconds
    headers = config.wire_headers()
    if headers:
        options["headers"] = headers
    return options


def _drop_key(client: genai.Client) -> None:
    """Remove the placeholder key's header from a keyless client (the SDK offers no
    public way to send no key to a host that needs none)."""
    headers = client._api_client._http_options.headers
    if headers is not None:
        headers.pop(KEY_HEADER, None)


def _config_key(config: GeminiConfig) -> str | None:
    return config.api_key.get_secret_value() if config.api_key is not None else None


# An SDK client is built for sync calls or for async ones; the client of the other
# flavour, which the SDK requires, is one that refuses to send (and that builds no TLS
# context, as a real one would).
def _unused_async() -> Any:
    import httpx2

    class _SyncOnly(httpx2.AsyncBaseTransport):
        async def handle_async_request(self, request: Any) -> Any:
            raise RuntimeError("modelhub: this google-genai client makes sync calls only")

    return httpx2.AsyncClient(transport=_SyncOnly(), trust_env=False)


def _unused_sync() -> Any:
    import httpx2

    class _AsyncOnly(httpx2.BaseTransport):
        def handle_request(self, request: Any) -> Any:
            raise RuntimeError("modelhub: this google-genai client makes async calls only")

    return httpx2.Client(transport=_AsyncOnly(), trust_env=False)
