"""Building `modelhub.errors` from what a provider answered, in one place for all.

`api_error` takes a status, a message, headers and a body (from an HTTP response or an
SDK's exception) and returns the right `ModelAPIError` subclass, with `Retry-After`
parsed and every secret redacted from the message and the body. An SDK-based provider
maps its exceptions with it in one short function; the JSON endpoint uses it for every
error status. Nothing here imports httpx at module level.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from modelhub._secrets import redact, redact_any
from modelhub.errors import (
    BadRequestError,
    ContextLengthError,
    InvalidRequestError,
    ModelAPIError,
    ModelCallError,
    ModelConnectionError,
    ModelhubError,
    ModelTimeoutError,
    RateLimitError,
    ResponseParseError,
    error_class_for_status,
)
from modelhub.http.jsonload import loads

__all__ = [
    "ErrorContext",
    "ErrorFields",
    "api_error",
    "connection_error",
    "decode_json",
    "error_fields",
    "is_context_length",
    "optional_str",
    "parse_answer",
    "public_url",
    "retry_after_seconds",
    "same_origin",
    "status_for_error_code",
    "summarize_text",
    "timeout_error",
    "transport_error",
    "under_domains",
    "unexpected_shape",
    "with_context",
]

T = TypeVar("T")
E = TypeVar("E", bound=ModelCallError)

# A provider's hook: the message and code found in a decoded error body.
ErrorFields = Callable[[Any], tuple[str | None, str | None]]

# Longest message kept from a body that is not a provider's error object.
MAX_MESSAGE = 300


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """What every error of one wrapper's calls carries: who failed and where."""

    provider: str
    config_name: str | None = None
    url: str | None = None  # already public: see `public_url`
    secrets: tuple[str, ...] = field(default=(), repr=False)
    timeout: float | None = None

    def at(self, url: str) -> ErrorContext:
        """The same context for a request to another (public) URL."""
        from dataclasses import replace

        return replace(self, url=url)

    def fields(self) -> dict[str, Any]:
        """The keyword arguments every `ModelCallError` takes."""
        return {"provider": self.provider, "config_name": self.config_name, "url": self.url}


def public_url(url: str) -> str:
    """`url` as it may be shown: scheme, host, port and path; no user info, no query."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparseable URL>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else parts.path


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str | None, int | None]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(scheme)


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs name the same scheme, host and port (where a key may go); a
    scheme's default port counts as given (`https://h` is `https://h:443`)."""
    try:
        return _origin(a) == _origin(b)
    except ValueError:
        return False


def under_domains(url: str, domains: tuple[str, ...]) -> bool:
    """Whether `url` is an HTTPS address, on its default port, of one of `domains` or
    of a host under one (`x.example.com` is under `example.com`; `xexample.com` is not):
    a provider's family of hosts, where `same_origin` names one."""
    try:
        scheme, host, port = _origin(url)
    except ValueError:
        return False
    host = (host or "").lower()
    return scheme == "https" and port == _DEFAULT_PORTS["https"] and any(
        host == d or host.endswith("." + d) for d in (d.lower().lstrip(".") for d in domains))


def _seconds(value: str, scale: float = 1.0) -> float | None:
    try:
        seconds = float(value) / scale
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The server's retry hint in seconds: `retry-after-ms`, or `retry-after` as seconds
    or as an HTTP date; None when absent or unreadable. Never negative."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after-ms")
    seconds = _seconds(value, 1000) if value else None
    if seconds is not None:
        return seconds
    value = lowered.get("retry-after")
    if not value:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        import time
        from email.utils import parsedate_to_datetime

        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def error_fields(body: Any) -> tuple[str | None, str | None]:
    """(message, code) of an error body in the common shapes: `{"error": {"message",
    "code" | "type"}}`, `{"error": "..."}`, `{"message": ...}`, `{"detail": ...}`."""
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping):
            message = err.get("message") or err.get("detail") or err.get("msg")
            code = err.get("code") or err.get("type")
            if message is not None and not isinstance(message, str):
                message = str(message)
            return (message or None), (str(code) if code not in (None, "") else None)
        if isinstance(err, str):
            code = body.get("code") or body.get("type")
            return err, (str(code) if code not in (None, "") else None)
    return None, None


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")


