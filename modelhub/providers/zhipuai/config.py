"""Config models of the ZhipuAI family (importing this never imports the SDK).

They take every argument of AgentScope v0.1.x's `ZhipuAIChatWrapper` and
`ZhipuAIEmbeddingWrapper` (`model_name`, `api_key`, `client_args`, `generate_args`,
`stream`), so its config files load unchanged. `client_args` holds what AgentScope
passes to the SDK's client (`zhipuai.ZhipuAI(...)`, now `zai.ZhipuAiClient(...)`): it
is folded into the top-level fields, where it means the same.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field, SecretStr, model_validator

from modelhub.config.schema import ConfigModel, RemoteModelConfig

__all__ = ["CHAT_PARAMS", "EMBEDDING_PARAMS", "ZhipuAIChatConfig", "ZhipuAIClientArgs",
           "ZhipuAIConfig", "ZhipuAIEmbeddingConfig"]

# The chat completions parameters of Zhipu's v4 API and of the SDK's create().
CHAT_PARAMS = frozenset({
    "do_sample", "extra", "max_tokens", "meta", "reasoning_effort", "request_id",
    "response_format", "seed", "sensitive_word_check", "stop", "stream", "temperature",
    "thinking", "tool_choice", "tool_stream", "tools", "top_p", "user_id",
    "watermark_enabled",
})
EMBEDDING_PARAMS = frozenset({"dimensions", "encoding_format", "request_id",
                              "sensitive_word_check", "user"})


class ZhipuAIClientArgs(ConfigModel):
    """What AgentScope's `client_args` may hold: the SDK client's arguments that mean
    something here. `base_url` is folded into the top-level base_url before
    validation; the others land in the top-level fields of the same meaning."""

    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout: float | None = Field(default=None, gt=0)
    max_retries: int | None = Field(default=None, ge=0, le=20)
    custom_headers: dict[str, str | SecretStr] | None = None
    disable_token_cache: bool | None = None
    source_channel: str | None = None


# client_args key -> the top-level field it lands in.
_FOLDED = {"api_key": "api_key", "timeout": "timeout", "max_retries": "max_retries",
           "custom_headers": "headers", "disable_token_cache": "disable_token_cache",
           "source_channel": "source_channel"}


class ZhipuAIConfig(RemoteModelConfig):
    """Shared by the ZhipuAI configs.

    `base_url` is what the SDK means by it: the prefix before `/chat/completions`
    (default `https://open.bigmodel.cn/api/paas/v4`). Without `api_key`, the key is
    read from `ZHIPUAI_API_KEY` only when the request goes to Zhipu's own host
    (`ZAI_API_KEY` for Z.ai's `https://api.z.ai/api/paas/v4`).
    """

    disable_token_cache: bool = Field(
        default=True, description="Send the key as it is (the SDK's default); false: "
                                  "send a short-lived JWT the SDK signs with it.")
    source_channel: str | None = Field(
        default=None, description="The SDK's x-source-channel header (default python-sdk).")
    client_args: ZhipuAIClientArgs | None = Field(
        default=None, validation_alias=AliasChoices("client_args", "client_kwargs"),
        description="The SDK client's arguments (AgentScope); folded into the top-level "
                    "fields.")

    @model_validator(mode="after")
    def _fold_client_args(self) -> ZhipuAIConfig:
        if self.client_args is not None:
            from modelhub.config.checks import fold_client_args

            fold_client_args(self, self.client_args, _FOLDED)
        return self


class ZhipuAIChatConfig(ZhipuAIConfig):
    """`zhipuai_chat`: Zhipu's chat completions (GLM models)."""

    known_params: ClassVar[frozenset[str]] = CHAT_PARAMS

    stream: bool = Field(default=False, description="Stream by default (AgentScope).")


class ZhipuAIEmbeddingConfig(ZhipuAIConfig):
    """`zhipuai_embedding`: Zhipu's text embeddings (embedding-2, embedding-3)."""

    known_params: ClassVar[frozenset[str]] = EMBEDDING_PARAMS

    dimensions: int | None = Field(
        default=None, gt=0, description="Output dimensions (embedding-3: 256, 512, 1024 "
                                        "or 2048).")
