"""What every OpenAI-family wrapper shares: its profile, and the endpoint built from
its config (base URL, key, headers), keeping each key to its own provider's host."""

from __future__ import annotations

import os
from typing import ClassVar

from pydantic import SecretStr

from modelhub._secrets import is_secret_name
from modelhub.errors import ConfigError, ConfigIssue
from modelhub.http.client import JSONEndpoint
from modelhub.http.errors import ErrorContext, same_origin
from modelhub.providers.openai.config import OpenAIConfig
from modelhub.providers.openai.profiles import Profile, profile_for
from modelhub.wrappers.base import ModelWrapperBase

__all__ = ["OpenAIWrapperBase"]


class OpenAIWrapperBase(ModelWrapperBase):
    """Base of the OpenAI-protocol wrappers: one profile and one endpoint per wrapper."""

    required_modules: ClassVar[tuple[str, ...]] = ("httpx",)
    extra: ClassVar[str | None] = "openai"

    config: OpenAIConfig
    profile: Profile
    endpoint: JSONEndpoint

    def setup(self) -> None:
        """Pick the profile and build the endpoint (the pool is made on first request)."""
        self.profile = profile_for(self.config.provider, self.config.model_type)
        self.endpoint = self.make_endpoint()

    def error_context(self) -> ErrorContext:
        """The endpoint's context: it holds every secret sent, a key read from the
        environment included."""
        return self.endpoint.context

    def config_error(self, message: str, field: str) -> ConfigError:
        """A ConfigError about this config's `field`."""
        return ConfigError(ConfigIssue(message, config_name=self.config_name, field=field))

    def base_url(self) -> str:
        """Where requests go: the config's base_url, else the profile's own address (no
        environment variable moves it)."""
        if self.config.base_url:
            return self.config.base_url
        url = self.profile.base_url
        if not url:
            raise self.config_error(f"provider {self.profile.name!r} has no default "
                                    "address: set base_url", "base_url")
        return url

    def env_key_allowed(self, url: str) -> bool:
        """Whether a key from the profile's environment variables may go to `url`: only
        to the profile's own host."""
        profile = self.profile
        return bool(profile.base_url) and same_origin(url, profile.base_url or "")

    def api_key(self, url: str) -> str | None:
        """The key sent to `url`: the config's own, else (on the profile's host only) the
        first of the profile's environment variables that is set."""
        if self.config.api_key is not None:
            return self.config.api_key.get_secret_value()
        if not self.env_key_allowed(url):
            return None
        return next((os.environ[n] for n in self.profile.key_env if os.environ.get(n)), None)

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """The headers that carry the key (as the profile sends it) and the organisation."""
        headers: dict[str, str] = {}
        if api_key:
            if self.profile.auth == "api-key":
                headers["api-key"] = api_key
            else:
                headers["Authorization"] = f"Bearer {api_key}"
        if self.config.organization:
            headers["OpenAI-Organization"] = self.config.organization
        if self.config.project:
            headers["OpenAI-Project"] = self.config.project
        return headers

    def query(self) -> dict[str, str]:
        """Query parameters sent with every request, secrets unwrapped."""
        return {k: v.get_secret_value() if isinstance(v, SecretStr) else v
                for k, v in self.config.default_query.items()}

    def make_endpoint(self) -> JSONEndpoint:
        """The endpoint for this config."""
        cfg = self.config
        url = self.base_url()
        key = self.api_key(url)
        query = self.query()
        secret_query = [v for k, v in query.items() if is_secret_name(k)]
        return JSONEndpoint(
            base_url=cfg.wire_url(url) or url, provider=self.profile.name,
            config_name=cfg.config_name,
            headers={**self.auth_headers(key), **cfg.wire_headers()}, timeout=cfg.timeout,
            secrets=[s for s in [key, *cfg.secret_values(), *secret_query] if s], query=query,
            verify=cfg.verify_ssl, proxy=cfg.proxy)
