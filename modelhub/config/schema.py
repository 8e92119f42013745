"""The pydantic models every wrapper's config builds on.

A wrapper declares `config_class`, a subclass of `ModelConfig` (or of
`RemoteModelConfig` for anything reached over the network). Unknown keys are
errors; secrets are `SecretStr`; AgentScope's spellings of a base URL
(`client_args.base_url`, `host`, `api_url`, `api_base`) are folded into
`base_url` so its config files load unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

__all__ = ["FALLBACK_CLASSES", "Budget", "ConfigModel", "FallbackClass", "ModelConfig",
           "Pricing", "RemoteModelConfig", "RetrySettings"]

# The AgentScope spellings of `base_url`, in the order they are looked for.
BASE_URL_ALIASES = ("host", "api_url", "api_base")
# Where AgentScope and smolagents put SDK client arguments (a base_url among them).
CLIENT_ARGS_KEYS = ("client_args", "client_kwargs")


class ConfigModel(BaseModel):
    """Base of every config model: strict keys, frozen, no input echoed in errors."""

    # defer_build: a schema is built when a class first validates, so base classes
    # and unused model types cost nothing at import.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
        protected_namespaces=(),
        defer_build=True,
    )


# The error classes a config may fall back on (see `modelhub.calls.fallbacks`).
FallbackClass = Literal["rate_limit", "server_error", "timeout", "connection",
                        "context_length", "auth", "not_found", "budget"]
FALLBACK_CLASSES: tuple[str, ...] = ("rate_limit", "server_error", "timeout", "connection",
                                     "context_length", "auth", "not_found", "budget")


class RetrySettings(ConfigModel):
    """How a failed call is retried: on 408, 409, 429, 5xx, timeouts and connection
    errors. `max_retries: N` is the short form of `retry: {attempts: N+1}`."""

    attempts: int | None = Field(
        default=None, ge=1, le=21,
        description="Attempts in all, the first included (default: max_retries + 1).")
    backoff_base: float = Field(
        default=0.5, ge=0, le=600, allow_inf_nan=False,
        description="Seconds before the first retry; each next one waits twice as long.")
    backoff_max: float = Field(
        default=30.0, ge=0, le=3600, allow_inf_nan=False,
        description="The longest wait between two attempts (seconds).")
    jitter: float = Field(
        default=0.25, ge=0, le=1, allow_inf_nan=False,
        description="Each backoff is multiplied by a random factor within 1 ± jitter.")
    max_retry_after: float = Field(
        default=30.0, ge=0, le=3600, allow_inf_nan=False,
        description="The longest Retry-After honoured (seconds); a server asking for more "
                    "is not waited for, and the error goes up (to a fallback, if any).")


class Pricing(ConfigModel):
    """What a config's calls cost, in USD per million tokens (and per call)."""

    input: float = Field(default=0.0, ge=0, allow_inf_nan=False,
                         description="USD per million input (prompt) tokens.")
    output: float = Field(default=0.0, ge=0, allow_inf_nan=False,
                          description="USD per million output (completion) tokens.")
    per_call: float = Field(default=0.0, ge=0, allow_inf_nan=False,
                            description="USD per successful call (an image, say).")


class Budget(ConfigModel):
    """The most a config may spend in this process: in USD, in tokens, or both."""

    usd: float | None = Field(default=None, ge=0, allow_inf_nan=False,
                              description="USD (needs a price: `pricing`, or a model in "
                                          "the bundled table).")
    tokens: int | None = Field(default=None, ge=0,
                               description="Input and output tokens together.")

    @model_validator(mode="after")
    def _one_at_least(self) -> Budget:
        if self.usd is None and self.tokens is None:
            raise ValueError("a budget names `usd`, `tokens` or both")
        return self


class ModelConfig(ConfigModel):
    """What every model config has.

    A subclass lists in `known_params` the generation parameters its provider knows,
    so that a misspelling of one is caught (see `modelhub.config.params`).
    """

    known_params: ClassVar[frozenset[str]] = frozenset()

    config_name: str = Field(min_length=1, description="Unique name code asks for.")
    model_type: str = Field(min_length=1, description="Entry-point name of the wrapper.")
    model_name: str | None = Field(
        default=None, description="The provider's model name; defaults to config_name.")
    generate_args: dict[str, Any] = Field(
        default_factory=dict,
        description="Default generation arguments; per-call keyword arguments override them.")
    retry: RetrySettings | None = Field(
        default=None, description="How failed calls are retried (attempts, backoff, "
        "jitter, the longest Retry-After honoured).")
    fallbacks: list[str] = Field(
        default_factory=list, description="Configs tried in order when a call still "
        "fails after its retries with an error of a class in `fallback_on`.")
    fallback_on: list[FallbackClass] | None = Field(
        default=None, description="The error classes that move a call to the fallbacks "
        "(default: rate_limit, server_error, timeout, connection, context_length).")
    rpm: int | None = Field(default=None, gt=0,
                            description="Requests per minute at most (calls wait for room).")
    tpm: int | None = Field(default=None, gt=0,
                            description="Tokens per minute at most (calls wait for room).")
    pricing: Pricing | None = Field(
        default=None, description="USD per million tokens; default: the bundled table "
        "of well-known models.")
    budget: Budget | None = Field(
        default=None, description="The most this config may spend in this process: USD "
        "(a number, as AgentScope's), or {usd, tokens}. Each call holds its worst case "
        "(input, and max_tokens or else what is left, up to 4096, which it is then sent "
        "as its limit); one that does not fit raises BudgetExceededError before it is "
        "sent.")
    log: str | None = Field(
        default=None, min_length=1,
        description="An SQLite file recording each call of this config (opt-in). A "
        "relative path in a config file is relative to that file's folder (in a config "
        "given as a dict, to the working directory); `~` and ${VAR} are expanded.")

    parse_retries: int = Field(
        default=0, ge=0, le=10,
        description="Chat models: how many times a call with a response_format is asked "
                    "again, shown the parse error, when its answer does not parse.")

    @field_validator("fallbacks")
    @classmethod
    def _check_fallbacks(cls, names: list[str], info: ValidationInfo) -> list[str]:
        if any(not name for name in names):
            raise ValueError("a config name is empty")
        if info.data.get("config_name") in names:
            raise ValueError("a config cannot fall back on itself")
        if len(set(names)) != len(names):
            raise ValueError("a config name is given twice")
        return names

    @field_validator("budget", mode="before")
    @classmethod
    def _budget_in_usd(cls, value: Any) -> Any:
        # AgentScope's budget is a number of USD.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return {"usd": value}
        return value

    @model_validator(mode="after")
    def _default_model_name(self) -> ModelConfig:
        if self.model_name is None:
            object.__setattr__(self, "model_name", self.config_name)
        if self.retry is not None and self.retry.attempts is not None:
            self._check_attempts()
        return self

    def _check_attempts(self) -> None:
        """`retry.attempts` and `max_retries`, both given, agree."""
        attempts = self.retry.attempts if self.retry is not None else None
        max_retries = getattr(self, "max_retries", None)
        if max_retries is not None and "max_retries" in self.model_fields_set \
                and attempts != max_retries + 1:
            raise ValueError(
                f"retry.attempts ({attempts}) and max_retries ({max_retries}) "
                "disagree: max_retries is the short form of retry.attempts - 1; give one")


