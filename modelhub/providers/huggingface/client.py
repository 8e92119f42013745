"""What the Hugging Face Inference wrappers share: the `InferenceClient` /
`AsyncInferenceClient` built from a config, where its key may go, and the one
function that maps huggingface_hub's exceptions to `modelhub.errors`.

The key rule: the config's `api_key` (or `token`) goes where the config points. With
none, a key the SDK would find by itself (`HF_TOKEN`, the saved login) is allowed only
where the request goes to Hugging Face's own hosts (the router, `*.huggingface.co`,
Inference Endpoints on `*.huggingface.cloud`); anywhere else the request carries no
`Authorization` at all. With `base_url` given, the SDK makes no Hub lookup. The SDK
sends no telemetry in its user agent (ours replaces it) and retries nothing itself.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from modelhub._secrets import LOGGERS, protect_logger, remember
from modelhub.errors import InvalidRequestError, ModelhubError
from modelhub.http import deadline
from modelhub.http.deadline import timeout_for
from modelhub.http.errors import (
    ErrorContext,
    api_error,
    connection_error,
    error_fields,
    public_url,
    timeout_error,
    under_domains,
)
from modelhub.providers.huggingface.config import HFInferenceConfig
from modelhub.wrappers.base import ModelWrapperBase
from modelhub.wrappers.sdk import (
    ItemReader,
    PerLoop,
    acall_sdk,
    aread_sdk_stream,
    call_sdk,
    read_sdk_stream,
)

if TYPE_CHECKING:
    from huggingface_hub import AsyncInferenceClient, InferenceClient

__all__ = ["HF_ROUTER", "HFInferenceBase", "is_hf_host", "map_hf_error"]

PROVIDER = "huggingface"
HF_ROUTER = "https://router.huggingface.co"
TOKEN_ENV = "HF_TOKEN"
# Hosts a key the SDK finds by itself may be sent to.
_HF_DOMAINS = ("huggingface.co", "huggingface.cloud")
# Sent instead of the SDK's user agent, which lists installed packages.
USER_AGENT = "modelhub/0.1; hf_hub"
# A token the SDK is given when it must send none: it stops the SDK looking for one
# (HF_TOKEN, the saved login) and is never sent (the Authorization header is removed).
_NO_TOKEN = "modelhub-no-token"
# The SDK's loggers (a logger's filters see only its own records).
SDK_LOGGERS = ("huggingface_hub", "huggingface_hub.utils._http",
               "huggingface_hub.inference._client", "huggingface_hub.inference._common",
               "huggingface_hub.inference._generated._async_client",
               "huggingface_hub.inference._providers",
               "huggingface_hub.inference._providers._common")
# The SDK's classes of TGI's error types, and the status each stands for (others: 500).
_TGI_STATUS = {"ValidationError": 400, "OverloadedError": 503}


def is_hf_host(url: str) -> bool:
    """Whether `url` is on one of Hugging Face's own hosts, over HTTPS."""
    return under_domains(url, _HF_DOMAINS)


def _body_of(response: Any) -> Any:
    try:
        text = response.text
    except Exception:  # a streamed response not read: no body to show
        return None
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return text


def hf_error_fields(body: Any) -> tuple[str | None, str | None]:
    """(message, code) of a Hugging Face error body: `{"error": "..."}` (with
    `error_type` from TGI, `estimated_time` for a loading model) or
    `{"error": {"message": ...}}`."""
    message, code = error_fields(body)
    if isinstance(body, dict):
        code = code or (str(body["error_type"]) if body.get("error_type") else None)
        estimated = body.get("estimated_time")
        if message and isinstance(estimated, (int, float)) and not isinstance(estimated, bool):
            message = f"{message} (estimated time: {estimated:g} s)"
    return message, code


