"""The one exception tree of modelhub.

Every error modelhub raises is a :class:`ModelhubError`::

    ModelhubError
    ├── ConfigError                 a config could not be loaded or validated
    │   └── UnknownModelTypeError   its model_type names no known wrapper
    ├── ConfigNotFoundError         get() of a config_name that is not loaded
    ├── PluginLoadError             a plugin's entry point failed to import
    │   └── MissingDependencyError  a wrapper's SDK extra is not installed
    ├── UnsupportedFeatureError     a call asked a wrapper for what it cannot do
    ├── InvalidArgumentError        a call's keyword argument misspells a known parameter
    ├── BudgetExceededError         a call would take a config past its `budget`
    └── ModelCallError              a call to a model failed (config_name, url, provider)
        ├── ModelAPIError           the provider answered with an error
        │   ├── BadRequestError         400, 422
        │   │   └── ContextLengthError  the input is longer than the model's context
        │   ├── AuthenticationError     401
        │   ├── PermissionDeniedError   403
        │   ├── NotFoundError           404
        │   ├── RateLimitError          429 (carries retry_after)
        │   └── ServerError             5xx
        ├── ModelTimeoutError       no answer in time (carries timeout)
        ├── ModelConnectionError    the provider could not be reached, or a stream broke
        ├── InvalidRequestError     the request cannot be sent as built (never retried)
        └── ResponseParseError      the answer could not be understood

Provider modules map their SDK's exceptions onto this tree in one place each, through
`modelhub.http.errors`. No message here ever holds a secret: callers redact before
raising.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceededError",
    "ConfigError",
    "ConfigIssue",
    "ConfigNotFoundError",
    "ContextLengthError",
    "InvalidArgumentError",
    "InvalidRequestError",
    "MissingDependencyError",
    "ModelAPIError",
    "ModelCallError",
    "ModelConnectionError",
    "ModelTimeoutError",
    "ModelhubError",
    "NotFoundError",
    "PermissionDeniedError",
    "PluginLoadError",
    "RateLimitError",
    "ResponseParseError",
    "ServerError",
    "UnknownModelTypeError",
    "UnsupportedFeatureError",
    "error_class_for_status",
    "render_location",
]


class ModelhubError(Exception):
    """Base class of every error modelhub raises."""


# The most issues a ConfigError's message lists; `issues` holds them all.
MAX_SHOWN = 100


def render_location(path: str | None, line: int | None) -> str:
    """`path:line`, `path`, or '' for a config that came from memory."""
    if path is None:
        return ""
    return f"{path}:{line}" if line is not None else path


@dataclass(frozen=True)
class ConfigIssue:
    """One problem found in one config: where it is and what would be valid."""

    message: str
    config_name: str | None = None
    field: str | None = None
    path: str | None = None
    line: int | None = None
    error: BaseException | None = dataclass_field(default=None, compare=False, repr=False)

    def where(self) -> str:
        """`path:line` of the problem, or '' when the config came from memory."""
        return render_location(self.path, self.line)

    def __str__(self) -> str:
        parts = []
        if self.where():
            parts.append(self.where())
        subject = f"config {self.config_name!r}" if self.config_name else "config"
        if self.field:
            subject += f", field {self.field!r}"
        parts.append(subject)
        return f"{': '.join(parts)}: {self.message}"


class ConfigError(ModelhubError, ValueError):
    """One or more configs are invalid; `issues` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue] | ConfigIssue | str) -> None:
        if isinstance(issues, str):
            issues = [ConfigIssue(issues)]
        elif isinstance(issues, ConfigIssue):
            issues = [issues]
        self.issues: list[ConfigIssue] = list(issues)
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.issues) == 1:
            return str(self.issues[0])
        lines = [f"{len(self.issues)} config errors:"]
        lines += [f"  - {issue}" for issue in self.issues[:MAX_SHOWN]]
        if len(self.issues) > MAX_SHOWN:
            lines.append(f"  ... and {len(self.issues) - MAX_SHOWN} more")
        return "\n".join(lines)

    @property
    def config_name(self) -> str | None:
        """The config of the first issue (convenient when there is only one)."""
        return self.issues[0].config_name if self.issues else None

    @property
    def field(self) -> str | None:
        """The field of the first issue."""
        return self.issues[0].field if self.issues else None

    @property
    def path(self) -> str | None:
        """The file of the first issue, if it came from a file."""
        return self.issues[0].path if self.issues else None

    @property
    def line(self) -> int | None:
        """The line of the first issue, if it came from a file."""
        return self.issues[0].line if self.issues else None


class UnknownModelTypeError(ConfigError):
    """A config's model_type is not registered; the message lists the known ones."""

    def __init__(self, issues: list[ConfigIssue] | ConfigIssue, model_type: str,
                 known: list[str]) -> None:
        self.model_type = model_type
        self.known_types = sorted(known)
        super().__init__(issues)


class ConfigNotFoundError(ModelhubError, KeyError):
    """No config of that name is loaded; the message suggests the closest names."""

    def __init__(self, config_name: str, suggestions: list[str], loaded: list[str]) -> None:
        self.config_name = config_name
        self.suggestions = suggestions
        msg = f"no model config named {config_name!r} is loaded"
        if suggestions:
            msg += "; did you mean " + " or ".join(repr(s) for s in suggestions) + "?"
        elif not loaded:
            msg += "; no configs are loaded: call modelhub.init(model_configs=...) first"
        else:
            shown = ", ".join(loaded[:10])
            more = f" and {len(loaded) - 10} more" if len(loaded) > 10 else ""
            msg += f"; loaded: {shown}{more}"
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return str(self.args[0])


