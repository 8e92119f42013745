"""What every Ollama wrapper shares: its `ollama` clients (one sync client, one async
client per event loop, each built once), which address and key they use, and the one
function that turns the SDK's failures into `modelhub.errors`.

Requests go through the client's `_request`, which sends a body as we built it and
reads the answer (NDJSON line by line for a stream) as plain dicts: the SDK's public
methods pass a request through its own models, which keep only the JSON-schema keys
they know of a tool's parameters (nested objects, `anyOf`, defaults are lost) and
drop a tool call's `id` from the answer. The SDK's errors keep an error answer's body
but not its headers, so a response hook on the client raises, with the headers, any
status of 400 or more (a proxy's 429 with Retry-After included).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from modelhub.errors import ModelhubError, ResponseParseError
from modelhub.http.errors import ErrorContext, api_error, error_fields, public_url, same_origin
from modelhub.providers.ollama.config import OllamaConfig, host_url
from modelhub.wrappers.base import ModelWrapperBase
from modelhub.wrappers.sdk import (
    PerLoop,
    acall_sdk,
    apeek_sdk_stream,
    call_sdk,
    keep_to_deadline,
    peek_sdk_stream,
)

if TYPE_CHECKING:
    import ollama

__all__ = ["CLOUD_HOST", "DEFAULT_HOST", "HOST_ENV", "KEY_ENV", "OllamaWrapperBase",
           "ollama_error"]

DEFAULT_HOST = "http://127.0.0.1:11434"
CLOUD_HOST = "ollama.com"
CLOUD_URL = f"https://{CLOUD_HOST}"  # the one origin OLLAMA_API_KEY is for
HOST_ENV = "OLLAMA_HOST"
KEY_ENV = "OLLAMA_API_KEY"


class ErrorAnswer(Exception):
    """An answer with an error status, as the response hook saw it."""

    def __init__(self, status: int, headers: Mapping[str, str], text: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = dict(headers)
        self.text = text


def _check_status(response: Any) -> None:
    if response.status_code >= 400:
        response.read()
        raise ErrorAnswer(response.status_code, response.headers, response.text)


async def _acheck_status(response: Any) -> None:
    if response.status_code >= 400:
        await response.aread()
        raise ErrorAnswer(response.status_code, response.headers, response.text)


def _strip_authorization(request: Any) -> None:
    request.headers.pop("authorization", None)


async def _astrip_authorization(request: Any) -> None:
    request.headers.pop("authorization", None)


def _api_error(status: int, body: Any, headers: Mapping[str, str] | None,
               context: ErrorContext) -> ModelhubError:
    message, code = error_fields(body)
    return api_error(status, message, context=context, headers=headers, body=body, code=code)


def ollama_error(exc: BaseException, context: ErrorContext) -> ModelhubError | None:
    """The modelhub error for a failure of the `ollama` client (None: not one of its
    failures)."""
    import json

    import httpx
    import ollama

    from modelhub._secrets import redact
    from modelhub.http.errors import connection_error, summarize_text, transport_error

    if isinstance(exc, ModelhubError):
        return exc
    if isinstance(exc, ErrorAnswer):
        try:
            body: Any = json.loads(exc.text) if exc.text.strip() else None
        except ValueError:
            body = exc.text
        return _api_error(exc.status, body, exc.headers, context)
    if isinstance(exc, ollama.ResponseError):
        if exc.status_code <= 0:  # an {"error": ...} line inside a 200 stream
            from modelhub.providers.ollama.wire import answer_error

            return answer_error({"error": exc.error}, context)
        return _api_error(exc.status_code, {"error": exc.error}, None, context)
    if isinstance(exc, (httpx.HTTPError, httpx.InvalidURL)):
        return transport_error(exc, context)
    if isinstance(exc, ConnectionError):  # the client's own, for a refused connection
        return connection_error(context, f"could not reach the server ({exc})")
    if isinstance(exc, json.JSONDecodeError):  # the client decodes the body, or a line
        shown = redact(exc.doc, context.secrets)
        return ResponseParseError(f"the answer is not JSON: {summarize_text(shown, 200)!r}",
                                  response=shown[:2000], **context.fields())
    if isinstance(exc, (TypeError, AttributeError)):  # JSON, but not an object
        return ResponseParseError(f"the answer is not a JSON object ({type(exc).__name__})",
                                  **context.fields())
    return None


def _credentials(url: str) -> tuple[str, str] | None:
    """(user, password) written in a URL, if it holds a password."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return None
    return unquote(parts.username or ""), unquote(parts.password)


