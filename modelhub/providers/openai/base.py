"""What every OpenAI-family wrapper shares: building its endpoint from its config."""

from __future__ import annotations

import os
from typing import ClassVar

from modelhub.providers.openai.client import OpenAIEndpoint
from modelhub.providers.openai.config import OpenAIConfig
from modelhub.wrappers.base import ModelWrapperBase

__all__ = ["DEFAULT_BASE_URL", "OpenAIWrapperBase"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIWrapperBase(ModelWrapperBase):
    """Base of the OpenAI-protocol wrappers: one `OpenAIEndpoint` per wrapper."""

    required_modules: ClassVar[tuple[str, ...]] = ("httpx",)
    extra: ClassVar[str | None] = "openai"
    provider: ClassVar[str] = "openai"
    api_key_env: ClassVar[tuple[str, ...]] = ("OPENAI_API_KEY",)

    config: OpenAIConfig
    endpoint: OpenAIEndpoint

    def setup(self) -> None:
        """Build the endpoint (the shared connection pool is made on first request)."""
        self.endpoint = self.make_endpoint()

    def base_url(self) -> str:
        """Where requests go: the config's base_url, else OPENAI_BASE_URL, else OpenAI."""
        return self.config.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """The headers that carry the key and the organisation."""
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        if self.config.organization:
            headers["OpenAI-Organization"] = self.config.organization
        if self.config.project:
            headers["OpenAI-Project"] = self.config.project
        return headers

    def query(self) -> dict[str, str]:
        """Query parameters sent with every request."""
        return dict(self.config.default_query)

    def make_endpoint(self) -> OpenAIEndpoint:
        """The endpoint for this config."""
        cfg = self.config
        key = cfg.api_key_value(*self.api_key_env)
        headers = {**self.auth_headers(key), **cfg.headers}
        return OpenAIEndpoint(
            base_url=self.base_url(), headers=headers, timeout=cfg.timeout,
            secrets=[s for s in [key, *cfg.secret_values()] if s], provider=self.provider,
            query=self.query(), verify=cfg.verify_ssl, proxy=cfg.proxy)