class PluginLoadError(ModelhubError, ImportError):
    """A plugin's entry point could not be imported; only its own model types fail."""

    def __init__(self, message: str, *, distribution: str | None = None,
                 model_type: str | None = None) -> None:
        self.distribution = distribution
        self.model_type = model_type
        super().__init__(message)


class MissingDependencyError(PluginLoadError):
    """A wrapper's SDK is not installed; the message names the extra to install."""

    def __init__(self, message: str, *, extra: str | None = None,
                 model_type: str | None = None) -> None:
        self.extra = extra
        super().__init__(message, distribution="modelhub", model_type=model_type)


class UnsupportedFeatureError(ModelhubError, ValueError):
    """A call asked a wrapper for something it cannot do (tools, images, a format...);
    raised before any request is sent."""

    def __init__(self, message: str, *, config_name: str | None = None,
                 capability: str | None = None) -> None:
        self.config_name = config_name
        self.capability = capability
        super().__init__(message)


class InvalidArgumentError(ModelhubError, TypeError):
    """A call's keyword argument is a near miss of a generation parameter the provider
    knows (`temprature`); the message names the right spelling."""


class BudgetExceededError(ModelhubError):
    """A call would take its config past its `budget` (in USD or tokens); raised before
    anything is sent. `spent` is what the config has used so far, `estimate` what this
    call was reckoned to add, `budget` the limit, `unit` "usd" or "tokens"."""

    def __init__(self, message: str, *, config_name: str | None = None,
                 budget: float | None = None, spent: float | None = None,
                 estimate: float | None = None, unit: str = "usd") -> None:
        self.config_name = config_name
        self.budget = budget
        self.spent = spent
        self.estimate = estimate
        self.unit = unit
        super().__init__(message)


class ModelCallError(ModelhubError):
    """A call to a model failed. Says which config failed and where it was going:
    `config_name`, `provider` and `url` (scheme, host, port and path; never a query or
    user info). `partial_text` holds what a broken stream had delivered."""

    def __init__(self, message: str, *, provider: str | None = None,
                 config_name: str | None = None, url: str | None = None,
                 partial_text: str | None = None) -> None:
        self.message = message
        self.provider = provider
        self.config_name = config_name
        self.url = url
        self.partial_text = partial_text
        super().__init__(message)

    def _detail(self) -> str:
        return self.message

    def __str__(self) -> str:
        head = " ".join(p for p in (self.provider,
                                    f"config {self.config_name!r}" if self.config_name else None)
                        if p)
        if self.url:
            head = f"{head} ({self.url})" if head else self.url
        return f"{head}: {self._detail()}" if head else self._detail()


class ModelAPIError(ModelCallError):
    """The provider answered with an error status, or an error inside a stream."""

    status_code: int | None

    def __init__(self, message: str, *, status_code: int | None = None,
                 body: Any = None, code: str | None = None, **context: Any) -> None:
        self.status_code = status_code
        self.body = body
        self.code = code
        super().__init__(message, **context)

    def _detail(self) -> str:
        status = f"HTTP {self.status_code}: " if self.status_code is not None else ""
        return f"{status}{self.message}"


class BadRequestError(ModelAPIError):
    """The request was rejected as malformed (400, 422)."""


class ContextLengthError(BadRequestError):
    """The input (with the room asked for the answer) is longer than the model's context
    window: a 400 whose code or message says so, as each provider words it."""


class AuthenticationError(ModelAPIError):
    """The credentials were rejected (401)."""


class PermissionDeniedError(ModelAPIError):
    """The credentials lack permission (403)."""


class NotFoundError(ModelAPIError):
    """The model or endpoint does not exist (404)."""


class RateLimitError(ModelAPIError):
    """Too many requests (429); `retry_after` is the server's hint in seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(ModelAPIError):
    """The provider failed (5xx)."""


class ModelTimeoutError(ModelCallError, TimeoutError):
    """The provider did not answer in time; `timeout` is the limit in seconds."""

    def __init__(self, message: str, *, timeout: float | None = None, **context: Any) -> None:
        self.timeout = timeout
        super().__init__(message, **context)


class ModelConnectionError(ModelCallError, ConnectionError):
    """The provider could not be reached, or its stream ended early."""


class InvalidRequestError(ModelCallError, ValueError):
    """The request could not be sent as built: a header the HTTP library refuses, a URL
    that does not parse. Making it again cannot help, so it is never retried."""


class ResponseParseError(ModelCallError, ValueError):
    """The provider's answer could not be understood; `response` holds what was read
    (redacted); `text`, for an answer that does not follow the response_format asked
    for, the model's own text (of the last attempt, after `attempts` of them)."""

    def __init__(self, message: str, *, response: Any = None, text: str | None = None,
                 attempts: int = 1, **context: Any) -> None:
        self.response = response
        self.text = text
        self.attempts = attempts
        super().__init__(message, **context)


_STATUS_CLASSES: dict[int, type[ModelAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
}


def error_class_for_status(status_code: int | None) -> type[ModelAPIError]:
    """The error class for an HTTP status code (5xx -> ServerError)."""
    if status_code is None:
        return ModelAPIError
    if status_code >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status_code, ModelAPIError)
