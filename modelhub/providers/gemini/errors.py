"""The one place where `google-genai`'s exceptions become `modelhub.errors`.

Google's error body is `{"error": {"code", "message", "status", "details"}}`; a 429
says when to come back in a `Retry-After` header or, more often, in a
`google.rpc.RetryInfo` detail (`"retryDelay": "30s"`). The same body inside a 200
stream raises the same classes. The SDK's exceptions are never chained: they hold the
request, and so its key header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from modelhub.errors import ModelhubError
from modelhub.http.errors import (
    SHAPE_ERRORS,
    ErrorContext,
    api_error,
    connection_error,
    summarize_text,
    transport_error,
)

__all__ = ["GRPC_STATUS", "map_error", "retry_delay"]

# google.rpc.Code names, as Google's APIs put them in `error.status`, and their HTTP
# statuses (for an error that arrives without a number, as a stream's may).
GRPC_STATUS = {
    "INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403, "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409, "ABORTED": 409, "RESOURCE_EXHAUSTED": 429, "CANCELLED": 499,
    "INTERNAL": 500, "UNKNOWN": 500, "DATA_LOSS": 500, "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503, "DEADLINE_EXCEEDED": 504,
}
_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def _error_object(body: Any) -> Mapping[str, Any]:
    if isinstance(body, list) and len(body) == 1:  # a streamed array holding the error
        body = body[0]
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            return inner
    return {}


def retry_delay(body: Any) -> float | None:
    """Seconds a `google.rpc.RetryInfo` detail asks to wait (`"retryDelay": "30s"`)."""
    details = _error_object(body).get("details")
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, Mapping) and detail.get("@type") == _RETRY_INFO:
            delay = detail.get("retryDelay")
            if isinstance(delay, Mapping):  # the proto form: {"seconds", "nanos"}
                return float(delay.get("seconds") or 0) + float(delay.get("nanos") or 0) / 1e9
            match = _DURATION.match(delay) if isinstance(delay, str) else None
            if match:
                return float(match.group(1))
    return None


def _headers(exc: Any) -> dict[str, str]:
    headers = getattr(getattr(exc, "response", None), "headers", None)
    try:
        return {str(k): str(v) for k, v in dict(headers or {}).items()}
    except (TypeError, ValueError):
        return {}


def _api_error(exc: Any, context: ErrorContext) -> ModelhubError:
    body = exc.details
    error = _error_object(body)
    code = exc.status if isinstance(exc.status, str) else None
    status = exc.code if isinstance(exc.code, int) and not isinstance(exc.code, bool) \
        else GRPC_STATUS.get(code or "", 500)
    headers = _headers(exc)
    if status == 429 and not any(k.lower() in ("retry-after", "retry-after-ms")
                                 for k in headers):
        delay = retry_delay(body)
        if delay is not None:
            headers["retry-after"] = f"{delay:g}"
    message = exc.message if isinstance(exc.message, str) else error.get("message")
    return api_error(status, message if isinstance(message, str) else None, context=context,
                     headers=headers, body=body, code=code)


# Words in the names of the SDK's models of what is sent (`GenerateContentConfig`,
# `_GenerateContentParameters`, `_EmbedContentParametersPrivate`, ...): a
# ValidationError of one of these is about the arguments, not the answer.
_REQUEST_MODELS = ("Config", "Parameters")


def _invalid_argument(exc: Any) -> ModelhubError:
    """What the SDK's request types refused, field by field (never the value)."""
    from modelhub.errors import InvalidArgumentError

    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'the request'}: {e['msg']}"
                         for e in exc.errors(include_input=False, include_url=False)[:5])
    return InvalidArgumentError(f"arguments not accepted by google-genai: {problems}")


# The SDK's functions that read an answer (its converters are `*_from_mldev` and
# `*_from_vertex`, its models' `_from_response`): an exception raised inside one is
# about the answer's shape, wherever in the SDK it surfaced.
_READERS = ("_from_mldev", "_from_vertex", "_from_response", "_load_json_from_response")


def _while_reading_answer(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name.endswith(_READERS):
            return True
        tb = tb.tb_next
    return False


def _http_library_error(exc: BaseException) -> bool:
    """Whether `exc` is a transport failure of httpx2 (the SDK's HTTP library, and so
    ours for it) or httpx, without importing either."""
    import sys

    name = type(exc).__module__.partition(".")[0]
    library = sys.modules.get(name) if name in ("httpx", "httpx2") else None
    return library is not None and isinstance(exc, library.HTTPError)


def map_error(exc: BaseException, context: ErrorContext) -> ModelhubError | None:
    """The `modelhub.errors` instance for an exception the SDK (or its HTTP library)
    raised: arguments the SDK's types refuse (before anything is sent) are an
    InvalidArgumentError, and what the SDK raises while reading an answer of a shape it
    does not expect a ResponseParseError; None for an exception that is not about the
    call. Raise the result outside the `except` block."""
    import json

    from google.auth import exceptions as auth_errors
    from google.genai import errors as genai_errors
    from pydantic import ValidationError

    from modelhub._secrets import redact
    from modelhub.errors import AuthenticationError, ModelCallError, ResponseParseError
    from modelhub.http.errors import unexpected_shape, with_context

    failure: ModelhubError
    if isinstance(exc, ModelCallError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        failure = _api_error(exc, context)
    elif _http_library_error(exc):
        failure = transport_error(exc, context)
    elif isinstance(exc, (genai_errors.UnknownApiResponseError, json.JSONDecodeError)):
        shown = exc.doc if isinstance(exc, json.JSONDecodeError) else \
            str(exc).partition("Raw response: ")[2] or str(exc)
        failure = with_context(ResponseParseError(
            f"the answer is not JSON: {summarize_text(shown)!r}", response=shown[:2000],
            **context.fields()), context)
    elif isinstance(exc, ValidationError):
        if any(word in exc.title for word in _REQUEST_MODELS):  # refused before sending
            return _invalid_argument(exc)
        failure = unexpected_shape(exc, f"{exc.error_count()} field(s) of the answer",
                                   context)
    elif isinstance(exc, SHAPE_ERRORS) and _while_reading_answer(exc):
        failure = unexpected_shape(exc, "the answer", context)
    elif isinstance(exc, auth_errors.TransportError):
        failure = connection_error(context, f"could not reach Google's auth server ({exc})")
    elif isinstance(exc, auth_errors.GoogleAuthError):  # no or refused credentials
        # Not an answer of the model's API, so no HTTP status.
        failure = AuthenticationError(redact(f"Google credentials: {exc}", context.secrets),
                                      **context.fields())
    else:
        return None
    return failure

