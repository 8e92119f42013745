"""The SDK client a ZhipuAI wrapper talks through, and the one function that maps the
SDK's exceptions to `modelhub.errors`.

The client is `zai.ZhipuAiClient` given everything explicitly, so that no environment
variable (`ZAI_API_KEY`, `ZAI_BASE_URL`) can redirect a key: the base URL, the key (or
none), `max_retries=0` (ours is the only retry policy) and the shared connection pool
as its HTTP client. A key read from the environment goes only to its own host.

With `disable_token_cache: false` the SDK sends a JWT it signs with the key instead of
the key; the tokens it signs are kept so that they are redacted like the key.
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from modelhub.errors import (
    ConfigError,
    ConfigIssue,
    ModelAPIError,
    ModelhubError,
    ResponseParseError,
)
from modelhub.http.errors import (
    ErrorContext,
    api_error,
    connection_error,
    error_fields,
    public_url,
    same_origin,
    timeout_error,
    transport_error,
)
from modelhub.providers.zhipuai.config import ZhipuAIConfig
from modelhub.wrappers.base import ModelWrapperBase

if TYPE_CHECKING:
    from zai import ZhipuAiClient

__all__ = [
    "DEFAULT_BASE_URL",
    "HOST_KEY_ENV",
    "ZhipuAIWrapperBase",
    "error_in_answer",
    "map_error",
    "status_for_code",
]

PROVIDER = "zhipuai"
DEFAULT_BASE_URL = "https://open.bigmodel.cn/api/paas/v4"
# Zhipu's own hosts, each with the variable its key is read from (for that host only).
HOST_KEY_ENV = {"https://open.bigmodel.cn": "ZHIPUAI_API_KEY", "https://api.z.ai": "ZAI_API_KEY"}
# The SDK's loggers (a logger's filters see only its own records).
SDK_LOGGERS = ("zai.core._http_client", "zai.api_resource.chat.completions",
               "zai.core._response")


def status_for_code(code: Any) -> int | None:
    """The HTTP status that goes with Zhipu's business error `code`, for an error that
    arrives inside a 200 answer. By the ranges of Zhipu's error-code reference:
    1000-1004 authentication; 1100-1121 the account (in arrears, locked: 429, as Zhipu
    answers them); 1200-1234 the call (1220 no permission, 1221/1222 no such API, 1230
    and 1234 Zhipu's own failures); 1300/1301 a policy block; 1302 and up rate and
    quota limits; 500 an internal error."""
    try:
        n = int(str(code))
    except ValueError:
        return None
    if 400 <= n < 600:
        return n
    for low, high, status in ((1000, 1004, 401), (1100, 1121, 429), (1220, 1220, 403),
                              (1221, 1222, 404), (1230, 1230, 500), (1234, 1234, 500),
                              (1200, 1299, 400), (1300, 1301, 400), (1302, 1399, 429)):
        if low <= n <= high:
            return status
    return None


def error_in_answer(error: Any, context: ErrorContext) -> ModelAPIError:
    """The error for Zhipu's `{"error": {"code", "message"}}` sent inside a 200 answer."""
    body = {"error": error}
    message, code = error_fields(body)
    return api_error(status_for_code(code) or 500, message or "error inside the answer",
                     context=context, body=body, code=code)


def _status_error(response: Any, context: ErrorContext) -> ModelAPIError:
    import json

    text = response.text
    try:
        body: Any = json.loads(text) if text.strip() else None
    except ValueError:
        body = text
    message, code = error_fields(body)
    return api_error(response.status_code, message, context=context,
                     headers=dict(response.headers), body=body, code=code)


def map_error(exc: BaseException, context: ErrorContext,
              partial_text: str | None = None) -> ModelhubError | None:
    """The `modelhub.errors` class for an exception the SDK (or its HTTP library, while
    a stream is read) raised; None for anything else. Raise the result outside the
    `except` that caught `exc`: the SDK's messages quote the answer."""
    import json

    import httpx
    from zai.core import _errors as sdk

    if isinstance(exc, sdk.APITimeoutError):
        return timeout_error(context, partial_text=partial_text)
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__
        if isinstance(cause, httpx.HTTPError):
            return transport_error(cause, context, partial_text)
        return connection_error(context, "could not reach the server", partial_text)
    if isinstance(exc, sdk.APIStatusError):
        return _status_error(exc.response, context)
    if isinstance(exc, sdk.APIResponseValidationError):
        return ResponseParseError("the answer does not fit the SDK's types",
                                  partial_text=partial_text, **context.fields())
    if isinstance(exc, sdk.APIResponseError):  # an error event inside a 200 stream
        return error_in_answer(exc.json_data, context)
    if isinstance(exc, httpx.HTTPError):
        return transport_error(exc, context, partial_text)
    if isinstance(exc, json.JSONDecodeError):
        return ResponseParseError("a stream event is not JSON", partial_text=partial_text,
                                  **context.fields())
    return None


@functools.cache
def client_class() -> type[ZhipuAiClient]:
    """`ZhipuAiClient`, sending no Authorization header without a key and keeping the
    tokens it signs (with `disable_token_cache: false`) to redact them."""
    from zai import ZhipuAiClient

    from modelhub._secrets import remember

    class Client(ZhipuAiClient):
        signed: tuple[str, ...] = ()  # the latest tokens signed

        @property
        def auth_headers(self) -> dict[str, str]:
            if not self.api_key:
                return {"x-source-channel": self.source_channel or "python-sdk"}
            headers = dict(super().auth_headers)
            if not self.disable_token_cache:
                token = headers.get("Authorization", "").removeprefix("Bearer ")
                if token and token not in self.signed:
                    self.signed = (*self.signed[-3:], token)
                    remember(self, (self.api_key, *self.signed))
            return headers

    return Client


class ZhipuAIWrapperBase(ModelWrapperBase):
    """Base of the ZhipuAI wrappers: one SDK client and one error context each."""

    required_modules: ClassVar[tuple[str, ...]] = ("zai",)
    extra: ClassVar[str | None] = "zhipuai"
    path: ClassVar[str] = ""  # the endpoint's path under base_url, for errors

    config: ZhipuAIConfig
    client: Any
    _context: ErrorContext

    def setup(self) -> None:
        """Build the SDK client (nothing is sent)."""
        from modelhub._secrets import LOGGERS, protect_logger, remember
        from modelhub.http import pool

        cfg = self.config
        url = self.base_url()
        key = self.api_key(url) or ""
        if not cfg.disable_token_cache and key.count(".") != 1:
            raise ConfigError(ConfigIssue(
                "disable_token_cache: false signs a JWT with the key, which needs Zhipu's "
                "'id.secret' form", config_name=cfg.config_name, field="api_key"))
        wire_url = cfg.wire_url(url) or url
        client = client_class()(
            api_key=key, base_url=wire_url, timeout=cfg.timeout, max_retries=0,
            http_client=pool.sync_client(pool.transport_key(wire_url, cfg.verify_ssl,
                                                            cfg.proxy)),
            custom_headers=cfg.wire_headers() or None,
            disable_token_cache=cfg.disable_token_cache, source_channel=cfg.source_channel)
        self.client = client
        secrets = tuple(s for s in (key, *cfg.secret_values()) if s)
        self._context = ErrorContext(provider=PROVIDER, config_name=cfg.config_name,
                                     url=public_url(url.rstrip("/") + self.path),
                                     secrets=secrets, timeout=cfg.timeout)
        protect_logger(*LOGGERS, *SDK_LOGGERS)
        remember(self, secrets)

    def base_url(self) -> str:
        """The config's base_url, else Zhipu's."""
        return self.config.base_url or DEFAULT_BASE_URL

    def api_key(self, url: str) -> str | None:
        """The config's key, else the key of `url`'s host from its variable (only for
        Zhipu's own hosts)."""
        if self.config.api_key is not None:
            return self.config.api_key.get_secret_value()
        for origin, env in HOST_KEY_ENV.items():
            if same_origin(url, origin):
                return os.environ.get(env) or None
        return None

    @property
    def context(self) -> ErrorContext:
        """What the errors of this wrapper's calls carry (the signed tokens as secrets)."""
        signed = self.client.signed
        if signed:
            return replace(self._context, secrets=(*self._context.secrets, *signed))
        return self._context

    def map_error(self, exc: BaseException, partial_text: str | None = None
                  ) -> ModelhubError | None:
        """This wrapper's mapping of the SDK's failures (`map_error` with its context)."""
        return map_error(exc, self.context, partial_text)
