"""`openai_embedding`: the /embeddings endpoint, float or base64 on the wire."""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from modelhub.errors import ResponseParseError
from modelhub.providers.openai.base import OpenAIWrapperBase
from modelhub.providers.openai.config import OpenAIConfig
from modelhub.providers.openai.wire import parse_usage
from modelhub.response import ModelResponse

__all__ = ["OpenAIEmbeddingConfig", "OpenAIEmbeddingWrapper", "decode_embedding"]

EMBEDDINGS_PATH = "/embeddings"


class OpenAIEmbeddingConfig(OpenAIConfig):
    """`openai_embedding`: the /embeddings endpoint."""

    dimensions: int | None = Field(default=None, gt=0, description="Output dimensions.")
    encoding_format: Literal["float", "base64"] = Field(
        default="float", description="Wire encoding; base64 is decoded for you.")


def decode_embedding(value: Any) -> list[float]:
    """One embedding as floats: a float list as is, base64 as little-endian float32."""
    if isinstance(value, str):
        raw = base64.b64decode(value)
        if len(raw) % 4:
            raise ResponseParseError("a base64 embedding is not a whole number of float32s")
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    if isinstance(value, list):
        return [float(x) for x in value]
    raise ResponseParseError(f"an embedding is neither a list nor base64: {type(value).__name__}")


def _inputs(texts: str | Sequence[str]) -> list[str]:
    items = [texts] if isinstance(texts, str) else list(texts)
    if not items:
        raise ValueError("nothing to embed: pass a string or a non-empty list of strings")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"input {i} is a {type(item).__name__}, not a str")
    return items


class OpenAIEmbeddingWrapper(OpenAIWrapperBase):
    """`model(texts)` -> ModelResponse whose `embedding` has one vector per text."""

    model_type: ClassVar[str] = "openai_embedding"
    config_class: ClassVar[type[OpenAIEmbeddingConfig]] = OpenAIEmbeddingConfig
    config: OpenAIEmbeddingConfig
    path: ClassVar[str] = EMBEDDINGS_PATH

    def payload(self, texts: str | Sequence[str], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body of an embeddings request."""
        cfg = self.config
        body: dict[str, Any] = {"model": self.model_name, "input": _inputs(texts),
                                "encoding_format": cfg.encoding_format}
        if cfg.dimensions is not None:
            body["dimensions"] = cfg.dimensions
        body.update(cfg.generate_args)
        body.update(kwargs)
        return body

    @staticmethod
    def parse(body: Any, count: int) -> ModelResponse:
        """A ModelResponse from an embeddings answer, vectors in input order."""
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, list) or len(data) != count:
            raise ResponseParseError(
                f"expected {count} embeddings in 'data', got "
                f"{len(data) if isinstance(data, list) else 'none'}", response=body)
        ordered = sorted(data, key=lambda d: d.get("index", 0))
        return ModelResponse(embedding=[decode_embedding(d.get("embedding")) for d in ordered],
                             usage=parse_usage(body.get("usage")), model=body.get("model"),
                             raw=body)

    def __call__(self, texts: str | Sequence[str], /, **kwargs: Any) -> ModelResponse:
        """Embed one text or a list of texts."""
        body = self.payload(texts, kwargs)
        answer = self._retry.call(lambda: self.endpoint.post(self.path, body))
        return self.parse(answer, len(body["input"]))

    async def acall(self, texts: str | Sequence[str], /, **kwargs: Any) -> ModelResponse:
        """Async twin of `__call__`."""
        body = self.payload(texts, kwargs)
        answer = await self._retry.acall(lambda: self.endpoint.apost(self.path, body))
        return self.parse(answer, len(body["input"]))
