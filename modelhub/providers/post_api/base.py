"""What the POST wrappers share: the endpoint built from the config, the request body
(`{messages_key: input, **json_args, **generate_args}`, as AgentScope sends it), the
retry policy with `retry_interval` as its backoff base, and reading the answer by a
dotted path, with an error that names the path and shows the shape that arrived."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import SecretStr

from modelhub._secrets import is_secret_name, redact
from modelhub.errors import ResponseParseError
from modelhub.http.client import JSONEndpoint
from modelhub.http.errors import ErrorContext
from modelhub.providers.post_api.config import PostAPIConfig
from modelhub.providers.post_api.paths import MISSING, ResponsePath, describe_shape
from modelhub.retry import RetryPolicy
from modelhub.wrappers.base import ModelWrapperBase

__all__ = ["PROVIDER", "PostAPIWrapperBase"]

PROVIDER = "post_api"
# The headers the endpoint sets itself, by their canonical spelling: a config's
# `content-type` replaces ours instead of going out beside it.
_CANONICAL = {"content-type": "Content-Type", "accept": "Accept", "user-agent": "User-Agent"}
# Where an answer with a status of 200 may carry an `error` object.
_ERROR_PLACES = (ResponsePath.parse("data"), ResponsePath.parse("data.response"))


class PostAPIWrapperBase(ModelWrapperBase):
    """Base of the POST wrappers: one endpoint (the config's URL) per wrapper."""

    required_modules: ClassVar[tuple[str, ...]] = ("httpx",)
    extra: ClassVar[str | None] = "post_api"

    config: PostAPIConfig
    endpoint: JSONEndpoint
    path: str  # the URL's path, POSTed to on the endpoint
    context: ErrorContext  # names this config and its URL in errors
    answer: ResponsePath
    usage: ResponsePath | None

    def setup(self) -> None:
        """Build the endpoint and compile the response paths."""
        cfg = self.config
        url = cfg.wire_url() or ""
        # The URL is POSTed to exactly as given, trailing slash included (the endpoint
        # keeps its base without one): the path is sent on each request.
        scheme, _, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        self.path = slash + path
        query = {k: v.get_secret_value() if isinstance(v, SecretStr) else v
                 for k, v in cfg.default_query.items()}
        headers = {_CANONICAL.get(k.lower(), k): v for k, v in cfg.wire_headers().items()}
        self.endpoint = JSONEndpoint(
            base_url=f"{scheme}://{host}", provider=PROVIDER, config_name=cfg.config_name,
            headers=headers, timeout=cfg.timeout, query=query,
            secrets=[*cfg.secret_values(), *(v for k, v in query.items() if is_secret_name(k))],
            verify=cfg.verify_ssl, proxy=cfg.proxy)
        self.context = self.endpoint.context_for(self.path)
        self.answer = ResponsePath.parse(cfg.answer_path())
        self.usage = self.optional_path(cfg.usage_path, None)

    def retry_policy(self, base_delay: float = 0.5) -> RetryPolicy:
        """`max_retries` retries, `retry_interval` seconds the base of the backoff
        (unless the config's `retry` block says otherwise)."""
        return super().retry_policy(self.config.retry_interval)

    @staticmethod
    def optional_path(given: str | None, default: str | None) -> ResponsePath | None:
        """The path a config gives, else `default`, compiled (None: not looked up)."""
        text = given if given is not None else default
        return ResponsePath.parse(text) if text else None

    def body(self, value: Any, params: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body: the input under `messages_key`, then json_args, then the
        generation arguments (each later one wins a clash)."""
        return {self.config.messages_key: value, **self.config.json_args, **params}

    def post(self, payload: dict[str, Any]) -> Any:
        """POST the body to the endpoint's URL; the decoded answer."""
        return self.endpoint.post(self.path, payload)

    async def apost(self, payload: dict[str, Any]) -> Any:
        """Async twin of `post`."""
        return await self.endpoint.apost(self.path, payload)

    # -- reading the answer ---------------------------------------------------------------
    def no_match(self, path: ResponsePath, body: Any, what: str) -> ResponseParseError:
        """The error for an answer where `path` finds nothing: it names the path and
        where it stopped, and shows the shape of the answer (no values)."""
        message = (f"{what} not found: response_path {path.text!r} does not match the "
                   f"answer ({path.miss(body)}); the answer's shape: {describe_shape(body)}")
        return ResponseParseError(redact(message, self.endpoint.secrets), response=body)

    def find(self, path: ResponsePath | None, body: Any) -> Any:
        """What an optional path finds (None when it is unset or finds nothing)."""
        if path is None:
            return None
        found = path.find(body)
        return None if found is MISSING else found

    def error_in(self, body: Any) -> None:
        """Raise the API error an answer with a status of 200 carries in an `error`
        object at its top, or at `data` / `data.response` (AgentScope's wrapping): its
        class by its status or code where it has one, else `ModelAPIError` (not
        retried: nothing says that asking again would help)."""
        from modelhub.http.errors import api_error, error_fields, status_for_error_code

        for where in (body, *(self.find(path, body) for path in _ERROR_PLACES)):
            if isinstance(where, Mapping) and where.get("error"):
                message, code = error_fields(where)
                err = where["error"]
                fields = err if isinstance(err, Mapping) else where
                status = status_for_error_code(fields.get("status"), fields.get("status_code"),
                                               fields.get("code"), fields.get("type"))
                raise api_error(status, message or "an error answer", context=self.context,
                                body=body, code=code)

    def parse_usage(self, body: Any) -> Any:
        """The usage at `usage_path` (OpenAI's field names), else None."""
        from modelhub.providers.openai.wire import parse_usage

        return parse_usage(self.find(self.usage, body))
