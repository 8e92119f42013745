"""The config classes of the OpenAI family, apart from its wrapper code: `init()` imports
this module alone (it is what `modelhub.config_classes` names for every model type of
the family), so it imports only the standard library, pydantic and modelhub's config
layer.

They accept AgentScope's keys (`client_args`, `organization`, `stream`, `budget`) and
smolagents' OpenAIServerModel / AzureOpenAIServerModel options (`client_kwargs`,
`project`, `api_version`, `azure_endpoint`, `custom_role_conversions`,
`flatten_messages_as_text`).
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from modelhub.config.schema import ConfigModel, RemoteModelConfig

__all__ = ["AzureOpenAIChatConfig", "AzureOpenAIEmbeddingConfig", "OpenAIChatConfig",
           "OpenAIClientArgs", "OpenAIConfig", "OpenAIDallEConfig", "OpenAIEmbeddingConfig"]


class OpenAIClientArgs(ConfigModel):
    """What AgentScope's `client_args` / smolagents' `client_kwargs` may hold: the
    `openai.OpenAI(...)` arguments that mean something over the wire. Each is checked
    here as its top-level field is (an error names `client_args.<key>`), then folded
    into that field."""

    base_url: str | None = None  # folded into the top-level base_url before validation
    api_key: SecretStr | None = None
    organization: str | None = None
    project: str | None = None
    timeout: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    max_retries: int | None = Field(default=None, ge=0, le=20)
    default_headers: dict[str, str | SecretStr] | None = None
    default_query: dict[str, str | SecretStr] | None = None
    azure_endpoint: str | None = None
    api_version: str | None = None
    azure_deployment: str | None = None

    @field_validator("api_key", "organization", "project", "default_headers",
                     "default_query", "azure_endpoint")
    @classmethod
    def _check(cls, value: Any, info: ValidationInfo) -> Any:
        return _checked(info.field_name or "", value, "client_args.")


# The chat completions parameters (API reference), and those OpenAI-compatible servers
# (vLLM, llama.cpp, Ollama, OpenRouter, DashScope, DeepSeek...) add, so that one of
# theirs is not taken for a misspelling of one of OpenAI's.
CHAT_PARAMS = frozenset({
    "audio", "frequency_penalty", "logit_bias", "logprobs", "max_completion_tokens",
    "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls", "prediction",
    "presence_penalty", "prompt_cache_key", "reasoning_effort", "response_format",
    "safety_identifier", "seed", "service_tier", "stop", "store", "stream",
    "stream_options", "temperature", "tool_choice", "tools", "top_logprobs", "top_p",
    "user", "verbosity", "web_search_options",
    # added by compatible servers
    "best_of", "chat_template_kwargs", "enable_search", "enable_thinking",
    "guided_choice", "guided_grammar", "guided_json", "guided_regex",
    "ignore_eos", "include_stop_str_in_output", "length_penalty", "min_p", "min_tokens",
    "mirostat", "mirostat_eta", "mirostat_tau", "num_ctx", "num_predict", "reasoning",
    "repeat_penalty", "repetition_penalty", "skip_special_tokens", "stop_token_ids",
    "thinking", "tfs_z", "top_a", "top_k", "typical_p", "use_beam_search",
})
EMBEDDING_PARAMS = frozenset({"dimensions", "encoding_format", "input", "model", "user"})
IMAGE_PARAMS = frozenset({"background", "moderation", "n", "output_compression",
                          "output_format", "partial_images", "quality", "response_format",
                          "size", "style", "user"})

def _checked(field: str, value: Any, prefix: str = "") -> Any:
    """`value` of one of the fields below checked as what it becomes on the wire (a
    header, a query parameter, a key, a URL); secret header and query values made
    `SecretStr`."""
    from modelhub.config import checks

    if value is None:
        return value
    what = prefix + field
    if field == "api_key":
        checks.check_key(value.get_secret_value(), what)
    elif field in ("organization", "project"):
        checks.check_header_value(value, what)
    elif field in ("default_headers", "headers", "default_query"):
        return checks.secret_entries(value, "query parameter" if field == "default_query"
                                     else "header", header=field != "default_query")
    elif field == "azure_endpoint":
        checks.check_url(value, what)
    return value


# Top-level field each client_args key lands in when folded.
_FOLDED = {"api_key": "api_key", "organization": "organization", "project": "project",
           "timeout": "timeout", "max_retries": "max_retries", "default_headers": "headers",
           "default_query": "default_query", "azure_endpoint": "azure_endpoint",
           "api_version": "api_version", "azure_deployment": "azure_deployment"}


class OpenAIConfig(RemoteModelConfig):
    """Shared by every OpenAI-protocol config."""

    provider: str | None = Field(
        default=None, description="The OpenAI-compatible service (a profile: openai, "
                                  "deepseek, groq, vllm, ...); default: by model_type.")
    organization: str | None = Field(default=None, description="OpenAI-Organization header.")
    project: str | None = Field(default=None, description="OpenAI-Project header.")
    default_query: dict[str, str | SecretStr] = Field(
        default_factory=dict, description="Query parameters sent with every request.")
    client_args: OpenAIClientArgs | None = Field(
        default=None, validation_alias=AliasChoices("client_args", "client_kwargs"),
        description="openai.OpenAI(...) arguments (AgentScope client_args, smolagents "
                    "client_kwargs); folded into the top-level fields.")

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str | None) -> str | None:
        from modelhub.providers.openai.profiles import PROFILES, profile_names

        if value is not None and value not in PROFILES:
            from modelhub.config.suggest import did_you_mean

            raise ValueError(f"unknown provider {value!r}{did_you_mean(value, PROFILES)} "
                             f"(known: {', '.join(profile_names())})")
        return value

    @field_validator("default_query", "organization", "project")
    @classmethod
    def _check_wire_values(cls, value: Any, info: ValidationInfo) -> Any:
        return _checked(info.field_name or "", value)

    @model_validator(mode="after")
    def _has_an_address(self) -> OpenAIConfig:
        if self.base_url is not None:
            return self
        from modelhub.providers.openai.profiles import profile_for

        profile = profile_for(self.provider, self.model_type)
        if self.base_url is None and profile.base_url is None \
                and self.model_type not in profile.model_types:
            raise ValueError(f"provider {profile.name!r} has no default address: set base_url")
        return self

    @model_validator(mode="after")
    def _fold_client_args(self) -> OpenAIConfig:
        """Move what client_args holds (checked already) into the top-level fields, and
        keep nothing there: a secret is held in one place only."""
        if self.client_args is not None:
            from modelhub.config.checks import fold_client_args

            fold_client_args(self, self.client_args, _FOLDED)
        return self


class OpenAIChatConfig(OpenAIConfig):
    """`openai_chat`: any OpenAI-compatible chat completions server."""

    known_params: ClassVar[frozenset[str]] = CHAT_PARAMS

    stream: bool = Field(default=False, description="Stream by default (AgentScope).")
    stream_usage: bool | None = Field(
        default=None, description="Ask for usage in streams (stream_options.include_usage); "
                                  "default: as the provider's profile says.")
    custom_role_conversions: dict[str, str] = Field(
        default_factory=dict,
        description="Rename roles the server rejects, e.g. {'tool-response': 'user'}.")
    flatten_messages_as_text: bool = Field(
        default=False, description="Send content as plain text instead of parts.")


class OpenAIEmbeddingConfig(OpenAIConfig):
    """`openai_embedding`: the /embeddings endpoint."""

    known_params: ClassVar[frozenset[str]] = EMBEDDING_PARAMS

    dimensions: int | None = Field(default=None, gt=0, description="Output dimensions.")
    encoding_format: Literal["float", "base64"] = Field(
        default="float", description="Wire encoding; base64 is decoded for you.")


class OpenAIDallEConfig(OpenAIConfig):
    """`openai_dall_e`: the /images/generations endpoint."""

    known_params: ClassVar[frozenset[str]] = IMAGE_PARAMS


# -- Azure ---------------------------------------------------------------------------------
AZURE_ENDPOINT_ENV = "AZURE_OPENAI_ENDPOINT"
AZURE_VERSION_ENV = "OPENAI_API_VERSION"


class _AzureFields(ConfigModel):
    azure_endpoint: str | None = Field(
        default=None,
        description=f"https://<resource>.openai.azure.com (else {AZURE_ENDPOINT_ENV}).")
    api_version: str | None = Field(default=None, description=f"Else {AZURE_VERSION_ENV}.")
    azure_deployment: str | None = Field(
        default=None, description="The deployment; defaults to model_name.")

    @field_validator("azure_endpoint")
    @classmethod
    def _check_endpoint(cls, value: str | None) -> str | None:
        return _checked("azure_endpoint", value)  # type: ignore[no-any-return]

    @model_validator(mode="after")
    def _reachable(self) -> _AzureFields:
        # Checked at load, so that a config that cannot work fails at init(), not at
        # its first call.
        if not (self.azure_endpoint or getattr(self, "base_url", None)
                or os.environ.get(AZURE_ENDPOINT_ENV)):
            raise ValueError(f"no Azure endpoint: set 'azure_endpoint' (or base_url, the "
                             f"deployment's URL) or the {AZURE_ENDPOINT_ENV} environment "
                             "variable")
        if not (self.api_version or os.environ.get(AZURE_VERSION_ENV)):
            raise ValueError(f"no API version: set 'api_version' or the {AZURE_VERSION_ENV} "
                             "environment variable")
        return self


class AzureOpenAIChatConfig(_AzureFields, OpenAIChatConfig):
    """`azure_openai_chat`: chat completions on an Azure OpenAI deployment."""


class AzureOpenAIEmbeddingConfig(_AzureFields, OpenAIEmbeddingConfig):
    """`azure_openai_embedding`: embeddings on an Azure OpenAI deployment."""


# The generation parameters AgentScope's Yi wrapper takes at the top level.
YI_TOP_LEVEL = ("temperature", "top_p", "max_tokens")


class YiChatConfig(OpenAIChatConfig):
    """`yi_chat`: Yi's chat completions, as AgentScope configures them."""

    temperature: float = Field(default=0.3, ge=0, le=2,
                               description="Sent with every request (AgentScope: 0.3).")
    top_p: float = Field(default=0.9, ge=0, le=1,
                         description="Sent with every request (AgentScope: 0.9).")
    max_tokens: int | None = Field(default=None, gt=0, description="Longest answer.")

    @model_validator(mode="after")
    def _said_once(self) -> YiChatConfig:
        for name in YI_TOP_LEVEL:
            if name in self.model_fields_set and name in self.generate_args \
                    and self.generate_args[name] != getattr(self, name):
                raise ValueError(f"{name!r} is given both at top level and in "
                                 "generate_args, with different values")
        return self
