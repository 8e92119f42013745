"""`hf_inference_embedding`: embeddings through huggingface_hub's
`InferenceClient.feature_extraction` (an Inference Endpoint or TEI server at
`base_url`, or a model on the Inference Providers).

A model answers with one pooled vector per text, or with token-level vectors, which
are mean-pooled here. The SDK makes one array of a batch's answer, which it cannot
when token-level answers differ in length: such a batch is embedded one text per
request instead.
"""

from __future__ import annotations

from typing import Any, ClassVar

from modelhub.errors import InvalidArgumentError, ResponseParseError
from modelhub.http.errors import parse_answer
from modelhub.providers.huggingface.client import HFInferenceBase
from modelhub.providers.huggingface.config import EMBEDDING_PARAMS, HFInferenceEmbeddingConfig
from modelhub.response import ModelResponse
from modelhub.wrappers.embedding import EmbeddingWrapperBase, as_vector
from modelhub.wrappers.sdk import acall_sdk, call_sdk

__all__ = ["HFInferenceEmbeddingWrapper", "vectors_of"]

# What numpy says when the vectors of a batch are of different lengths.
_RAGGED = "setting an array element with a sequence"


def vectors_of(output: Any, count: int) -> list[list[float]]:
    """One flat vector per text from the SDK's array: (texts, dims), or token-level
    (texts, tokens, dims), or for one text (dims) or (tokens, dims)."""
    rows = output.tolist() if hasattr(output, "tolist") else output
    if not isinstance(rows, list) or not rows:
        raise ResponseParseError("the answer holds no embeddings")
    if count == 1 and (len(rows) != 1 or isinstance(rows[0], (int, float))):
        return [as_vector(rows)]
    return [as_vector(row) for row in rows]


class HFInferenceEmbeddingWrapper(HFInferenceBase, EmbeddingWrapperBase):
    """`model(texts)` -> ModelResponse whose `embedding` has one vector per text."""

    model_type: ClassVar[str] = "hf_inference_embedding"
    config_class: ClassVar[type[HFInferenceEmbeddingConfig]] = HFInferenceEmbeddingConfig
    config: HFInferenceEmbeddingConfig

    def batch_limit(self) -> int | None:
        """The config's `batch_size` (default: every text in one request)."""
        return self.config.batch_size

    def arguments(self, texts: list[str], params: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments of `feature_extraction` for one batch."""
        unknown = sorted(set(params) - EMBEDDING_PARAMS)
        if unknown:
            raise InvalidArgumentError(
                f"feature_extraction cannot send {', '.join(map(repr, unknown))} (it takes "
                f"{', '.join(sorted(EMBEDDING_PARAMS))})")
        # With base_url, the client's URL is the model; else the model is named.
        model = None if self.config.base_url else self.model_name
        return {**params, "text": texts, "model": model}

    def _parse(self, texts: list[str], output: Any) -> ModelResponse:
        vectors = parse_answer(lambda o: vectors_of(o, len(texts)), output, self.context)
        return ModelResponse(embedding=vectors, model=self.model_name, raw=output)

    def _embed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        kwargs = self.arguments(texts, params)
        try:
            output = call_sdk(lambda: self.client().feature_extraction(**kwargs),
                              self.map_error)
        except ValueError as exc:
            if len(texts) == 1 or _RAGGED not in str(exc):
                raise
            parts = [self._embed([text], params) for text in texts]
            return ModelResponse(embedding=[p.embedding[0] for p in parts if p.embedding],
                                 model=self.model_name, raw=[p.raw for p in parts])
        return self._parse(texts, output)

    async def _aembed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        kwargs = self.arguments(texts, params)
        try:
            output = await acall_sdk(lambda: self.aclient().feature_extraction(**kwargs),
                                     self.map_error)
        except ValueError as exc:
            if len(texts) == 1 or _RAGGED not in str(exc):
                raise
            parts = [await self._aembed([text], params) for text in texts]
            return ModelResponse(embedding=[p.embedding[0] for p in parts if p.embedding],
                                 model=self.model_name, raw=[p.raw for p in parts])
        return self._parse(texts, output)