class OllamaWrapperBase(ModelWrapperBase):
    """Base of the Ollama wrappers: clients, address, key, and calls with their failures mapped."""

    required_modules: ClassVar[tuple[str, ...]] = ("ollama",)
    extra: ClassVar[str | None] = "ollama"
    path: ClassVar[str] = ""  # the API path this wrapper posts to

    config: OllamaConfig
    host: str
    context: ErrorContext
    client: ollama.Client

    def setup(self) -> None:
        """Build the sync client (the async ones are built per event loop on first use)."""
        from modelhub._secrets import LOGGERS, protect_logger, remember

        cfg = self.config
        self.host = self.resolve_host()
        key = self.api_key(self.host)
        secrets = tuple(s for s in (key, *cfg.secret_values()) if s)
        self.context = ErrorContext(provider="ollama", config_name=cfg.config_name,
                                    url=public_url(self.host + self.path), secrets=secrets,
                                    timeout=cfg.timeout)
        headers = cfg.wire_headers()
        if key:
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            headers["authorization"] = f"Bearer {key}"
        # The client drops a user and password from the host: they go as basic auth.
        self._basic = None if key else _credentials(self.host)
        self._own_auth = self._basic is not None or \
            any(k.lower() == "authorization" for k in headers)
        self._headers = headers
        self._async: PerLoop[ollama.AsyncClient] = PerLoop(self._build_async_client)
        protect_logger(*LOGGERS)
        remember(self, secrets)
        import ollama

        self.client = keep_to_deadline(ollama.Client(**self._client_args(is_async=False)))

    def _client_args(self, *, is_async: bool) -> dict[str, Any]:
        from modelhub.http import pool

        cfg = self.config
        check = _acheck_status if is_async else _check_status
        hooks: dict[str, list[Callable[[Any], Any]]] = {"response": [check]}
        if not self._own_auth and os.environ.get(KEY_ENV):
            # The client (reading the variable as it is built) sends OLLAMA_API_KEY with
            # every request that has no Authorization header, whatever the host: a key
            # goes only where this config sends it.
            hooks["request"] = [_astrip_authorization if is_async else _strip_authorization]
        args: dict[str, Any] = {
            "host": self.host, "headers": self._headers, "timeout": cfg.timeout,
            "verify": pool.ssl_context() if cfg.verify_ssl else False,
            "follow_redirects": cfg.follow_redirects, "event_hooks": hooks}
        if self._basic is not None:
            args["auth"] = self._basic
        if cfg.proxy:
            args["proxy"] = cfg.proxy
        return args

    def _build_async_client(self) -> ollama.AsyncClient:
        import ollama

        return keep_to_deadline(ollama.AsyncClient(**self._client_args(is_async=True)))

    def async_client(self) -> ollama.AsyncClient:
        """The async client of the running event loop (an httpx async client cannot
        cross event loops), built on its first use there."""
        return self._async.get()

    # -- where requests go, with which key ---------------------------------------------
    def resolve_host(self) -> str:
        """The server: the config's base_url, else OLLAMA_HOST (as the ollama client
        reads it), else the local default."""
        cfg = self.config
        if cfg.base_url:
            return cfg.wire_url() or cfg.base_url
        env = os.environ.get(HOST_ENV, "").strip()
        return host_url(env) if env else DEFAULT_HOST

    def api_key(self, host: str) -> str | None:
        """The key sent: the config's own; else OLLAMA_API_KEY, to ollama.com only."""
        if self.config.api_key is not None:
            return self.config.api_key.get_secret_value()
        return (os.environ.get(KEY_ENV) or None) if same_origin(host, CLOUD_URL) else None

    # -- calls, their failures mapped ----------------------------------------------------
    def map_error(self, exc: BaseException) -> ModelhubError | None:
        """This wrapper's mapping of the client's failures (`ollama_error`)."""
        return ollama_error(exc, self.context)

    def post(self, body: dict[str, Any]) -> Any:
        """POST `body` to this wrapper's path; the decoded answer."""
        return call_sdk(lambda: self.client._request(dict, "POST", self.path, json=body),
                        self.map_error)

    async def apost(self, body: dict[str, Any]) -> Any:
        """Async twin of `post`."""
        client = self.async_client()
        return await acall_sdk(lambda: client._request(dict, "POST", self.path, json=body),
                               self.map_error)

    def open_lines(self, body: dict[str, Any]
                   ) -> tuple[Iterator[dict[str, Any]], Callable[[], Any]]:
        """POST `body` and open its NDJSON stream now (an error status raises here):
        (the stream's objects, to read with `read_sdk_stream`; what closes it)."""
        lines: Any = call_sdk(
            lambda: self.client._request(dict, "POST", self.path, json=body, stream=True),
            self.map_error)
        try:
            _, items = peek_sdk_stream(lines, self.map_error)
        except BaseException:
            lines.close()
            raise
        return items, lines.close

    async def aopen_lines(self, body: dict[str, Any]
                          ) -> tuple[AsyncIterator[dict[str, Any]],
                                     Callable[[], Awaitable[Any]]]:
        """Async twin of `open_lines`."""
        client = self.async_client()
        lines: Any = await acall_sdk(
            lambda: client._request(dict, "POST", self.path, json=body, stream=True),
            self.map_error)
        try:
            _, items = await apeek_sdk_stream(lines, self.map_error)
        except BaseException:
            await lines.aclose()
            raise
        return items, lines.aclose
