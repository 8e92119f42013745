"""`anthropic_chat`'s config (importing this never imports the SDK).

It takes AgentScope v0.1.6's `AnthropicChatWrapper` arguments (`model_name`, `api_key`,
`stream`, `client_kwargs`) meaning the same: `client_kwargs` holds what
`anthropic.Anthropic(...)` takes that means something here, folded into the top-level
fields (`base_url` by the base class).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field, SecretStr, model_validator

from modelhub.config.schema import ConfigModel, RemoteModelConfig

__all__ = ["ANTHROPIC_PARAMS", "DEFAULT_BASE_URL", "DEFAULT_MAX_TOKENS", "KEY_ENV",
           "AnthropicChatConfig", "AnthropicClientArgs"]

DEFAULT_BASE_URL = "https://api.anthropic.com"
KEY_ENV = "ANTHROPIC_API_KEY"
# The API requires max_tokens; this is AgentScope's default for it.
DEFAULT_MAX_TOKENS = 2048

# The Messages API's body parameters (API reference), and `parallel_tool_calls`, which
# is sent as tool_choice.disable_parallel_tool_use.
ANTHROPIC_PARAMS = frozenset({
    "cache_control", "container", "context_management", "diagnostics", "inference_geo",
    "max_tokens", "mcp_servers", "metadata", "output_config", "parallel_tool_calls",
    "service_tier", "speed", "stop_sequences", "stream", "system", "temperature",
    "thinking", "tool_choice", "tools", "top_k", "top_p",
})


class AnthropicClientArgs(ConfigModel):
    """What AgentScope's `client_kwargs` may hold: the `anthropic.Anthropic(...)`
    arguments that mean something over the wire."""

    base_url: str | None = None  # folded into the top-level base_url before validation
    api_key: SecretStr | None = None
    timeout: float | None = Field(default=None, gt=0)
    max_retries: int | None = Field(default=None, ge=0, le=20)
    default_headers: dict[str, str | SecretStr] | None = None


class AnthropicChatConfig(RemoteModelConfig):
    """`anthropic_chat`: Claude models on the Messages API. `base_url` is the API's host
    (default https://api.anthropic.com), as the SDK means it; the key comes from
    `api_key`, else ANTHROPIC_API_KEY, which is sent to Anthropic's own host only."""

    known_params: ClassVar[frozenset[str]] = ANTHROPIC_PARAMS

    stream: bool = Field(default=False, description="Stream by default (AgentScope).")
    client_args: AnthropicClientArgs | None = Field(
        default=None, validation_alias=AliasChoices("client_args", "client_kwargs"),
        description="anthropic.Anthropic(...) arguments (AgentScope client_kwargs); folded "
                    "into the top-level fields. The SDK's own retries stay off: "
                    "max_retries here is modelhub's.")

    @model_validator(mode="after")
    def _fold_client_args(self) -> AnthropicChatConfig:
        args = self.client_args
        if args is None:
            return self
        if args.api_key is not None:
            from modelhub.config.checks import check_key

            check_key(args.api_key.get_secret_value(), "client_kwargs.api_key")
        for key, target in (("api_key", "api_key"), ("timeout", "timeout"),
                            ("max_retries", "max_retries")):
            value = getattr(args, key)
            if value is None:
                continue
            if target in self.model_fields_set and getattr(self, target) != value:
                raise ValueError(f"{target!r} is given both at top level and as "
                                 f"client_kwargs.{key}, with different values")
            object.__setattr__(self, target, value)
        if args.default_headers:
            from modelhub.config.checks import secret_entries

            merged = secret_entries({**args.default_headers, **self.headers},
                                    "client_kwargs.default_headers", header=True)
            object.__setattr__(self, "headers", merged)
        return self