class RemoteModelConfig(ModelConfig):
    """A model reached over the network.

    Secrets are `SecretStr` from load to wire: `api_key`, header values and query
    parameters whose name says they are secret, and a password in `base_url` (shown
    masked; `wire_url()` restores it).
    """

    api_key: SecretStr | None = Field(default=None, description="The API key (a secret).")
    base_url: str | None = Field(
        default=None, description="The API's base URL, as the provider's own SDK means it.")
    timeout: float | None = Field(
        default=60.0, gt=0, allow_inf_nan=False,
        description="Seconds each attempt of a call may take in all; a stream's, up to its "
                    "first delta, then between two deltas (None: no limit).")
    max_retries: int = Field(
        default=2, ge=0, le=20,
        description="Retries on 429, 5xx, timeouts and connection errors.")
    headers: dict[str, str | SecretStr] = Field(
        default_factory=dict, description="Extra HTTP headers sent with every request.")
    verify_ssl: bool = Field(default=True, description="Verify TLS certificates.")
    proxy: str | None = Field(default=None, description="HTTP(S) or SOCKS proxy URL.")

    _url_password: SecretStr | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _fold_base_url_aliases(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        nested = [k for k in CLIENT_ARGS_KEYS if isinstance(data.get(k), dict)
                  and data[k].get("base_url") is not None]
        if not nested and not any(k in data for k in BASE_URL_ALIASES):
            return data  # base_url alone, or no address at all: nothing to fold
        found = {k: data[k] for k in ("base_url", *BASE_URL_ALIASES) if data.get(k) is not None}
        found.update({f"{k}.base_url": data[k]["base_url"] for k in nested})
        if not found:
            return data
        if len(set(map(str, found.values()))) > 1:
            raise ValueError(
                "base URL given more than once with different values: "
                + ", ".join(repr(k) for k in found))
        data = {k: v for k, v in data.items() if k not in BASE_URL_ALIASES}
        for k in nested:
            data[k] = {key: v for key, v in data[k].items() if key != "base_url"}
        data["base_url"] = next(iter(found.values()))
        return data

    @field_validator("api_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from modelhub.config.checks import check_key

            check_key(value.get_secret_value(), "api_key")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is not None:
            from modelhub.config.checks import check_url

            check_url(value)
        return value

    @field_validator("proxy")
    @classmethod
    def _check_proxy(cls, value: str | None) -> str | None:
        if value is not None:
            from modelhub.config.checks import check_proxy

            check_proxy(value)
        return value

    @field_validator("headers")
    @classmethod
    def _check_headers(cls, value: dict[str, Any]) -> dict[str, Any]:
        from modelhub.config.checks import secret_entries

        return secret_entries(value, "header", header=True) if value else value

    @model_validator(mode="after")
    def _hide_url_password(self) -> RemoteModelConfig:
        if self.base_url and "@" in self.base_url:
            from modelhub.config.checks import split_password

            shown, password = split_password(self.base_url)
            if password is not None:
                object.__setattr__(self, "base_url", shown)
                self._url_password = SecretStr(password)
        return self

    def wire_url(self, url: str | None = None) -> str | None:
        """`url` (default: base_url) as sent: with its user-info password restored."""
        url = self.base_url if url is None else url
        if url is None or self._url_password is None:
            return url
        from modelhub._secrets import MASK

        return url.replace(f":{MASK}@", f":{self._url_password.get_secret_value()}@", 1)

    def wire_headers(self) -> dict[str, str]:
        """The extra headers as sent, secrets unwrapped."""
        return {k: v.get_secret_value() if isinstance(v, SecretStr) else v
                for k, v in self.headers.items()}

    def secret_values(self) -> list[str]:
        """Every secret this config holds, to be redacted from any text shown."""
        values = [v.get_secret_value() for v in (self.api_key, self._url_password) if v]
        values += [v.get_secret_value() for v in self.headers.values()
                   if isinstance(v, SecretStr)]
        # "Bearer sk-..." and "Basic ..." headers: the bare token is a secret too.
        values += [v.split(" ", 1)[1] for v in list(values) if " " in v]
        return [v for v in values if v]
