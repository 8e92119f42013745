"""What every DashScope wrapper shares: where its calls go, with which key, and the
keyword arguments that say so to the SDK on every call.

The SDK takes a per-call `base_address` (the prefix before `/services/...`), `api_key`,
`request_timeout`, `headers` and `session`; nothing here touches its module-wide
settings. Without a key in the config, the key from DASHSCOPE_API_KEY (or the SDK's
own key file) is used only when calls go to DashScope's own host; elsewhere no key is
sent.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from modelhub.errors import ModelhubError
from modelhub.http.deadline import timeout_for
from modelhub.http.errors import ErrorContext, public_url, same_origin
from modelhub.providers.dashscope.config import DEFAULT_BASE_URL, OWN_HOSTS, DashScopeConfig
from modelhub.providers.dashscope.errors import map_error
from modelhub.wrappers.base import ModelWrapperBase
from modelhub.wrappers.sdk import call_sdk

if TYPE_CHECKING:
    import aiohttp
    import requests

__all__ = ["RESERVED", "DashScopeWrapperBase"]

# SDK keyword arguments the config decides; a call's generation arguments may not.
RESERVED = frozenset({"api_key", "base_address", "request_timeout", "session", "headers",
                      "api_protocol", "http_method", "model", "messages", "input", "prompt"})


class DashScopeWrapperBase(ModelWrapperBase):
    """Base of the DashScope wrappers: the address, key, headers and transport of one
    config, as keyword arguments for the SDK's calls."""

    required_modules: ClassVar[tuple[str, ...]] = ("dashscope",)
    extra: ClassVar[str | None] = "dashscope"
    # The path after the base address, for error messages ("/services/...").
    service_path: ClassVar[str] = ""

    config: DashScopeConfig
    base_address: str
    context: ErrorContext
    _key: str | None
    _session: requests.Session | None

    def setup(self) -> None:
        """Settle the address and key, and import the SDK now rather than on the first
        call."""
        import dashscope  # noqa: F401  (its import takes most of a second)

        from modelhub._secrets import protect_logger, remember

        cfg = self.config
        self.base_address = (cfg.wire_url() or DEFAULT_BASE_URL).rstrip("/")
        self._key = self._pick_key()
        secrets = [s for s in (self._key, *cfg.secret_values()) if s]
        self.context = ErrorContext(
            "dashscope", cfg.config_name, public_url(self.base_address + self.service_path),
            tuple(secrets), cfg.timeout)
        protect_logger("dashscope")  # the SDK logs request bodies at debug level
        remember(self, secrets)
        # Its own session (not the SDK's shared one), whose connections keep to the
        # deadline: each attempt is bounded as a whole, not each read alone.
        from modelhub.http.deadline_requests import deadline_session

        session = deadline_session()
        session.verify = cfg.verify_ssl
        if cfg.proxy:
            session.proxies = {"http": cfg.proxy, "https": cfg.proxy}
        self._session = session

    def own_host(self) -> bool:
        """Whether calls go to one of DashScope's own hosts."""
        return any(same_origin(self.base_address, f"https://{host}") for host in OWN_HOSTS)

    def _pick_key(self) -> str | None:
        """The config's key; on DashScope's own host, else DASHSCOPE_API_KEY, else None
        (the SDK then reads its key file); elsewhere "" (no key)."""
        key = self.config.api_key.get_secret_value() if self.config.api_key else ""
        if key:  # an empty key (`${VAR:-}` unset) counts as none given
            return key
        if not self.own_host():
            return ""
        return os.environ.get("DASHSCOPE_API_KEY") or None

    def sdk_key(self) -> str:
        """The key, for SDK entry points that do not look one up themselves."""
        if self._key is not None:
            return self._key
        from dashscope.common.api_key import get_default_api_key

        return str(call_sdk(get_default_api_key, self.map_error))

    def check_reserved(self, params: dict[str, Any]) -> None:
        """Refuse generation arguments that would override what the config decides."""
        if not params or RESERVED.isdisjoint(params):
            return
        clash = sorted(RESERVED.intersection(params))
        if clash:
            raise TypeError(f"{', '.join(map(repr, clash))} cannot be a generation argument "
                            "of a DashScope model: the config sets it")

    def sdk_kwargs(self, timeout: float | None = None, *, aio_session: Any = None,
                   sync: bool = True) -> dict[str, Any]:
        """The keyword arguments every SDK call gets: key, address, timeout (`timeout`,
        else the call's own, else the config's: what each read may take), headers (a
        fresh dict: the SDK edits it), workspace and the session (for sync calls this
        config's `requests` one, keeping to the attempt's deadline; for async ones the
        given aiohttp one, for a proxy or unverified TLS)."""
        cfg = self.config
        kwargs: dict[str, Any] = {
            "api_key": self._key, "base_address": self.base_address,
            "request_timeout": timeout if timeout is not None else timeout_for(cfg.timeout),
            "headers": cfg.wire_headers()}
        if cfg.workspace is not None:
            kwargs["workspace"] = cfg.workspace
        session = self._session if sync else aio_session
        if session is not None:
            kwargs["session"] = session
        return kwargs

    def uploader(self) -> Callable[[str], str]:
        """A function that uploads a local file (a path or `file://` URL) with the SDK's
        upload code and returns its `oss://` URL. The upload policy is asked of this
        config's address, once per uploader (the SDK would ask its module-wide one)."""
        certificate: dict[str, Any] = {}

        def upload(value: str) -> str:
            from dashscope.utils.oss_utils import check_and_upload_local

            if not certificate:
                certificate.update(self._upload_certificate())
            _, url, _ = call_sdk(lambda: check_and_upload_local(
                self.model_name, value, self.sdk_key(), certificate), self.map_error)
            return str(url)

        return upload

    def _upload_certificate(self) -> dict[str, Any]:
        from dashscope.utils.oss_utils import OssUtils

        from modelhub.errors import ResponseParseError
        from modelhub.providers.dashscope.wire import check_answer

        kwargs = {**self.sdk_kwargs(), "api_key": self.sdk_key()}
        kwargs.pop("session", None)  # the SDK's GET takes none
        answer = call_sdk(lambda: OssUtils.get_upload_certificate(
            model=self.model_name, **kwargs), self.map_error)
        check_answer(answer, self.context)
        output = answer.get("output")
        if not isinstance(output, dict) or not output.get("upload_host"):
            raise ResponseParseError("the upload policy answer has no upload_host",
                                     **self.context.fields())
        return output

    @contextlib.asynccontextmanager
    async def aio_session(self) -> AsyncIterator[aiohttp.ClientSession | None]:
        """For a proxy or unverified TLS, an aiohttp session for one async call (aiohttp
        sessions belong to one event loop); otherwise None: the SDK's shared one."""
        cfg = self.config
        if not (cfg.proxy or not cfg.verify_ssl):
            yield None
            return
        import aiohttp

        connector = None if cfg.verify_ssl else aiohttp.TCPConnector(ssl=False)
        session = aiohttp.ClientSession(connector=connector, proxy=cfg.proxy)
        try:
            yield session
        finally:
            await session.close()

    def error_context(self) -> ErrorContext:
        """The calls' context: its secrets include a key read from DASHSCOPE_API_KEY."""
        return self.context

    def map_error(self, exc: BaseException) -> ModelhubError | None:
        """This config's `modelhub.errors` instance for what the SDK raised (see
        `errors.map_error`)."""
        return map_error(exc, self.context)
