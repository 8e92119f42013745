"""`transformers_embedding`: sentence embeddings from a local encoder folder (a
sentence-transformers model such as all-MiniLM-L6-v2): the token vectors of the last
layer, mean-pooled over the real tokens (padding left out), scaled to length 1."""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar

from modelhub.plugin import EmbeddingWrapperBase, ErrorContext, ModelResponse, Usage, errors
from modelhub_transformers.chat import INSTALL, REQUIRED, generation_error
from modelhub_transformers.config import TransformersEmbeddingConfig
from modelhub_transformers.loading import (
    SharedModel,
    config_error,
    from_pretrained_kwargs,
    load_model,
    model_key,
)

__all__ = ["TransformersEmbeddingWrapper"]

_LONGEST = 512  # the default cut, for tokenizers that claim no limit


def load_encoder(config: TransformersEmbeddingConfig) -> tuple[Any, Any]:
    """(model, tokenizer) of an encoder folder or hub id."""
    from transformers import AutoModel, AutoTokenizer

    kwargs = from_pretrained_kwargs(config)
    try:
        model = AutoModel.from_pretrained(config.model_id, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(
            config.model_id, trust_remote_code=config.trust_remote_code,
            **({"local_files_only": True} if kwargs.get("local_files_only") else {}))
    except (OSError, ValueError, ImportError, KeyError) as exc:
        raise config_error(config, f"cannot load the model at {config.model_id}: "
                                   f"{type(exc).__name__}: {exc}") from exc
    model.eval()
    return model, tokenizer


def _default_length(config: TransformersEmbeddingConfig, tokenizer: Any) -> int:
    """The longest input: the config's, else sentence-transformers' own setting in the
    folder, else the tokenizer's limit (at most 512)."""
    if config.max_length is not None:
        return config.max_length
    settings = os.path.join(os.path.expanduser(config.model_id), "sentence_bert_config.json")
    try:
        with open(settings, encoding="utf-8") as f:
            return int(json.load(f)["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return min(int(tokenizer.model_max_length or _LONGEST), _LONGEST)


class TransformersEmbeddingWrapper(EmbeddingWrapperBase):
    """Mean-pooled, normalised sentence embeddings from a local encoder."""

    model_type: ClassVar[str] = "transformers_embedding"
    config_class: ClassVar[type[TransformersEmbeddingConfig]] = TransformersEmbeddingConfig
    required_modules: ClassVar[tuple[str, ...]] = REQUIRED[:2]
    install_hint: ClassVar[str | None] = INSTALL

    config: TransformersEmbeddingConfig
    _shared: SharedModel

    def setup(self) -> None:
        """Load the encoder (or share one already loaded)."""
        config = self.config
        self._shared = load_model(model_key("encoder", config), lambda: load_encoder(config))
        self._max_length = _default_length(config, self._shared.tokenizer)
        self._context = ErrorContext(provider="transformers", config_name=config.config_name)

    @property
    def base_model(self) -> Any:
        """The loaded encoder (shared with every config naming the same weights)."""
        return self._shared.model

    def batch_limit(self) -> int | None:
        """Texts per forward pass: the config's batch_size."""
        return self.config.batch_size

    def _embed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        import torch

        unknown = sorted(set(params) - {"normalize", "max_length"})
        if unknown:
            raise errors.InvalidArgumentError(
                f"{self.model_type} takes no argument {', '.join(map(repr, unknown))} "
                "(it takes normalize and max_length)")
        shared = self._shared
        encoded = shared.tokenizer(texts, padding=True, truncation=True, return_tensors="pt",
                                   max_length=int(params.get("max_length", self._max_length)))
        encoded = {k: v.to(shared.model.device) for k, v in encoded.items()}
        try:
            with shared.lock, torch.inference_mode():
                hidden = shared.model(**encoded).last_hidden_state
        except Exception as exc:
            raise generation_error(exc, self._context) from exc
        mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        if self.config.pooling == "mean":
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        else:
            pooled = hidden[:, 0]
        if params.get("normalize", self.config.normalize):
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        tokens = int(encoded["attention_mask"].sum())
        return ModelResponse(embedding=pooled.float().cpu().tolist(),
                             usage=Usage(tokens, 0, tokens), model=self.model_name)
