"""openai_embedding, openai_dall_e and the Azure wrappers against the loopback server."""

from __future__ import annotations

from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry
from tests.openai_server import OpenAIServer, embedding_response, images_response, json_reply


def build(server: OpenAIServer, model_type: str, **extra: Any) -> Any:
    reg = Registry()
    reg.init({"config_name": "x", "model_type": model_type, "model_name": "m",
              "api_key": "sk-k", "base_url": server.base_url, **extra})
    return reg.get("x")


@pytest.mark.parametrize("fmt", ["float", "base64"])
def test_embeddings_decoded_in_input_order(openai_server: OpenAIServer, fmt: str) -> None:
    body = embedding_response([[0.5, 1.5], [2.0, -3.0]], encoding_format=fmt)
    body["data"].reverse()  # the server may answer out of order: `index` decides
    openai_server.enqueue(json_reply(body))
    resp = build(openai_server, "openai_embedding", encoding_format=fmt)(["a", "b"])
    assert resp.embedding == [[0.5, 1.5], [2.0, -3.0]]
    assert resp.usage.input_tokens == 6
    sent = openai_server.last.json
    assert sent == {"model": "m", "input": ["a", "b"], "encoding_format": fmt}


def test_embedding_dimensions_and_single_string(openai_server: OpenAIServer) -> None:
    resp = build(openai_server, "openai_embedding", dimensions=4)("one")
    assert len(resp.embedding) == 1 and len(resp.embedding[0]) == 4
    assert openai_server.last.json["dimensions"] == 4


def test_embedding_bad_inputs_and_count_mismatch(openai_server: OpenAIServer) -> None:
    m = build(openai_server, "openai_embedding")
    with pytest.raises(ValueError):
        m([])
    with pytest.raises(TypeError):
        m(["a", 3])
    openai_server.enqueue(json_reply(embedding_response([[1.0]])))
    with pytest.raises(errors.ResponseParseError, match="expected 2"):
        m(["a", "b"])


async def test_embedding_async(openai_server: OpenAIServer) -> None:
    resp = await build(openai_server, "openai_embedding").acall(["a"])
    assert len(resp.embedding[0]) == 8


def test_dall_e_urls_and_b64(openai_server: OpenAIServer) -> None:
    m = build(openai_server, "openai_dall_e", generate_args={"size": "1024x1024"})
    openai_server.enqueue(json_reply(images_response(["https://i/1.png"], revised_prompt="A red bike")))
    resp = m("a red bicycle")
    assert resp.image_urls == ["https://i/1.png"] and resp.text == "A red bike"
    assert openai_server.last.json == {"model": "m", "prompt": "a red bicycle",
                                       "size": "1024x1024"}
    resp = m("x", n=2, response_format="b64_json")
    assert resp.image_urls == ["data:image/png;base64,cG5nMA==", "data:image/png;base64,cG5nMQ=="]
    with pytest.raises(ValueError):
        m("  ")


def test_azure_chat_and_embedding(openai_server: OpenAIServer,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", openai_server.url)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "az-secret")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    reg = Registry()
    reg.init([{"config_name": "az", "model_type": "azure_openai_chat", "model_name": "gpt-4o"},
              {"config_name": "aze", "model_type": "azure_openai_embedding",
               "model_name": "emb", "azure_deployment": "emb-dep", "api_version": "2025-01-01"}])
    assert reg.get("az")("hello").text == "echo: hello"
    req = openai_server.last
    assert req.path == "/openai/deployments/gpt-4o/chat/completions"
    assert req.query == {"api-version": "2024-10-21"}
    assert req.headers["api-key"] == "az-secret" and "authorization" not in req.headers
    reg.get("aze")(["t"])
    assert openai_server.last.path == "/openai/deployments/emb-dep/embeddings"
    assert openai_server.last.query == {"api-version": "2025-01-01"}


def test_azure_without_endpoint_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    monkeypatch.delenv("OPENAI_API_VERSION", raising=False)
    reg = Registry()
    # Rejected at load, not at the first call.
    with pytest.raises(errors.ConfigError, match="AZURE_OPENAI_ENDPOINT"):
        reg.init({"config_name": "az", "model_type": "azure_openai_chat", "api_version": "v"})
    with pytest.raises(errors.ConfigError, match="OPENAI_API_VERSION"):
        reg.init({"config_name": "az", "model_type": "azure_openai_chat",
                  "azure_endpoint": "https://r.openai.azure.com"})
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://r.openai.azure.com")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    assert reg.init({"config_name": "az", "model_type": "azure_openai_chat"}) == ["az"]
