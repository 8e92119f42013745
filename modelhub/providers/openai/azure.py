"""`azure_openai_chat` / `azure_openai_embedding`: the same protocol on an Azure
OpenAI deployment (`{endpoint}/openai/deployments/{deployment}`, `api-key` header,
`api-version` query), with Azure's environment variables as fallbacks."""

from __future__ import annotations

import os
from typing import ClassVar

from modelhub.http.errors import same_origin, under_domains
from modelhub.providers.openai.base import OpenAIWrapperBase
from modelhub.providers.openai.chat import OpenAIChatWrapper
from modelhub.providers.openai.config import (
    AZURE_ENDPOINT_ENV,
    AZURE_VERSION_ENV,
    AzureOpenAIChatConfig,
    AzureOpenAIEmbeddingConfig,
)
from modelhub.providers.openai.embedding import OpenAIEmbeddingWrapper

__all__ = ["AzureOpenAIChatConfig", "AzureOpenAIChatWrapper", "AzureOpenAIEmbeddingConfig",
           "AzureOpenAIEmbeddingWrapper"]

ENDPOINT_ENV = AZURE_ENDPOINT_ENV
VERSION_ENV = AZURE_VERSION_ENV
# Hosts of Azure OpenAI resources: a key from the environment may go to these.
AZURE_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")


class _AzureEndpoint(OpenAIWrapperBase):
    config: AzureOpenAIChatConfig | AzureOpenAIEmbeddingConfig

    def _endpoint(self) -> str | None:
        return self.config.azure_endpoint or os.environ.get(ENDPOINT_ENV)

    def base_url(self) -> str:
        """The deployment's URL (or the config's base_url, taken as that URL)."""
        if self.config.base_url:
            return self.config.base_url
        endpoint = self._endpoint()
        if not endpoint:
            raise self.config_error(f"no Azure endpoint: set 'azure_endpoint' or "
                                    f"{ENDPOINT_ENV}", "azure_endpoint")
        deployment = self.config.azure_deployment or self.model_name
        return f"{endpoint.rstrip('/')}/openai/deployments/{deployment}"

    def env_key_allowed(self, url: str) -> bool:
        """AZURE_OPENAI_API_KEY goes to the configured resource or an Azure host only."""
        endpoint = self._endpoint()
        return bool(endpoint and same_origin(url, endpoint)) or under_domains(url, AZURE_HOSTS)

    def query(self) -> dict[str, str]:
        """`api-version` (else OPENAI_API_VERSION) plus the config's default_query."""
        version = self.config.api_version or os.environ.get(VERSION_ENV)
        if not version:
            raise self.config_error(f"no API version: set 'api_version' or {VERSION_ENV}",
                                    "api_version")
        return {"api-version": version, **super().query()}


class AzureOpenAIChatWrapper(_AzureEndpoint, OpenAIChatWrapper):
    """Chat completions on an Azure OpenAI deployment."""

    model_type: ClassVar[str] = "azure_openai_chat"
    config_class: ClassVar[type[AzureOpenAIChatConfig]] = AzureOpenAIChatConfig
    config: AzureOpenAIChatConfig


class AzureOpenAIEmbeddingWrapper(_AzureEndpoint, OpenAIEmbeddingWrapper):
    """Embeddings on an Azure OpenAI deployment."""

    model_type: ClassVar[str] = "azure_openai_embedding"
    config_class: ClassVar[type[AzureOpenAIEmbeddingConfig]] = AzureOpenAIEmbeddingConfig
    config: AzureOpenAIEmbeddingConfig
