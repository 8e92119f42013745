"""gemini_embedding against the loopback Gemini server, through the real google-genai SDK."""

from __future__ import annotations

from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.embedding import EmbeddingWrapperBase
from tests.gemini_server import (  # noqa: F401 - the fixtures
    GeminiServer,
    batch_embed_response,
    error_reply,
    gemini_server_fixture,
    gemini_server_session_fixture,
    predict_response,
    rate_limit_reply,
)
from tests.loopback import json_reply

KEY = "AIzaSyEmbed-0123456789abcdef"



def embedder(gemini_server: GeminiServer, **extra: Any) -> EmbeddingWrapperBase:
    reg = Registry()
    reg.init({"config_name": "emb", "model_type": "gemini_embedding",
              "model_name": "gemini-embedding-001", "api_key": KEY, "base_url": gemini_server.url,
              "max_retries": 0, **extra})
    wrapper = reg.get("emb")
    assert isinstance(wrapper, EmbeddingWrapperBase)
    return wrapper


def test_batch_request_with_task_type_and_dimensions(gemini_server: GeminiServer) -> None:
    resp = embedder(gemini_server, task_type="RETRIEVAL_DOCUMENT", output_dimensionality=4)(
        ["alpha", "beta"], title="Notes")
    assert [len(v) for v in resp.embedding or []] == [4, 4]
    req = gemini_server.last
    assert req.path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert req.headers["x-goog-api-key"] == KEY
    assert req.json["requests"] == [
        {"content": {"parts": [{"text": text}]}, "taskType": "RETRIEVAL_DOCUMENT",
         "title": "Notes", "outputDimensionality": 4, "model": "models/gemini-embedding-001"}
        for text in ("alpha", "beta")]


def test_vectors_in_input_order_across_batches(gemini_server: GeminiServer) -> None:
    texts = [f"text {i}" for i in range(250)]
    resp = embedder(gemini_server)(texts)
    assert [len(r.json["requests"]) for r in gemini_server.requests] == [100, 100, 50]
    sent = [r["content"]["parts"][0]["text"] for req in gemini_server.requests
            for r in req.json["requests"]]
    assert sent == texts
    single = embedder(gemini_server)("text 137").embedding
    assert resp.embedding is not None and resp.embedding[137] == (single or [[]])[0]
    assert len(resp.raw) == 3


def test_each_text_gets_its_own_vector_on_a_multimodal_model(gemini_server: GeminiServer) -> None:
    """The SDK sends a list of strings to a multimodal embedding model as one content
    (one vector); the wrapper sends one content per text."""
    resp = embedder(gemini_server, model_name="gemini-embedding-2", batch_size=2)(["a", "b", "c"])
    assert len(resp.embedding or []) == 3
    assert [len(r.json["requests"]) for r in gemini_server.requests] == [2, 1]


def test_a_count_mismatch_is_an_error(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply(batch_embed_response([[0.1]])))
    with pytest.raises(errors.ResponseParseError, match="expected 2 embeddings, got 1"):
        embedder(gemini_server)(["a", "b"])


async def test_async_embedding(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply(batch_embed_response([[1.0, 2.0], [3.0, 4.0]])))
    resp = await embedder(gemini_server).acall(["a", "b"], task_type="CLUSTERING")
    assert resp.embedding == [[1.0, 2.0], [3.0, 4.0]]
    assert gemini_server.last.json["requests"][0]["taskType"] == "CLUSTERING"


def test_vertex_predict_with_usage_from_statistics(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(json_reply(predict_response([[0.5, 0.5], [0.25, 0.75]], tokens=4)))
    resp = embedder(gemini_server, model_name="text-embedding-005", vertexai=True,
                    output_dimensionality=2)(["a", "b"])
    assert resp.embedding == [[0.5, 0.5], [0.25, 0.75]]
    assert (resp.usage.input_tokens, resp.usage.total_tokens) == (8, 8)  # type: ignore[union-attr]
    req = gemini_server.last
    assert req.path == "/v1beta1/publishers/google/models/text-embedding-005:predict"
    assert req.json == {"instances": [{"content": "a"}, {"content": "b"}],
                        "parameters": {"outputDimensionality": 2}}


def test_errors_map(gemini_server: GeminiServer) -> None:
    gemini_server.enqueue(error_reply(400, "* BatchEmbedContentsRequest.requests: at most 100 "
                                    "requests can be in one batch", "INVALID_ARGUMENT"))
    with pytest.raises(errors.BadRequestError) as info:
        embedder(gemini_server)(["a"])
    assert info.value.code == "INVALID_ARGUMENT"
    gemini_server.enqueue(rate_limit_reply("0.01s"))
    assert len(embedder(gemini_server, max_retries=1)(["a"]).embedding or []) == 1
    assert len(gemini_server.requests) == 3


def test_unknown_arguments_are_refused_before_sending(gemini_server: GeminiServer) -> None:
    with pytest.raises(errors.InvalidArgumentError, match="task_typ"):
        embedder(gemini_server)(["a"], task_typ="CLUSTERING")
    with pytest.raises(errors.InvalidArgumentError, match="not accepted"):
        embedder(gemini_server)(["a"], pooling="mean")
    assert gemini_server.requests == []
