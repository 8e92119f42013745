"""`EmbeddingWrapperBase`: a batch of texts in, one flat vector per text out, in input
order, whatever the API's batch limit or vector shape.

A provider implements `_embed` (and, for native async, `_aembed`) for one batch that
fits its API; the base splits the input into batches of `max_batch_size`, retries
each batch, checks that every text got exactly one vector, and joins the batches and
their usage. `mean_pool` turns token-level vectors into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, ClassVar

from modelhub.errors import ResponseParseError
from modelhub.response import ModelResponse
from modelhub.wrappers.base import Capability, ModelWrapperBase
from modelhub.wrappers.engine_ref import call_engine

__all__ = ["EmbeddingOperation", "EmbeddingWrapperBase", "as_vector", "mean_pool"]


def mean_pool(vectors: Sequence[Sequence[float]]) -> list[float]:
    """The element-wise mean of token-level vectors (all of one length)."""
    if not vectors:
        raise ResponseParseError("no token vectors to pool")
    width = len(vectors[0])
    if any(len(v) != width for v in vectors):
        raise ResponseParseError("token vectors of different lengths cannot be pooled")
    count = len(vectors)
    return [sum(column) / count for column in zip(*vectors)]


def as_vector(value: Any) -> list[float]:
    """One embedding as a flat float list: a vector as is, token-level vectors (a list
    of lists, or a batch of one such) mean-pooled."""
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and value:
        if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value):
            return [float(x) for x in value]
        if all(isinstance(x, Sequence) and not isinstance(x, (str, bytes)) for x in value):
            if len(value) == 1 and value[0] and not isinstance(value[0][0], (int, float)):
                return as_vector(value[0])  # a batch of one
            return mean_pool([as_vector(x) for x in value])
    raise ResponseParseError(f"an embedding is not a list of numbers: {type(value).__name__}")


def _inputs(texts: str | Sequence[str]) -> list[str]:
    items = [texts] if isinstance(texts, str) else list(texts)
    if not items:
        raise ValueError("nothing to embed: pass a string or a non-empty list of strings")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"input {i} is a {type(item).__name__}, not a str")
    return items


class EmbeddingWrapperBase(ModelWrapperBase):
    """Base of embedding wrappers: `model(texts)` -> ModelResponse whose `embedding`
    holds one vector per text."""

    kind: ClassVar[str] = "embedding"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({"embeddings"})
    # The most texts the API takes in one request (None: no limit).
    max_batch_size: ClassVar[int | None] = None

    def batch_limit(self) -> int | None:
        """The most texts sent in one request (`max_batch_size` unless overridden)."""
        return self.max_batch_size

    def _batches(self, texts: str | Sequence[str]) -> list[list[str]]:
        items = _inputs(texts)
        size = self.batch_limit() or len(items)
        return [items[i:i + size] for i in range(0, len(items), size)]

    def _checked(self, batch: list[str], response: ModelResponse) -> ModelResponse:
        vectors = response.embedding
        if vectors is None or len(vectors) != len(batch):
            got = "none" if vectors is None else str(len(vectors))
            raise ResponseParseError(f"expected {len(batch)} embeddings, got {got}",
                                     config_name=self.config_name)
        return response

    def _joined(self, parts: list[ModelResponse]) -> ModelResponse:
        if len(parts) == 1:
            response = parts[0]
        else:
            usages = [p.usage for p in parts if p.usage is not None]
            response = ModelResponse(
                embedding=[v for p in parts for v in p.embedding or ()],
                usage=sum(usages[1:], usages[0]) if usages else None,
                model=parts[0].model, raw=[p.raw for p in parts])
        response.config_name = self.config_name
        return response

    def __call__(self, texts: str | Sequence[str], /, **kwargs: Any) -> ModelResponse:
        """Embed one text or a list of texts; keyword arguments override generate_args
        (besides the call's own `timeout` and `max_retries`)."""
        return call_engine().call(self, (texts,), kwargs)  # type: ignore[no-any-return]

    async def acall(self, texts: str | Sequence[str], /, **kwargs: Any) -> ModelResponse:
        """Async twin of `__call__`."""
        return await call_engine().acall(self, (texts,), kwargs)  # type: ignore[no-any-return]

    def _operation(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> EmbeddingOperation:
        (texts,) = args
        return EmbeddingOperation(self, self._batches(texts), self.merged_params(kwargs))

    def _embed_all(self, batches: list[list[str]], params: dict[str, Any]) -> ModelResponse:
        """Every batch embedded (each retried on its own), joined."""
        return self._joined([self._checked(batch, self.with_retries(
            partial(self._embed, batch, params))) for batch in batches])

    async def _aembed_all(self, batches: list[list[str]],
                          params: dict[str, Any]) -> ModelResponse:
        """Async twin of `_embed_all`."""
        parts = []
        for batch in batches:
            response = await self.awith_retries(partial(self._aembed, batch, params))
            parts.append(self._checked(batch, response))
        return self._joined(parts)

    # -- provider hooks ---------------------------------------------------------------
    def _embed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        """Embed one batch: a ModelResponse with one vector per text, in order."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _embed")

    async def _aembed(self, texts: list[str], params: dict[str, Any]) -> ModelResponse:
        """Async twin of `_embed`; by default `_embed` in a thread."""
        import asyncio

        return await asyncio.to_thread(self._embed, texts, params)


class EmbeddingOperation:
    """One embedding call, ready to run (see `modelhub.calls.engine`)."""

    kind = "embedding"
    stream = False
    __slots__ = ("batches", "params", "wrapper")

    def __init__(self, wrapper: EmbeddingWrapperBase, batches: list[list[str]],
                 params: dict[str, Any]) -> None:
        self.wrapper = wrapper
        self.batches = batches
        self.params = params

    @property
    def input(self) -> list[str]:
        """The texts sent."""
        return [text for batch in self.batches for text in batch]

    def run(self) -> ModelResponse:
        """Make the call."""
        return self.wrapper._embed_all(self.batches, self.params)

    async def arun(self) -> ModelResponse:
        """Make the call (async)."""
        return await self.wrapper._aembed_all(self.batches, self.params)
