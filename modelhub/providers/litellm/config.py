"""`litellm_chat`'s config (importing this never imports litellm).

It takes AgentScope v0.1.6's `LiteLLMChatWrapper` arguments (`model_name`, `stream`,
`generate_args`) and smolagents' `LiteLLMModel` options (`api_base`, folded into
`base_url`; `api_key`, `custom_role_conversions`, `flatten_messages_as_text`).
`base_url` means what LiteLLM's `api_base` means for the model's provider.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from modelhub.config.schema import RemoteModelConfig

__all__ = ["FLATTEN_BY_DEFAULT", "LITELLM_PARAMS", "LiteLLMChatConfig"]

# Model prefixes whose servers take content as plain text (as smolagents has it).
FLATTEN_BY_DEFAULT = ("ollama", "groq", "cerebras")

# litellm.completion's OpenAI-style parameters, and the per-call options it adds.
LITELLM_PARAMS = frozenset({
    "audio", "frequency_penalty", "logit_bias", "logprobs", "max_completion_tokens",
    "max_tokens", "metadata", "modalities", "n", "parallel_tool_calls", "prediction",
    "presence_penalty", "reasoning_effort", "response_format", "safety_identifier", "seed",
    "service_tier", "stop", "stream", "stream_options", "temperature", "thinking",
    "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity",
    "web_search_options", "api_version", "custom_llm_provider", "drop_params",
    "extra_headers", "top_k", "callbacks", "success_callback", "failure_callback",
})


class LiteLLMChatConfig(RemoteModelConfig):
    """`litellm_chat`: a model by LiteLLM's name (`openai/gpt-4o`, `anthropic/claude-...`,
    `ollama/llama3`). Keys come from `api_key`, else from the variable LiteLLM reads for
    the provider, which is then sent only to that provider's own host."""

    known_params: ClassVar[frozenset[str]] = LITELLM_PARAMS

    stream: bool = Field(default=False, description="Stream by default (AgentScope).")
    custom_role_conversions: dict[str, str] = Field(
        default_factory=dict,
        description="Rename roles the model rejects, e.g. {'tool-response': 'user'}.")
    flatten_messages_as_text: bool | None = Field(
        default=None, description="Send content as plain text instead of parts; default: "
                                  "on for ollama, groq and cerebras models.")
    fetch_model_cost_map: bool = Field(
        default=False, description="Let LiteLLM fetch its model cost map from the network "
                                   "when it is first imported (off: its bundled copy).")

    @field_validator("proxy")
    @classmethod
    def _no_proxy(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("litellm_chat cannot take a proxy per config: LiteLLM reads "
                             "HTTPS_PROXY from the environment")
        return value
