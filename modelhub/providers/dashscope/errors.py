"""DashScope's failures as `modelhub.errors`: `map_error`, the one function for what
the SDK raises, and `answer_error` for what it returns.

The SDK does not raise for an error answer: it returns a response whose `status_code`
is not 200 (an HTTP error, or an `event:error` inside a 200 stream, which the SDK
reports as 400 whatever the comment line `:HTTP_STATUS/...` says). The error `code`
DashScope documents says more than that status, so a known code decides the class.
Transport failures come as `requests` or `aiohttp` exceptions, and the SDK's own
checks as `DashScopeException`s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelhub.errors import AuthenticationError, InvalidRequestError, ModelAPIError, ModelhubError
from modelhub.http.errors import (
    SHAPE_ERRORS,
    ErrorContext,
    api_error,
    connection_error,
    timeout_error,
    unexpected_shape,
)

__all__ = ["answer_error", "map_error", "status_for_code"]

# DashScope's documented error codes (by prefix) and the HTTP status each stands for.
_CODE_STATUS = (
    ("InvalidApiKey", 401), ("AccessDenied", 403), ("Throttling", 429),
    ("BadRequest.TooLarge", 413), ("InternalError", 500), ("ServiceUnavailable", 503),
    ("InvalidParameter", 400), ("DataInspectionFailed", 400), ("BadRequest", 400),
    ("Arrearage", 400), ("InvalidURL", 400), ("UnsupportedOperation", 400),
    ("InvalidFile", 400), ("ModelNotFound", 404), ("ModelNotExist", 404),
)


def status_for_code(code: Any) -> int | None:
    """The HTTP status a DashScope error code stands for, if it is a documented one."""
    if not isinstance(code, str):
        return None
    return next((status for prefix, status in _CODE_STATUS
                 if code == prefix or code.startswith(prefix + ".")), None)


def _status(value: Any) -> int | None:
    try:
        status = int(value)
    except (TypeError, ValueError):
        return None
    return status if 400 <= status < 600 else None


def answer_error(answer: Mapping[str, Any], context: ErrorContext,
                 partial_text: str | None = None) -> ModelAPIError:
    """The error for an error answer the SDK returned (a status that is not 200)."""
    code = answer.get("code") or None
    message = answer.get("message")
    if not isinstance(message, str):
        message = None if message is None else str(message)
    status = status_for_code(code) or _status(answer.get("status_code")) or 500
    headers = answer.get("headers")
    body = {"code": code, "message": message, "request_id": answer.get("request_id")}
    error = api_error(status, message, context=context,
                      headers=headers if isinstance(headers, Mapping) else None,
                      body=body, code=str(code) if code else None)
    error.partial_text = partial_text
    return error


def map_error(source: BaseException, context: ErrorContext) -> ModelhubError | None:
    """The modelhub error for an exception the SDK (or `requests`, or `aiohttp`) raised;
    None for one of no kind known here, which goes on unchanged."""
    if isinstance(source, ModelhubError):
        return None
    import asyncio

    import aiohttp
    import requests
    from dashscope.common import error as sdk

    detail = f"{type(source).__name__}: {source}"
    if isinstance(source, (requests.Timeout, asyncio.TimeoutError)):
        return timeout_error(context, detail)
    if isinstance(source, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                           requests.exceptions.InvalidSchema, requests.exceptions.InvalidHeader,
                           aiohttp.InvalidURL, sdk.InvalidInput, sdk.InputRequired,
                           sdk.InvalidParameter, sdk.ModelRequired, sdk.InvalidFileFormat)):
        from modelhub._secrets import redact

        return InvalidRequestError(
            f"the request cannot be sent as built ({redact(detail, context.secrets)})",
            **context.fields())
    if isinstance(source, (requests.exceptions.InvalidJSONError, aiohttp.ContentTypeError)):
        return unexpected_shape(source, detail, context)
    if isinstance(source, (requests.RequestException, aiohttp.ClientError)):
        return connection_error(context, f"the request failed ({detail})")
    if isinstance(source, sdk.AuthenticationError):
        return AuthenticationError(
            "no DashScope API key: set api_key in the config, or DASHSCOPE_API_KEY",
            **context.fields())
    if isinstance(source, sdk.DashScopeException):  # an upload that failed, and the like
        return api_error(None, detail, context=context)
    if isinstance(source, SHAPE_ERRORS):  # the SDK met an answer it could not read
        return unexpected_shape(source, detail, context)
    return None
