"""`azure_openai_chat` / `azure_openai_embedding`: the same protocol on an Azure
OpenAI deployment (`{endpoint}/openai/deployments/{deployment}`, `api-key` header,
`api-version` query), with Azure's environment variables as fallbacks."""

from __future__ import annotations

import os
from typing import ClassVar

from pydantic import Field

from modelhub.config.schema import ConfigModel
from modelhub.errors import ConfigError, ConfigIssue
from modelhub.providers.openai.base import OpenAIWrapperBase
from modelhub.providers.openai.chat import OpenAIChatWrapper
from modelhub.providers.openai.config import OpenAIChatConfig
from modelhub.providers.openai.embedding import OpenAIEmbeddingConfig, OpenAIEmbeddingWrapper

__all__ = ["AzureOpenAIChatConfig", "AzureOpenAIChatWrapper", "AzureOpenAIEmbeddingConfig",
           "AzureOpenAIEmbeddingWrapper"]


class _AzureMixin(ConfigModel):
    azure_endpoint: str | None = Field(
        default=None, description="https://<resource>.openai.azure.com "
                                  "(else AZURE_OPENAI_ENDPOINT).")
    api_version: str | None = Field(default=None, description="Else OPENAI_API_VERSION.")
    azure_deployment: str | None = Field(
        default=None, description="The deployment; defaults to model_name.")


class AzureOpenAIChatConfig(_AzureMixin, OpenAIChatConfig):
    """`azure_openai_chat`: chat completions on an Azure OpenAI deployment."""


class AzureOpenAIEmbeddingConfig(_AzureMixin, OpenAIEmbeddingConfig):
    """`azure_openai_embedding`: embeddings on an Azure OpenAI deployment."""


class _AzureEndpointMixin(OpenAIWrapperBase):
    provider: ClassVar[str] = "azure_openai"
    api_key_env: ClassVar[tuple[str, ...]] = ("AZURE_OPENAI_API_KEY",)
    config: AzureOpenAIChatConfig | AzureOpenAIEmbeddingConfig

    def _missing(self, what: str, field: str, env: str) -> ConfigError:
        return ConfigError(ConfigIssue(
            f"no {what}: set {field!r} in the config or the {env} environment variable",
            config_name=self.config_name, field=field))

    def base_url(self) -> str:
        """The deployment's URL (or the config's base_url, taken as that URL)."""
        if self.config.base_url:
            return self.config.base_url
        endpoint = self.config.azure_endpoint or os.environ.get("AZURE_OPENAI_ENDPOINT")
        if not endpoint:
            raise self._missing("Azure endpoint", "azure_endpoint", "AZURE_OPENAI_ENDPOINT")
        deployment = self.config.azure_deployment or self.model_name
        return f"{endpoint.rstrip('/')}/openai/deployments/{deployment}"

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """Azure takes the key in an `api-key` header."""
        return {"api-key": api_key} if api_key else {}

    def query(self) -> dict[str, str]:
        """`api-version` (else OPENAI_API_VERSION) plus the config's default_query."""
        version = self.config.api_version or os.environ.get("OPENAI_API_VERSION")
        if not version:
            raise self._missing("API version", "api_version", "OPENAI_API_VERSION")
        return {"api-version": version, **self.config.default_query}


class AzureOpenAIChatWrapper(_AzureEndpointMixin, OpenAIChatWrapper):
    """Chat completions on an Azure OpenAI deployment."""

    model_type: ClassVar[str] = "azure_openai_chat"
    config_class: ClassVar[type[AzureOpenAIChatConfig]] = AzureOpenAIChatConfig
    config: AzureOpenAIChatConfig


class AzureOpenAIEmbeddingWrapper(_AzureEndpointMixin, OpenAIEmbeddingWrapper):
    """Embeddings on an Azure OpenAI deployment."""

    model_type: ClassVar[str] = "azure_openai_embedding"
    config_class: ClassVar[type[AzureOpenAIEmbeddingConfig]] = AzureOpenAIEmbeddingConfig
    config: AzureOpenAIEmbeddingConfig
