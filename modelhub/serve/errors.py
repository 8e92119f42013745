"""Errors of `modelhub serve`, in OpenAI's shape: `{"error": {"message", "type",
"param", "code"}}` with the matching HTTP status.

What the client got wrong (a malformed body, an unknown model, a missing key) is its
own 4xx. A failed model call is told apart by what failed: a request the model
refused as malformed stays 400, a rate limit stays 429 (with `Retry-After`), a model
that did not answer in time is 504, and anything else the backend did wrong (its own
5xx, a key it rejected, an answer that could not be read, no connection) is 502: the
client's request was fine, the model behind the server failed. Messages come from
`modelhub.errors`, which are redacted at the source; an unexpected exception is
logged and answered with a generic 500, never its text.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from modelhub.errors import (
    BadRequestError,
    ModelAPIError,
    ModelCallError,
    ModelhubError,
    ModelTimeoutError,
    RateLimitError,
)

__all__ = ["ServeError", "error_body", "from_exception"]

logger = logging.getLogger("modelhub.serve")

# OpenAI's error `type` for each status we answer with.
_TYPES = {400: "invalid_request_error", 401: "authentication_error",
          403: "permission_error", 404: "not_found_error", 405: "invalid_request_error",
          408: "timeout_error", 413: "invalid_request_error", 415: "invalid_request_error",
          429: "rate_limit_error", 500: "server_error", 502: "upstream_error",
          503: "server_error", 504: "timeout_error"}


@dataclass
class ServeError(Exception):
    """An error answered to the client: its status, message, and OpenAI's `type`,
    `code` and `param`; `headers` go out with it (`Retry-After`)."""

    status: int
    message: str
    code: str | None = None
    param: str | None = None
    type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        """The JSON body: OpenAI's error object."""
        return error_body(self.message, self.type or _TYPES.get(self.status, "error"),
                          self.code, self.param)


def error_body(message: str, type: str, code: str | None = None,
               param: str | None = None) -> dict[str, Any]:
    """`{"error": {"message", "type", "param", "code"}}`."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def _call_error(error: ModelCallError) -> ServeError:
    """A failed model call, as the client should see it."""
    where = f"model {error.config_name!r}" if error.config_name else "the model"
    if isinstance(error, RateLimitError):
        headers = {}
        if error.retry_after is not None and math.isfinite(error.retry_after):
            headers["retry-after"] = str(max(1, math.ceil(error.retry_after)))
        return ServeError(429, f"{where} is rate limited: {error.message}",
                          code="rate_limit_exceeded", headers=headers)
    if isinstance(error, BadRequestError):
        return ServeError(400, f"{where} rejected the request: {error.message}",
                          code=error.code)
    if isinstance(error, ModelTimeoutError):
        return ServeError(504, f"{where} did not answer in time: {error.message}",
                          code="model_timeout")
    status = f" (HTTP {error.status_code})" if isinstance(error, ModelAPIError) \
        and error.status_code is not None else ""
    return ServeError(502, f"{where} failed{status}: {error.message}", code="upstream_error")


def from_exception(error: BaseException) -> ServeError:
    """The client's view of an exception raised while answering a request."""
    if isinstance(error, ServeError):
        return error
    if isinstance(error, ModelCallError):
        return _call_error(error)
    if isinstance(error, (ModelhubError, TypeError, ValueError)):
        # Raised while the call was built, before anything was sent: the request asked
        # for what the model cannot take (tools, images, a misspelled argument...).
        return ServeError(400, str(error) or type(error).__name__)
    logger.error("unexpected error while answering a request", exc_info=error)
    return ServeError(500, "internal error while calling the model (see the server log)",
                      code="internal_error")
