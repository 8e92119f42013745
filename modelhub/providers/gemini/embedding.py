"""`gemini_embedding`: embedContent through `google-genai` (batchEmbedContents on the
Gemini API, predict or embedContent on Vertex AI, as the SDK picks), in batches of
at most 100 texts, one vector per text in input order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from modelhub.errors import ResponseParseError
from modelhub.http.errors import parse_answer
from modelhub.providers.gemini.base import GeminiWrapperBase
from modelhub.providers.gemini.config import GeminiEmbeddingConfig
from modelhub.response import ModelResponse, Usage
from modelhub.wrappers.embedding import EmbeddingWrapperBase, as_vector

if TYPE_CHECKING:
    from google.genai import types

__all__ = ["GeminiEmbeddingConfig", "GeminiEmbeddingWrapper", "parse_embeddings"]

def parse_embeddings(response: Any) -> ModelResponse:
    """A ModelResponse from an `EmbedContentResponse` (`raw` is that object). Usage is
    the answer's own token count, else the sum of its per-vector statistics."""
    embeddings = response.embeddings or []
    vectors = [as_vector(e.values) for e in embeddings if e is not None]
    if len(vectors) != len(embeddings):
        raise ResponseParseError("an embedding in the answer is empty")
    usage = None
    meta = response.usage_metadata
    if meta is not None and meta.prompt_token_count is not None:
        usage = Usage(meta.prompt_token_count, 0,
                      meta.total_token_count or meta.prompt_token_count)
    else:
        counts = [e.statistics.token_count for e in embeddings
                  if e.statistics is not None and e.statistics.token_count is not None]
        if counts:
            tokens = int(sum(counts))
            usage = Usage(tokens, 0, tokens)
    return ModelResponse(embedding=vectors, usage=usage, raw=response)


class GeminiEmbeddingWrapper(GeminiWrapperBase, EmbeddingWrapperBase):
    """`model(texts, task_type=..., title=...)` -> ModelResponse whose `embedding` has
    one vector per text."""

    model_type: ClassVar[str] = "gemini_embedding"
    config_class: ClassVar[type[GeminiEmbeddingConfig]] = GeminiEmbeddingConfig
    config: GeminiEmbeddingConfig

    def batch_limit(self) -> int | None:
        """The config's batch size (at most the API's 100)."""
        return self.config.batch_size

    def build(self, texts: list[str], params: dict[str, Any]
              ) -> tuple[Any, types.EmbedContentConfigDict]:
        """One content per text (so that each gets its own vector, whatever the model:
        the SDK makes a list of strings one content for a multimodal model), and the
        config, as dicts (the SDK checks them before sending anything)."""
        cfg = self.config
        fields = {"task_type": cfg.task_type,
                  "output_dimensionality": cfg.output_dimensionality, **params}
        config = {k: v for k, v in fields.items() if v is not None}
        return ([{"parts": [{"text": t}]} for t in texts],
                cast("types.EmbedContentConfigDict", config))

    def _parse(self, response: Any) -> ModelResponse:
        return parse_answer(parse_embeddings, response, self.clients.context)

    def _embed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        contents, config = self.build(texts, params)
        models = self.clients.sync().models
        return self._parse(self.clients.call(lambda: models.embed_content(
            model=self.model_name, contents=contents, config=config)))

    async def _aembed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        contents, config = self.build(texts, params)
        models = self.clients.aio().aio.models
        return self._parse(await self.clients.acall(lambda: models.embed_content(
            model=self.model_name, contents=contents, config=config)))
