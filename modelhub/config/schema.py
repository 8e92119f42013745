"""The pydantic models every wrapper's config builds on.

A wrapper declares `config_class`, a subclass of `ModelConfig` (or of
`RemoteModelConfig` for anything reached over the network). Unknown keys are
errors; secrets are `SecretStr`; AgentScope's spellings of a base URL
(`client_args.base_url`, `host`, `api_url`, `api_base`) are folded into
`base_url` so its config files load unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

__all__ = ["ConfigModel", "ModelConfig", "RemoteModelConfig"]

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
    budget: float | None = Field(
        default=None, ge=0,
        description="Accepted for AgentScope configs; modelhub does not enforce a budget.")
    parse_retries: int = Field(
        default=0, ge=0, le=10,
        description="Chat models: how many times a call with a response_format is asked "
                    "again, shown the parse error, when its answer does not parse.")

    @model_validator(mode="after")
    def _default_model_name(self) -> ModelConfig:
        if self.model_name is None:
            object.__setattr__(self, "model_name", self.config_name)
        return self


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
        description="Seconds the whole call may take (None: no limit).")
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