def summarize_text(text: str, limit: int = MAX_MESSAGE) -> str:
    """A short, one-line account of a body that is not an error object: an HTML page by
    its title (or first text), anything else by its first line, cut at `limit`."""
    text = text.strip()
    if text[:1] == "<":
        title = _TITLE.search(text)
        found = title.group(1) if title else _TAG.sub(" ", text)
        text = " ".join(found.split())
        text = f"an HTML page: {text}" if text else "an HTML page"
    else:
        text = text.splitlines()[0].strip() if text else ""
    return text if len(text) <= limit else text[:limit] + "..."


# Error `type`/`code` strings providers send, and the status they stand for.
_CODE_STATUS = {
    "invalid_request_error": 400,
    "bad_request": 400,
    "context_length_exceeded": 400,
    "authentication_error": 401,
    "invalid_api_key": 401,
    "permission_error": 403,
    "permission_denied": 403,
    "not_found_error": 404,
    "model_not_found": 404,
    "rate_limit_error": 429,
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "server_error": 500,
    "internal_error": 500,
    "api_error": 500,
    "overloaded_error": 503,
    "service_unavailable": 503,
}


def status_for_error_code(*codes: Any) -> int | None:
    """The HTTP status an error code or type stands for (a number, or a known name)."""
    for code in codes:
        if isinstance(code, bool):
            continue
        if isinstance(code, int) and 400 <= code < 600:
            return code
        if isinstance(code, str):
            if code.isdigit() and 400 <= int(code) < 600:
                return int(code)
            status = _CODE_STATUS.get(code.lower())
            if status is not None:
                return status
    return None


# Error codes, and words of messages, by which providers say the input does not fit the
# model's context window (each provider words it its own way; a 400 that says none of
# these stays a BadRequestError).
_CONTEXT_CODES = frozenset({"context_length_exceeded", "context_window_exceeded",
                            "model_context_window_exceeded", "string_above_max_length"})
_CONTEXT_WORDS = re.compile(
    r"maximum context length|context[ _]length[ _](?:exceeded|of)|context window"
    r"|longer than the model'?s context|prompt is too long|exceeds? (?:the )?context limit"
    r"|too large for model with|input (?:is )?too long|too many (?:input )?tokens"
    r"|exceeds the maximum number of tokens|range of input length should be"
    r"|length of all messages is too long|reduce the length of the messages"
    r"|tokens \+ `?max_new_tokens`? must be <="
    r"|上下文长度|prompt ?超长", re.IGNORECASE)


def is_context_length(status: int | None, message: str | None, code: str | None) -> bool:
    """Whether an error answer says the input is longer than the model's context: a
    400, 413 or 422 (or an error inside a stream, with no status) whose code or message
    says so."""
    if status not in (None, 400, 413, 422):
        return False
    if code and code.lower() in _CONTEXT_CODES:
        return True
    return message is not None and _CONTEXT_WORDS.search(message) is not None


def api_error(status: int | None, message: str | None, *, context: ErrorContext,
              headers: Mapping[str, str] | None = None, body: Any = None,
              code: str | None = None) -> ModelAPIError:
    """The `modelhub.errors` class for an error answer, secrets redacted.

    Redaction comes before any cut, so no part of a key survives a shortened message.
    """
    secrets = context.secrets
    if not message:
        message = (summarize_text(redact(body, secrets)) if isinstance(body, str) and body.strip()
                   else f"HTTP {status} with no message" if status else "an error answer")
    else:
        message = summarize_text(redact(message, secrets), limit=2000)
    cls: type[ModelAPIError] = error_class_for_status(status)
    if cls in (BadRequestError, ModelAPIError) and is_context_length(status, message, code):
        cls = ContextLengthError
    kwargs: dict[str, Any] = {"status_code": status, "body": redact_any(body, secrets),
                              "code": redact(code, secrets) if code else None,
                              **context.fields()}
    if cls is RateLimitError:
        kwargs["retry_after"] = retry_after_seconds(headers)
    return cls(message, **kwargs)


