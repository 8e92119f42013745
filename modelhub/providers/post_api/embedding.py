"""`post_api_embedding`: embeddings from any HTTP endpoint.

The body is `{messages_key: texts, **json_args, **generate_args}`; the vectors are
read at `response_path` (default `data.*.embedding`, OpenAI's shape, as AgentScope
reads it), usage at `usage_path` (default `usage`). Token-level vectors are
mean-pooled.
"""

from __future__ import annotations

from typing import Any, ClassVar

from modelhub.errors import ResponseParseError
from modelhub.http.errors import parse_answer
from modelhub.providers.post_api.base import PostAPIWrapperBase
from modelhub.providers.post_api.config import PostAPIEmbeddingConfig
from modelhub.providers.post_api.paths import MISSING, ResponsePath
from modelhub.response import ModelResponse
from modelhub.wrappers.embedding import EmbeddingWrapperBase, as_vector

__all__ = ["PostAPIEmbeddingWrapper"]


class PostAPIEmbeddingWrapper(PostAPIWrapperBase, EmbeddingWrapperBase):
    """`model(texts)` -> ModelResponse whose `embedding` has one vector per text."""

    model_type: ClassVar[str] = "post_api_embedding"
    config_class: ClassVar[type[PostAPIEmbeddingConfig]] = PostAPIEmbeddingConfig
    config: PostAPIEmbeddingConfig

    def setup(self) -> None:
        """Build the endpoint; usage is OpenAI's `usage` unless the config says."""
        super().setup()
        self.usage = self.optional_path(self.config.usage_path, "usage")

    def batch_limit(self) -> int | None:
        """The config's `batch_size` (default: every text in one request)."""
        return self.config.batch_size

    def payload(self, texts: list[str], params: dict[str, Any]) -> dict[str, Any]:
        """The body: the texts (one text as a string when batch_size is 1)."""
        value: Any = texts[0] if self.config.batch_size == 1 else texts
        return self.body(value, params)

    def vectors(self, found: Any, count: int, path: ResponsePath) -> list[list[float]]:
        """One flat vector per text from what the path found: a list of vectors (or of
        token-level vectors), or one vector (or token-level vectors) for one text."""
        if not isinstance(found, list) or not found:
            raise ResponseParseError(f"response_path {path.text!r} leads to "
                                     f"{type(found).__name__}, not a list of embeddings")
        if count == 1 and (len(found) != 1 or isinstance(found[0], (int, float))):
            return [as_vector(found)]
        return [as_vector(item) for item in found]

    def parse(self, texts: list[str], body: Any) -> ModelResponse:
        """A ModelResponse from an answer, read by the config's paths."""
        found = self.answer.find(body)
        if found is MISSING:
            self.error_in(body)
            raise self.no_match(self.answer, body, "the embeddings")
        return ModelResponse(embedding=self.vectors(found, len(texts), self.answer),
                             usage=self.parse_usage(body), raw=body)

    def _embed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        body = self.post(self.payload(texts, params))
        return parse_answer(lambda b: self.parse(texts, b), body, self.context)

    async def _aembed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        body = await self.apost(self.payload(texts, params))
        return parse_answer(lambda b: self.parse(texts, b), body, self.context)
