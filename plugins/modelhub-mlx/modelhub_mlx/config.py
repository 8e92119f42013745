"""The config of `mlx_chat`: smolagents' `MLXModel` options, checked on any machine."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import AliasChoices, Field

from modelhub import ModelConfig  # the light import: init() validates with this module alone

__all__ = ["MLXChatConfig"]


class MLXChatConfig(ModelConfig):
    """A local chat model run with mlx-lm (Apple silicon)."""

    known_params: ClassVar[frozenset[str]] = frozenset({
        "max_tokens", "max_new_tokens", "temperature", "temp", "top_p", "top_k", "min_p",
        "repetition_penalty", "repetition_context_size"})

    model_id: str = Field(min_length=1, description="A local MLX model folder or a hub id.")
    trust_remote_code: bool = Field(
        default=False, description="Let the tokenizer run the model's own code.")
    load_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="More mlx_lm.load() arguments (adapter_path, ...).")
    apply_chat_template_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Arguments of the tokenizer's apply_chat_template.")
    max_tokens: int = Field(
        default=512, ge=1, validation_alias=AliasChoices("max_tokens", "max_new_tokens"),
        description="Most tokens one answer may have (alias: max_new_tokens).")
    tool_name_key: str = Field(default="name", min_length=1,
                               description="Key of a tool call's name in the text protocol.")
    tool_arguments_key: str = Field(
        default="arguments", min_length=1,
        description="Key of a tool call's arguments in the text protocol.")
    stream: bool = Field(default=False, description="Plain calls return a stream.")