def _raised_in(exc: BaseException, package: str) -> bool:
    """Whether the innermost Python frame of `exc`'s traceback is in `package`."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    name = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return bool(name == package or name.startswith(package + "."))


def map_hf_error(exc: BaseException, context: ErrorContext) -> ModelhubError | None:
    """The `modelhub.errors` class for an exception huggingface_hub (or its HTTP
    library) raised; None for anything else. Raise it outside the `except` that caught
    `exc`, so that `exc` is not kept as its context."""
    from huggingface_hub import errors as hf

    if isinstance(exc, ModelhubError):
        return None
    response = getattr(exc, "response", None)
    cause = exc.__cause__
    if isinstance(exc, hf.TextGenerationError):
        # TGI's typed errors: in a 200 stream (no response), or parsed from an error
        # answer (the HTTP error is their cause).
        if isinstance(cause, hf.HfHubHTTPError):
            response = cause.response
        status = response.status_code if response is not None else \
            _TGI_STATUS.get(type(exc).__name__, 500)
        return api_error(status, str(exc) or None, context=context,
                         headers=response.headers if response is not None else None,
                         body=_body_of(response) if response is not None else None,
                         code=type(exc).__name__)
    if isinstance(exc, hf.HfHubHTTPError) and response is not None:
        body = _body_of(response)
        message, code = hf_error_fields(body)
        return api_error(response.status_code, message, context=context,
                         headers=response.headers, body=body, code=code)
    if isinstance(exc, hf.OfflineModeIsEnabled):
        return connection_error(context, "HF_HUB_OFFLINE is set, and huggingface_hub then "
                                         "refuses every request, base_url included")
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TimeoutError) or type(exc).__name__.endswith("TimeoutException"):
        return timeout_error(context, detail)
    module = type(exc).__module__.split(".")[0]
    if module in ("httpx", "httpx2", "httpcore", "requests", "aiohttp") \
            or isinstance(exc, ConnectionError):
        return connection_error(context, f"could not reach the server ({detail})")
    if isinstance(exc, ValueError) and _raised_in(exc, "huggingface_hub"):
        # The SDK refused the request before sending it (an unknown provider, a model
        # no provider serves, a key the auto-router cannot use).
        from modelhub._secrets import redact

        return InvalidRequestError(redact(str(exc), context.secrets), **context.fields())
    return None


def _keep_session_to_deadline() -> None:
    """Have huggingface_hub's process-wide sync session (the one its clients send
    through; rebuilt if someone closes it) keep to the deadline of the call in flight:
    each attempt bounded as a whole. Outside a call's `within`, nothing changes for
    other users of huggingface_hub."""
    deadline.install(_session_getter()())


@functools.cache
def _session_getter() -> Callable[[], Any]:
    """huggingface_hub's `get_session` (imported once: its package resolves names
    lazily, which costs more than the rest of the check)."""
    from huggingface_hub.utils import get_session

    return get_session  # type: ignore[no-any-return]


class HFInferenceBase(ModelWrapperBase):
    """Base of the Hugging Face Inference wrappers: the clients and their errors."""

    required_modules: ClassVar[tuple[str, ...]] = ("huggingface_hub",)
    extra: ClassVar[str | None] = "huggingface"

    config: HFInferenceConfig
    context: ErrorContext
    client_args: dict[str, Any]
    _client: InferenceClient | None
    _aclients: PerLoop[AsyncInferenceClient]

    def setup(self) -> None:
        """Work out where requests go and with which key; clients are built on use."""
        cfg = self.config
        url = cfg.wire_url()
        to_hf = is_hf_host(url) if url else cfg.provider in (None, "auto", "hf-inference")
        headers: dict[str, Any] = {"user-agent": USER_AGENT,
                                   **{k.lower(): v for k, v in cfg.wire_headers().items()}}
        token = cfg.api_key.get_secret_value() if cfg.api_key is not None else None
        if token is None:
            env = os.environ.get(TOKEN_ENV)
            if not to_hf and not url and env and env.startswith("hf_"):
                to_hf = True  # an HF token reaches third-party providers via HF's router
            if to_hf:
                token = env or None  # None: the SDK reads the saved login itself
            else:
                token = _NO_TOKEN
                headers.setdefault("authorization", None)  # dropped by the SDK
        self.client_args = {"token": token, "timeout": cfg.timeout, "headers": headers,
                            "bill_to": cfg.bill_to}
        if url:
            self.client_args["base_url"] = url
        else:
            self.client_args["provider"] = cfg.provider
        secrets = [s for s in (token if token != _NO_TOKEN else None,
                               *cfg.secret_values()) if s]
        self.context = ErrorContext(provider=PROVIDER, config_name=cfg.config_name,
                                    url=public_url(url or HF_ROUTER), secrets=tuple(secrets),
                                    timeout=cfg.timeout)
        self._client = None
        self._aclients = PerLoop(self._new_aclient)
        # For calls given their own timeout: the event loop's client for each.
        self._aclients_for: dict[float | None, PerLoop[AsyncInferenceClient]] = {}
        protect_logger(*LOGGERS, *SDK_LOGGERS)
        remember(self, secrets)

    def error_context(self) -> ErrorContext:
        """The calls' context: its secrets include a key read from HF_TOKEN."""
        return self.context

    def new_client(self) -> InferenceClient:
        """A new sync client (a stream gets its own: the SDK keeps every streamed
        response of a client open until the client is closed), with the call's own
        timeout, if given, for each read."""
        from huggingface_hub import InferenceClient

        _keep_session_to_deadline()
        timeout = timeout_for(self.config.timeout)
        if timeout == self.config.timeout:
            return InferenceClient(**self.client_args)
        return InferenceClient(**{**self.client_args, "timeout": timeout})

    def client(self) -> InferenceClient:
        """The sync client for complete answers (its HTTP pool is the SDK's, shared)."""
        if timeout_for(self.config.timeout) != self.config.timeout:
            return self.new_client()  # the call's own timeout (a client is light)
        _keep_session_to_deadline()
        if self._client is None:
            self._client = self.new_client()
        return self._client

    def aclient(self) -> AsyncInferenceClient:
        """The async client of the running event loop (one per loop: its HTTP client
        cannot cross loops), for the call's timeout."""
        timeout = timeout_for(self.config.timeout)
        if timeout == self.config.timeout:
            return self._aclients.get()
        clients = self._aclients_for.get(timeout)
        if clients is None:
            clients = self._aclients_for[timeout] = PerLoop(
                lambda: self._new_aclient(timeout))
        return clients.get()

    def _new_aclient(self, timeout: float | None = None) -> AsyncInferenceClient:
        from huggingface_hub import AsyncInferenceClient

        if timeout is None or timeout == self.config.timeout:
            return AsyncInferenceClient(**self.client_args)
        return AsyncInferenceClient(**{**self.client_args, "timeout": timeout})

    def model_arg(self) -> str | None:
        """The model the SDK is asked for: the config's model name."""
        return self.model_name

    def map_error(self, exc: BaseException) -> ModelhubError | None:
        """This config's `modelhub.errors` instance for what huggingface_hub raised (see
        `map_hf_error`)."""
        return map_hf_error(exc, self.context)

    def open_stream(self, open_: Callable[[InferenceClient], Iterable[Any]],
                    reader: ItemReader) -> Iterator[str]:
        """`open_(client)` on a client of its own (the SDK keeps every streamed response
        of a client open until the client is closed), its deltas as `reader` finds
        them; the client closed however the reading ends."""
        client = self.new_client()
        try:
            chunks = call_sdk(lambda: open_(client), self.map_error)
        except BaseException:
            client.close()
            raise
        return read_sdk_stream(chunks, reader, self.map_error, client.close,
                               context=self.context)

    async def aopen_stream(self, open_: Callable[[AsyncInferenceClient], Awaitable[Any]],
                           reader: ItemReader) -> AsyncIterator[str]:
        """Async twin of `open_stream`: a client of its own per stream, sending through
        the event loop's HTTP session, closed however the reading ends (which closes
        the streamed response and hands its connection back)."""
        client = await self._stream_aclient()
        try:
            chunks = await acall_sdk(lambda: open_(client), self.map_error)
        except BaseException:
            await client.close()
            raise
        return aread_sdk_stream(chunks, reader, self.map_error, client.close,
                                context=self.context)

    async def _stream_aclient(self) -> AsyncInferenceClient:
        """An async client for one stream. The SDK keeps each streamed response in its
        client's exit stack until the client is closed (the loop's shared client would
        hold every stream's response, and its connection, for good), and gives each
        client an HTTP session of its own, whose TLS set-up costs tens of milliseconds;
        so the stream's client is lent the loop client's session (the SDK's private
        `_get_async_client` / `_async_client`; without them, it builds its own). Its
        timeout for each read is the call's own, if given."""
        client = self._new_aclient(timeout_for(self.config.timeout))
        shared = self.aclient()
        session_of = getattr(shared, "_get_async_client", None)
        if session_of is not None and hasattr(client, "_async_client"):
            client._async_client = await session_of()
        return client
