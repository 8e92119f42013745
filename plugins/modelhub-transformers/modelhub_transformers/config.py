"""The configs of `transformers_chat` and `transformers_embedding`: plain pydantic
models (no torch here), checked at `modelhub.init()`.

`model_id` is a local folder (or a hub id where the machine has network); for chat, a
`.gguf` file given as `model_id` is read as its folder plus `gguf_file`. The names
follow smolagents' `TransformersModel` (`model_id`, `device_map`, `torch_dtype`,
`trust_remote_code`, `model_kwargs`, `max_new_tokens`/`max_tokens`,
`apply_chat_template_kwargs`, `tool_name_key`, `tool_arguments_key`).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field, model_validator

from modelhub import ModelConfig  # the light import: init() validates with this module alone

__all__ = ["LocalModelConfig", "TransformersChatConfig", "TransformersEmbeddingConfig"]

Dtype = Literal["auto", "float32", "float16", "bfloat16"]

# generate() arguments a misspelling of which is caught (in generate_args and per call).
GENERATE_PARAMS = frozenset({
    "max_new_tokens", "max_tokens", "min_new_tokens", "temperature", "top_p", "top_k",
    "min_p", "typical_p", "do_sample", "repetition_penalty", "no_repeat_ngram_size",
    "num_beams", "length_penalty", "adapter", "use_adapter"})


class LocalModelConfig(ModelConfig):
    """What every transformers config has: where the weights are and how to load them."""

    model_id: str = Field(
        min_length=1,
        description="A local model folder, a .gguf file, or a hub id (where there is network).")
    device_map: str | dict[str, Any] | None = Field(
        default=None, description="Where the weights go: 'cpu', 'cuda', 'auto' or a map.")
    torch_dtype: Dtype | None = Field(
        default=None, validation_alias=AliasChoices("torch_dtype", "dtype"),
        description="The weights' dtype (alias: dtype); default: as stored.")
    trust_remote_code: bool = Field(
        default=False, description="Run the model's own code from its folder or repo.")
    model_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="More from_pretrained() arguments.")


class TransformersChatConfig(LocalModelConfig):
    """A local chat model run with `model.generate()`."""

    known_params: ClassVar[frozenset[str]] = GENERATE_PARAMS

    gguf_file: str | None = Field(
        default=None, description="A GGUF file inside model_id, dequantized on load.")
    gguf_cache: bool = Field(
        default=True,
        description="Keep dequantized GGUF weights in the modelhub cache for the next load.")
    max_new_tokens: int = Field(
        default=512, ge=1, validation_alias=AliasChoices("max_new_tokens", "max_tokens"),
        description="Most tokens one answer may have (alias: max_tokens).")
    apply_chat_template_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="Arguments of tokenizer.apply_chat_template (a chat_template among them).")
    adapter: str | None = Field(
        default=None, description="One PEFT LoRA adapter folder (named 'default').")
    adapters: dict[str, str] = Field(
        default_factory=dict, description="Named PEFT LoRA adapter folders.")
    default_adapter: str | None = Field(
        default=None, description="The adapter a call uses by default (the first one if unset).")
    use_adapter: bool = Field(
        default=True, description="Whether calls use the default adapter unless told otherwise.")
    tool_protocol: Literal["auto", "template", "text"] = Field(
        default="auto",
        description="Tools through the chat template ('template'), as text in the system "
                    "prompt ('text'), or the template when it takes tools ('auto').")
    tool_name_key: str = Field(default="name", min_length=1,
                               description="Key of a tool call's name in the text protocol.")
    tool_arguments_key: str = Field(
        default="arguments", min_length=1,
        description="Key of a tool call's arguments in the text protocol.")
    stream: bool = Field(default=False, description="Plain calls return a stream.")

    @model_validator(mode="after")
    def _split_gguf_path(self) -> TransformersChatConfig:
        if self.gguf_file is None and self.model_id.lower().endswith(".gguf"):
            folder, _, name = self.model_id.replace("\\", "/").rpartition("/")
            object.__setattr__(self, "model_id", folder or ".")
            object.__setattr__(self, "gguf_file", name)
        return self

    @model_validator(mode="after")
    def _check_adapters(self) -> TransformersChatConfig:
        if self.adapter is not None and self.adapters:
            raise ValueError("give 'adapter' (one folder) or 'adapters' (named folders), "
                             "not both")
        names = self.adapter_paths()
        if any(not name for name in names):
            raise ValueError("an adapter name must not be empty")
        if self.default_adapter is not None and self.default_adapter not in names:
            known = ", ".join(names) or "none"
            raise ValueError(f"default_adapter {self.default_adapter!r} is not among the "
                             f"adapters ({known})")
        return self

    def adapter_paths(self) -> dict[str, str]:
        """Every adapter by name (`adapter` alone is named 'default')."""
        return {"default": self.adapter} if self.adapter is not None else dict(self.adapters)

    def default_adapter_name(self) -> str | None:
        """The adapter a call uses when it says nothing (None: the base model)."""
        names = list(self.adapter_paths())
        if not self.use_adapter or not names:
            return None
        return self.default_adapter or names[0]


class TransformersEmbeddingConfig(LocalModelConfig):
    """A local sentence encoder: mean-pooled, normalised token embeddings."""

    known_params: ClassVar[frozenset[str]] = frozenset({"normalize", "max_length"})

    max_length: int | None = Field(
        default=None, ge=1,
        description="Longest input in tokens (longer is cut); default: the tokenizer's, at "
                    "most 512.")
    normalize: bool = Field(default=True, description="Scale each vector to length 1.")
    pooling: Literal["mean", "cls"] = Field(
        default="mean", description="Mean of the token vectors, or the first token's.")
    batch_size: int = Field(default=32, ge=1, description="Texts per forward pass.")
