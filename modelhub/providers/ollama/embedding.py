"""`ollama_embedding`: /api/embed, a batch of texts in one request, one vector per text
back (`embeddings`), in input order."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from modelhub.errors import ResponseParseError
from modelhub.http.errors import optional_str, parse_answer
from modelhub.providers.ollama.base import OllamaWrapperBase
from modelhub.providers.ollama.config import EMBED_FIELDS, OllamaEmbeddingConfig
from modelhub.providers.ollama.wire import request_fields, usage_of
from modelhub.response import ModelResponse
from modelhub.wrappers.embedding import EmbeddingWrapperBase, as_vector

__all__ = ["OllamaEmbeddingWrapper", "parse_embed"]


def parse_embed(answer: Any) -> ModelResponse:
    """A ModelResponse from an /api/embed answer."""
    vectors = answer.get("embeddings") if isinstance(answer, Mapping) else None
    if not isinstance(vectors, list):
        raise ResponseParseError("expected an 'embeddings' list")
    return ModelResponse(embedding=[as_vector(v) for v in vectors], usage=usage_of(answer),
                         model=optional_str(answer.get("model"), "model"), raw=answer)


class OllamaEmbeddingWrapper(OllamaWrapperBase, EmbeddingWrapperBase):
    """`model(texts)` -> ModelResponse whose `embedding` has one vector per text."""

    model_type: ClassVar[str] = "ollama_embedding"
    config_class: ClassVar[type[OllamaEmbeddingConfig]] = OllamaEmbeddingConfig
    config: OllamaEmbeddingConfig
    path: ClassVar[str] = "/api/embed"

    def body(self, texts: list[str], params: dict[str, Any]) -> dict[str, Any]:
        """The JSON body of an /api/embed request."""
        body: dict[str, Any] = {"model": self.model_name, "input": texts}
        if self.config.keep_alive is not None:
            body["keep_alive"] = self.config.keep_alive
        body.update(request_fields(params, EMBED_FIELDS, self.config.options))
        return body

    def _embed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        answer = self.post(self.body(texts, params))
        return parse_answer(parse_embed, answer, self.context)

    async def _aembed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        answer = await self.apost(self.body(texts, params))
        return parse_answer(parse_embed, answer, self.context)
