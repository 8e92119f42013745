"""`openai_embedding`: the /embeddings endpoint, float or base64 on the wire."""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping
from typing import Any, ClassVar

from modelhub.errors import ResponseParseError
from modelhub.http.errors import optional_str, parse_answer
from modelhub.providers.openai.base import OpenAIWrapperBase
from modelhub.providers.openai.config import OpenAIEmbeddingConfig
from modelhub.providers.openai.wire import parse_usage
from modelhub.response import ModelResponse
from modelhub.wrappers.embedding import EmbeddingWrapperBase, as_vector

__all__ = ["OpenAIEmbeddingConfig", "OpenAIEmbeddingWrapper", "decode_embedding"]

EMBEDDINGS_PATH = "/embeddings"


def decode_embedding(value: Any) -> list[float]:
    """One embedding as floats: a float list as is, base64 as little-endian float32."""
    if isinstance(value, str):
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError:
            raise ResponseParseError("a base64 embedding is not valid base64") from None
        if len(raw) % 4:
            raise ResponseParseError("a base64 embedding is not a whole number of float32s")
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return as_vector(value)


def parse_embeddings(body: Any) -> ModelResponse:
    """A ModelResponse from an embeddings answer, vectors in input order."""
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, list) or not all(isinstance(d, Mapping) for d in data):
        raise ResponseParseError("expected a 'data' list of embedding objects", response=body)
    ordered = sorted(data, key=lambda d: d.get("index", 0))
    return ModelResponse(embedding=[decode_embedding(d.get("embedding")) for d in ordered],
                         usage=parse_usage(body.get("usage")),
                         model=optional_str(body.get("model"), "model"), raw=body)


class OpenAIEmbeddingWrapper(OpenAIWrapperBase, EmbeddingWrapperBase):
    """`model(texts)` -> ModelResponse whose `embedding` has one vector per text."""

    model_type: ClassVar[str] = "openai_embedding"
    config_class: ClassVar[type[OpenAIEmbeddingConfig]] = OpenAIEmbeddingConfig
    config: OpenAIEmbeddingConfig
    path: ClassVar[str] = EMBEDDINGS_PATH

    def batch_limit(self) -> int | None:
        """The profile's limit of inputs per request."""
        return self.profile.max_embedding_batch

    def payload(self, texts: list[str], params: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body of an embeddings request."""
        cfg = self.config
        body: dict[str, Any] = {"model": self.model_name, "input": texts,
                                "encoding_format": cfg.encoding_format}
        if cfg.dimensions is not None:
            body["dimensions"] = cfg.dimensions
        body.update(params)
        return body

    def _embed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        body = self.endpoint.post(self.path, self.payload(texts, params))
        return parse_answer(parse_embeddings, body, self.endpoint.context)

    async def _aembed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        body = await self.endpoint.apost(self.path, self.payload(texts, params))
        return parse_answer(parse_embeddings, body, self.endpoint.context)
