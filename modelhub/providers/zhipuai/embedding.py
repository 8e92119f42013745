"""`zhipuai_embedding`: Zhipu's text embeddings (embedding-2, embedding-3) through the
`zai-sdk`; at most 64 texts go in one request, vectors come back in input order."""

from __future__ import annotations

from typing import Any, ClassVar

from modelhub.providers.zhipuai.client import ZhipuAIWrapperBase
from modelhub.providers.zhipuai.config import ZhipuAIEmbeddingConfig
from modelhub.providers.zhipuai.wire import (
    parse_embeddings,
    read_answer,
    sdk_params,
    split_params,
)
from modelhub.response import ModelResponse
from modelhub.wrappers.embedding import EmbeddingWrapperBase
from modelhub.wrappers.sdk import call_sdk

__all__ = ["MAX_BATCH", "ZhipuAIEmbeddingWrapper"]

# The most texts Zhipu's /embeddings takes in one request (its API reference: an
# array of at most 64 strings).
MAX_BATCH = 64


class ZhipuAIEmbeddingWrapper(ZhipuAIWrapperBase, EmbeddingWrapperBase):
    """`model(texts)` -> ModelResponse whose `embedding` has one vector per text."""

    model_type: ClassVar[str] = "zhipuai_embedding"
    config_class: ClassVar[type[ZhipuAIEmbeddingConfig]] = ZhipuAIEmbeddingConfig
    max_batch_size: ClassVar[int | None] = MAX_BATCH
    path: ClassVar[str] = "/embeddings"
    config: ZhipuAIEmbeddingConfig

    def setup(self) -> None:
        """Build the SDK client and look up what its create() takes."""
        super().setup()
        self._create = self.client.embeddings.create
        self._direct = sdk_params(type(self.client.embeddings).create)

    def _embed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        kwargs = split_params(params, self._direct)
        if self.config.dimensions is not None:
            kwargs.setdefault("dimensions", self.config.dimensions)
        kwargs["model"] = self.model_name
        # one text as a string, as AgentScope sends it; more as Zhipu's array
        kwargs["input"] = texts[0] if len(texts) == 1 else texts
        answer = call_sdk(lambda: self._create(**kwargs), self.map_error)
        return read_answer(parse_embeddings, answer, self.context)
