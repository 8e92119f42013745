"""Config models shared by the DashScope family (importing this never imports the SDK).

The embedding and image wrappers declare their own configs next to them. Every config
takes AgentScope v0.1.x's DashScope wrapper arguments (`config_name`, `model_name`,
`api_key`, `generate_args`, and `stream` for chat), so its template files load
unchanged.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from modelhub.config.schema import RemoteModelConfig

__all__ = ["DEFAULT_BASE_URL", "GENERATION_PARAMS", "MULTIMODAL_PARAMS", "OWN_HOSTS",
           "DashScopeChatConfig", "DashScopeConfig", "DashScopeMultiModalConfig"]

# The prefix before /services/..., as the SDK's `base_http_api_url` has it.
DEFAULT_BASE_URL = "https://dashscope.aliyuncs.com/api/v1"
# DashScope's own hosts (mainland and international): a key read from
# DASHSCOPE_API_KEY (or the SDK's key file) goes to these and nowhere else.
OWN_HOSTS = frozenset({"dashscope.aliyuncs.com", "dashscope-intl.aliyuncs.com"})

# Generation's parameters (API reference and `dashscope.Generation.call`).
GENERATION_PARAMS = frozenset({
    "temperature", "top_p", "top_k", "max_tokens", "max_input_tokens", "seed", "stop",
    "repetition_penalty", "presence_penalty", "result_format", "incremental_output",
    "enable_search", "search_options", "tools", "tool_choice", "parallel_tool_calls",
    "enable_thinking", "thinking_budget", "n", "logprobs", "top_logprobs",
    "response_format", "stream", "workspace", "plugins", "enable_code_interpreter",
    "output_format", "translation_options", "modalities",
})
# MultiModalConversation adds its own (OCR, TTS voices, image resolution).
MULTIMODAL_PARAMS = GENERATION_PARAMS | frozenset({
    "ocr_options", "vl_high_resolution_images", "voice", "language_type", "text",
    "audio", "fps", "max_pixels", "min_pixels", "enable_rotate",
})


class DashScopeConfig(RemoteModelConfig):
    """What every DashScope config has. `base_url` is the prefix before `/services/...`
    (default `https://dashscope.aliyuncs.com/api/v1`), as the SDK's
    `base_http_api_url` means it."""

    workspace: str | None = Field(
        default=None, description="DashScope workspace id (the X-DashScope-WorkSpace header).")
    client_args: dict[str, Any] | None = Field(
        default=None, description="AgentScope's client arguments; only base_url (folded "
                                  "into base_url) means something to DashScope.")

    @field_validator("client_args")
    @classmethod
    def _only_base_url(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value:  # base_url was folded out before validation
            raise ValueError(f"DashScope takes no client_args {sorted(value)}: use base_url, "
                             "timeout, max_retries, headers or proxy")
        return value

    @field_validator("proxy")
    @classmethod
    def _http_proxy(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("http://", "https://")):
            raise ValueError("the dashscope SDK takes http:// or https:// proxies only")
        return value


class DashScopeChatConfig(DashScopeConfig):
    """`dashscope_chat` (AgentScope's `tongyi_chat` too): the Generation API."""

    known_params: ClassVar[frozenset[str]] = GENERATION_PARAMS

    stream: bool = Field(default=False, description="Stream by default (AgentScope).")


class DashScopeMultiModalConfig(DashScopeConfig):
    """`dashscope_multimodal`: the MultiModalConversation API (images, audio, video)."""

    known_params: ClassVar[frozenset[str]] = MULTIMODAL_PARAMS

    stream: bool = Field(default=False, description="Stream by default.")


EMBEDDING_PARAMS = frozenset({"text_type", "dimension", "output_type", "instruct",
                              "workspace"})


class DashScopeTextEmbeddingConfig(DashScopeConfig):
    """`dashscope_text_embedding`: the TextEmbedding API."""

    known_params: ClassVar[frozenset[str]] = EMBEDDING_PARAMS

    dimension: int | None = Field(
        default=None, gt=0, description="Vector dimension (text-embedding-v3 and later).")
    batch_size: int | None = Field(
        default=None, gt=0, description="Texts per request; default: the model's limit.")


IMAGE_PARAMS = frozenset({
    "n", "size", "negative_prompt", "seed", "style", "ref_img", "ref_strength", "ref_mode",
    "prompt_extend", "watermark", "images", "sketch_image_url", "extra_input", "task",
    "function", "mask_image_url", "base_image_url", "workspace", "bbox_list",
    "enable_sequential", "thinking_mode", "color_palette",
})


class DashScopeImageSynthesisConfig(DashScopeConfig):
    """`dashscope_image_synthesis`: the ImageSynthesis API (wanx and later)."""

    known_params: ClassVar[frozenset[str]] = IMAGE_PARAMS

    timeout: float | None = Field(
        default=300.0, gt=0, allow_inf_nan=False,
        description="Seconds the whole task may take, creation and waiting (None: no limit).")
    poll_interval: float = Field(
        default=1.0, gt=0, le=60,
        description="Seconds before the first poll; it doubles every third poll, up to 5.")