def decode_json(text: str | bytes, context: ErrorContext, what: str = "the answer") -> Any:
    """`text` decoded as JSON; a ResponseParseError naming `what` (the text redacted,
    the decoder's exception, which holds the whole text, not chained) if it is not."""
    try:
        return loads(text)
    except ValueError:
        pass  # raised below, so the decoder's exception (its .doc is the text) is not kept
    shown = redact(text.decode("utf-8", "replace") if isinstance(text, bytes) else text,
                   context.secrets)
    raise ResponseParseError(f"{what} is not JSON: {summarize_text(shown, 200)!r}",
                             response=shown[:2000], **context.fields())


def timeout_error(context: ErrorContext, detail: str = "",
                  partial_text: str | None = None) -> ModelTimeoutError:
    """The error for a call that took longer than its timeout (the call's own, when it
    gave one, else the context's)."""
    from modelhub.http.deadline import timeout_for

    timeout = timeout_for(context.timeout)
    limit = f" within {timeout:g} s" if timeout is not None else " in time"
    detail = f" ({redact(detail, context.secrets)})" if detail else ""
    return ModelTimeoutError(f"no answer{limit}{detail}", timeout=timeout,
                             partial_text=partial_text, **context.fields())


def connection_error(context: ErrorContext, detail: str,
                     partial_text: str | None = None) -> ModelConnectionError:
    """The error for a server that could not be reached, or a stream that broke."""
    return ModelConnectionError(redact(detail, context.secrets), partial_text=partial_text,
                                **context.fields())


def transport_error(exc: BaseException, context: ErrorContext,
                    partial_text: str | None = None) -> ModelhubError:
    """The modelhub error for an httpx (or httpx2) transport failure. Raise it outside
    the `except` that caught `exc`, so that `exc` (whose text may quote a header, and so
    a key) is not kept as its context."""
    import sys

    # The library that raised it: httpx, or its fork httpx2 (same exception names).
    library = type(exc).__module__.partition(".")[0]
    httpx: Any = sys.modules.get(library) if library in ("httpx", "httpx2") else None
    if httpx is None:
        import httpx

    detail = redact(f"{type(exc).__name__}: {exc}", context.secrets)
    if isinstance(exc, httpx.TimeoutException):
        return timeout_error(context, detail, partial_text)
    if isinstance(exc, (httpx.LocalProtocolError, httpx.InvalidURL, httpx.UnsupportedProtocol)):
        # The request itself is wrong (httpx quotes the offending header value, so the
        # text is redacted); sending it again cannot help.
        return InvalidRequestError(f"the request cannot be sent as built ({detail})",
                                   partial_text=partial_text, **context.fields())
    return connection_error(context, f"could not reach the server ({detail})", partial_text)


# What a parser raises when an answer is not of the shape it expects.
SHAPE_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def with_context(error: E, context: ErrorContext) -> E:
    """`error` with the call's config, provider and URL filled in where it lacks them,
    and a ResponseParseError's `response` redacted."""
    for name, value in context.fields().items():
        if getattr(error, name, None) is None:
            setattr(error, name, value)
    if isinstance(error, ResponseParseError) and error.response is not None:
        error.response = redact_any(error.response, context.secrets)
    error.message = redact(error.message, context.secrets)
    error.args = (error.message,)
    return error


def unexpected_shape(exc: BaseException, raw: Any, context: ErrorContext,
                     what: str = "the answer") -> ResponseParseError:
    """The error for a parser that met a shape it does not expect (the parser's own
    exception is not chained: it may quote the answer)."""
    shown = redact_any(raw, context.secrets)
    text = shown if isinstance(shown, str) else repr(shown)
    return ResponseParseError(
        f"{what} has an unexpected shape ({type(exc).__name__}): {text[:200]!r}",
        response=shown, **context.fields())


def parse_answer(parse: Callable[[Any], T], body: Any, context: ErrorContext) -> T:
    """`parse(body)`, every failure a ResponseParseError naming the call and holding the
    whole answer (redacted) in `response`."""
    try:
        return parse(body)
    except ResponseParseError as error:
        error.response = body
        failure = with_context(error, context)
    except SHAPE_ERRORS as exc:
        failure = unexpected_shape(exc, body, context)
    failure.__context__ = failure.__cause__ = None  # nothing chained may quote the body
    raise failure


def optional_str(value: Any, what: str) -> str | None:
    """`value` if it is a str or None; else a ResponseParseError naming `what`."""
    if value is None or isinstance(value, str):
        return value
    raise ResponseParseError(f"{what} is {type(value).__name__}, not a string")
