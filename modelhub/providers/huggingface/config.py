"""Config models of the Hugging Face Inference wrappers (importing this never imports
huggingface_hub). They take smolagents' `InferenceClientModel` arguments: `provider`,
`token` (or `api_key`), `bill_to`, `base_url`, `timeout` (default 120),
`client_kwargs` and `custom_role_conversions`."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import AliasChoices, Field, SecretStr, model_validator

from modelhub.config.schema import ConfigModel, RemoteModelConfig

__all__ = ["HFClientArgs", "HFInferenceChatConfig", "HFInferenceConfig",
           "HFInferenceEmbeddingConfig", "HFInferenceGenerateConfig"]

# `chat_completion` arguments (its own, then those providers add via extra_body, so
# that one of theirs is not taken for a misspelling).
CHAT_PARAMS = frozenset({
    "frequency_penalty", "logit_bias", "logprobs", "max_tokens", "n", "presence_penalty",
    "seed", "temperature", "tool_prompt", "top_logprobs", "top_p", "stream_options",
    "max_completion_tokens", "top_k", "min_p", "repetition_penalty", "reasoning_effort",
    "chat_template_kwargs"})
# `text_generation` arguments (TGI's /generate parameters).
GENERATE_PARAMS = frozenset({
    "adapter_id", "best_of", "decoder_input_details", "details", "do_sample",
    "frequency_penalty", "grammar", "max_new_tokens", "repetition_penalty",
    "return_full_text", "seed", "temperature", "top_k", "top_n_tokens", "top_p", "truncate",
    "typical_p", "watermark"})
# `feature_extraction` arguments.
EMBEDDING_PARAMS = frozenset({"normalize", "prompt_name", "truncate", "truncation_direction",
                              "dimensions"})


class HFClientArgs(ConfigModel):
    """What smolagents' `client_kwargs` may hold: `InferenceClient(...)` arguments,
    folded into the top-level settings."""

    base_url: str | None = None  # folded into base_url before validation
    token: SecretStr | None = None
    api_key: SecretStr | None = None
    provider: str | None = None
    timeout: float | None = Field(default=None, gt=0)
    headers: dict[str, str | SecretStr] | None = None
    bill_to: str | None = None


class HFInferenceConfig(RemoteModelConfig):
    """What every Hugging Face Inference config has."""

    provider: str | None = Field(
        default=None, description="The Inference Provider (together, groq, hf-inference, "
                                  "..., or auto); not used with base_url.")
    bill_to: str | None = Field(default=None,
                                description="Organization to bill (X-HF-Bill-To).")
    timeout: float | None = Field(default=120.0, gt=0, allow_inf_nan=False,
                                  description="Seconds each attempt may take in all; a "
                                              "stream's, up to its first delta, then between "
                                              "two deltas (smolagents' default: 120).")
    client_kwargs: HFClientArgs | None = Field(
        default=None, validation_alias=AliasChoices("client_kwargs", "client_args"),
        description="InferenceClient(...) arguments (smolagents), folded into the settings.")

    @model_validator(mode="before")
    @classmethod
    def _fold_token(cls, data: Any) -> Any:
        """`token` is the SDK's name of `api_key`."""
        if isinstance(data, dict) and "token" in data:
            data = dict(data)
            token = data.pop("token")
            if data.get("api_key") is not None and token is not None \
                    and data["api_key"] != token:
                raise ValueError("'token' and 'api_key' are both given, with different values")
            if token is not None:
                data["api_key"] = token
        return data

    @model_validator(mode="after")
    def _fold_client_kwargs(self) -> HFInferenceConfig:
        args = self.client_kwargs
        if args is None:
            return self
        from modelhub.config.checks import check_key, secret_entries

        keys = [k for k in (args.token, args.api_key) if k is not None]
        if len({k.get_secret_value() for k in keys}) > 1:
            raise ValueError("client_kwargs gives 'token' and 'api_key' different values")
        if keys:
            check_key(keys[0].get_secret_value(), "client_kwargs.token")
            if self.api_key is not None and self.api_key != keys[0]:
                raise ValueError("'api_key' and client_kwargs.token differ")
            object.__setattr__(self, "api_key", keys[0])
        if args.headers:
            object.__setattr__(self, "headers", secret_entries(
                {**args.headers, **self.headers}, "client_kwargs.headers", header=True))
        for name in ("provider", "timeout", "bill_to"):
            value = getattr(args, name)
            if value is None:
                continue
            if name in self.model_fields_set and getattr(self, name) != value:
                raise ValueError(f"{name!r} is given both at top level and in "
                                 "client_kwargs, with different values")
            object.__setattr__(self, name, value)
        return self


class HFInferenceChatConfig(HFInferenceConfig):
    """`hf_inference_chat`: chat completions through InferenceClient.chat_completion."""

    known_params: ClassVar[frozenset[str]] = CHAT_PARAMS

    stream: bool = Field(default=False, description="Stream by default.")
    custom_role_conversions: dict[str, str] = Field(
        default_factory=dict, description="Rename roles the model rejects (smolagents).")


class HFInferenceGenerateConfig(HFInferenceConfig):
    """`hf_inference_generate`: a TGI endpoint's /generate (text_generation)."""

    known_params: ClassVar[frozenset[str]] = GENERATE_PARAMS

    stream: bool = Field(default=False, description="Stream by default.")


class HFInferenceEmbeddingConfig(HFInferenceConfig):
    """`hf_inference_embedding`: feature_extraction, token-level vectors mean-pooled."""

    known_params: ClassVar[frozenset[str]] = EMBEDDING_PARAMS

    batch_size: int | None = Field(default=None, gt=0,
                                   description="Texts per request (default: all).")
