"""`dashscope_text_embedding`: the TextEmbedding API, in batches as large as the model
takes, vectors in input order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from modelhub.errors import ResponseParseError
from modelhub.http.errors import parse_answer
from modelhub.providers.dashscope.base import DashScopeWrapperBase
from modelhub.providers.dashscope.config import DashScopeTextEmbeddingConfig
from modelhub.providers.dashscope.wire import check_answer, parse_usage
from modelhub.response import ModelResponse
from modelhub.wrappers.embedding import EmbeddingWrapperBase, as_vector
from modelhub.wrappers.sdk import call_sdk

__all__ = ["DashScopeTextEmbeddingConfig", "DashScopeTextEmbeddingWrapper", "batch_limit_for",
           "parse_embeddings"]

# Texts per request, by model (DashScope's model overview): v1 and v2 take 25, v3, v4
# and anything newer 10.
_BATCH_LIMITS = (("text-embedding-v1", 25), ("text-embedding-v2", 25))
DEFAULT_BATCH_LIMIT = 10


def batch_limit_for(model: str) -> int:
    """The most texts one TextEmbedding request takes for `model`."""
    return next((n for prefix, n in _BATCH_LIMITS if model.startswith(prefix)),
                DEFAULT_BATCH_LIMIT)


def parse_embeddings(answer: Mapping[str, Any]) -> ModelResponse:
    """A ModelResponse from a TextEmbedding answer, vectors ordered by `text_index`."""
    output = answer.get("output")
    items = output.get("embeddings") if isinstance(output, Mapping) else None
    if not isinstance(items, list) or not all(isinstance(e, Mapping) for e in items):
        raise ResponseParseError("expected output.embeddings, a list of objects")
    ordered = sorted(items, key=lambda e: e.get("text_index", 0))
    usage = parse_usage(answer.get("usage"))
    if usage is not None and not usage.input_tokens:  # embeddings count total_tokens only
        usage.input_tokens = usage.total_tokens
    return ModelResponse(embedding=[as_vector(e.get("embedding")) for e in ordered],
                         usage=usage, raw=answer)


class DashScopeTextEmbeddingWrapper(DashScopeWrapperBase, EmbeddingWrapperBase):
    """`model(texts)` -> ModelResponse whose `embedding` has one vector per text."""

    model_type: ClassVar[str] = "dashscope_text_embedding"
    config_class: ClassVar[type[DashScopeTextEmbeddingConfig]] = DashScopeTextEmbeddingConfig
    config: DashScopeTextEmbeddingConfig
    service_path: ClassVar[str] = "/services/embeddings/text-embedding/text-embedding"

    def batch_limit(self) -> int | None:
        """The config's batch_size, else the model's limit."""
        return self.config.batch_size or batch_limit_for(self.model_name)

    def _embed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        from dashscope import TextEmbedding

        self.check_reserved(params)
        kwargs: dict[str, Any] = {"model": self.model_name, "input": texts}
        if self.config.dimension is not None:
            kwargs["dimension"] = self.config.dimension
        kwargs.update(params)
        kwargs.update(self.sdk_kwargs())
        answer = call_sdk(lambda: TextEmbedding.call(**kwargs), self.map_error)
        check_answer(answer, self.context)
        response = parse_answer(parse_embeddings, answer, self.context)
        response.model = self.model_name
        return response
