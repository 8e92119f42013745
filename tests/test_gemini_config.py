"""The Gemini family's configs (AgentScope's shapes, Vertex AI settings checked at load),
where its key may go, its missing SDK, and format() as AgentScope v0.1.6's Gemini
formatter lays messages out."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx2
import pytest

from modelhub import errors
from modelhub.http import pool
from modelhub.providers.gemini.chat import GeminiChatWrapper
from modelhub.providers.gemini.embedding import GeminiEmbeddingWrapper
from modelhub.providers.gemini.messages import FOREIGN_SIGNATURE
from modelhub.registry import Registry
from tests.gemini_server import (  # noqa: F401 - the fixtures
    GeminiServer,
    gemini_server_fixture,
    gemini_server_session_fixture,
    generate_response,
)
from tests.test_formatting import INPUTS, WITH_TOOLS, Msg

ROOT = Path(__file__).resolve().parent.parent
ENV_KEYS = ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_CLOUD_PROJECT",
            "GOOGLE_CLOUD_LOCATION", "GOOGLE_GEMINI_BASE_URL", "GOOGLE_VERTEX_BASE_URL",
            "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_API_VERSION")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_KEYS:
        monkeypatch.delenv(name, raising=False)


def load(*configs: dict[str, Any]) -> Registry:
    reg = Registry()
    reg.init(list(configs))
    return reg


# -- AgentScope's configs -----------------------------------------------------------------------
def test_agentscope_template_shapes_load_unchanged() -> None:
    templates = ROOT.parent.parent / "ref" / "agentscope-v0.1.6" / "examples" / \
        "model_configs_template"
    shapes = [
        {"config_name": "gemini_chat-gemini-pro", "model_type": "gemini_chat",
         "model_name": "gemini-pro", "api_key": "{your_api_key}"},
        {"config_name": "gemini_chat-embedding-001", "model_type": "gemini_embedding",
         "model_name": "models/embedding-001", "api_key": "{your_api_key}"}]
    for name, shape in zip(("gemini_chat_template.json", "gemini_embedding_template.json"),
                           shapes):
        if (templates / name).exists():  # the reference checkout, where it is present
            assert json.loads((templates / name).read_text()) == [shape]
    reg = load(*shapes, {"config_name": "streaming", "model_type": "gemini_chat",
                         "model_name": "gemini-pro", "api_key": "k", "stream": True})
    chat = reg.get("gemini_chat-gemini-pro")
    assert isinstance(chat, GeminiChatWrapper) and chat.model_name == "gemini-pro"
    assert isinstance(reg.get("gemini_chat-embedding-001"), GeminiEmbeddingWrapper)
    assert reg.entry("streaming").config.stream is True  # type: ignore[attr-defined]


def test_the_example_config_files_validate() -> None:
    reg = Registry()
    names = reg.init([ROOT / "configs" / "gemini.yaml",
                      ROOT / "configs" / "agentscope" / "gemini.json"])
    types = {reg.entry(n).config.model_type for n in names}
    assert types == {"gemini_chat", "gemini_embedding"}


@pytest.mark.parametrize(("extra", "message"), [
    ({"project": "p"}, "Vertex AI settings"),
    ({"location": "us-central1"}, "Vertex AI settings"),
    ({"vertexai": True, "api_key": None}, "Vertex AI needs a project"),
    ({"vertexai": True, "project": "p"}, "not both"),
    ({"temprature": 0.5}, "generate_args.temperature"),
    ({"generate_args": {"max_output_token": 5}}, "max_output_tokens"),
    ({"base_url": "generativelanguage.googleapis.com"}, "http"),
    ({"task_type": "CLUSTERING"}, "task_type"),
])
def test_config_errors_at_load(extra: dict[str, Any], message: str) -> None:
    config = {"config_name": "g", "model_type": "gemini_chat", "api_key": "k", **extra}
    with pytest.raises(errors.ConfigError, match=message):
        load({k: v for k, v in config.items() if v is not None})


def test_vertex_settings_that_load(monkeypatch: pytest.MonkeyPatch) -> None:
    load({"config_name": "adc", "model_type": "gemini_chat", "vertexai": True,
          "project": "p", "location": "europe-west4"},
         {"config_name": "express", "model_type": "gemini_embedding", "vertexai": True,
          "api_key": "k"})
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env")
    load({"config_name": "env", "model_type": "gemini_chat", "vertexai": True})


# -- where the key goes --------------------------------------------------------------------------
def test_an_environment_key_is_not_sent_to_another_host(gemini_server: GeminiServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-env-key-must-stay-home")
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-other-env-key")
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9")  # the SDK's own
    reg = load({"config_name": "g", "model_type": "gemini_chat", "base_url": gemini_server.url},
               # `${GEMINI_API_KEY:-}` with the variable unset: an empty key is no key
               {"config_name": "empty", "model_type": "gemini_chat", "base_url": gemini_server.url,
                "api_key": ""})
    gemini_server.reset()
    assert reg.get("g")("hi").text == "echo: hi"
    assert reg.get("empty")("hi").text == "echo: hi"
    for sent in gemini_server.requests:
        assert "x-goog-api-key" not in sent.headers and "key" not in sent.query
        assert "AIza" not in json.dumps(sent.headers)


def test_an_environment_key_goes_to_googles_host(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=generate_response("from Google"))

    mock = httpx2.Client(transport=httpx2.MockTransport(answer))
    monkeypatch.setattr(pool, "sync_client", lambda key=None, library="httpx": mock)
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-gemini-env")
    reg = load({"config_name": "home", "model_type": "gemini_chat", "model_name": "gemini-x"},
               {"config_name": "same", "model_type": "gemini_chat", "model_name": "gemini-x",
                "base_url": "https://generativelanguage.googleapis.com/"})
    assert reg.get("home")("hi").text == "from Google"
    assert reg.get("same")("hi").text == "from Google"
    for request in seen:
        assert str(request.url) == ("https://generativelanguage.googleapis.com/v1beta/models/"
                                    "gemini-x:generateContent")
        assert request.headers["x-goog-api-key"] == "AIza-gemini-env"
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-google-env")  # the SDK's order: this first
    reg = load({"config_name": "home", "model_type": "gemini_chat"})
    reg.get("home")("hi")
    assert seen[-1].headers["x-goog-api-key"] == "AIza-google-env"


def test_the_config_key_goes_where_the_config_says(gemini_server: GeminiServer,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-env-key")
    reg = load({"config_name": "g", "model_type": "gemini_chat", "base_url": gemini_server.url,
                "api_key": "AIza-config-key", "headers": {"x-proxy": "yes"},
                "api_version": "v1"})
    gemini_server.reset()
    reg.get("g")("hi")
    assert gemini_server.last.headers["x-goog-api-key"] == "AIza-config-key"
    assert gemini_server.last.headers["x-proxy"] == "yes"
    assert gemini_server.last.path == "/v1/models/gemini_chat:generateContent".replace(
        "gemini_chat", "g")
    assert "AIza-config-key" not in repr(reg.get("g")) + repr(reg.entry("g").config)


def test_vertex_express_and_adc_paths(gemini_server: GeminiServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth
    from google.oauth2.credentials import Credentials

    monkeypatch.setattr(google.auth, "default",
                        lambda **kw: (Credentials(token="ya29.test-token"), "adc-project"))
    reg = load({"config_name": "express", "model_type": "gemini_chat", "vertexai": True,
                "model_name": "gemini-2.5-pro", "api_key": "vertex-key", "base_url": gemini_server.url},
               {"config_name": "adc", "model_type": "gemini_chat", "vertexai": True,
                "model_name": "gemini-2.5-pro", "project": "my-proj",
                "location": "us-central1", "base_url": gemini_server.url})
    gemini_server.reset()
    reg.get("express")("hi")
    assert gemini_server.last.path == "/v1beta1/publishers/google/models/gemini-2.5-pro:generateContent"
    assert gemini_server.last.headers["x-goog-api-key"] == "vertex-key"
    reg.get("adc")("hi")
    assert gemini_server.last.path == ("/v1beta1/projects/my-proj/locations/us-central1/publishers/"
                                "google/models/gemini-2.5-pro:generateContent")
    assert gemini_server.last.headers["authorization"] == "Bearer ya29.test-token"
    assert "x-goog-api-key" not in gemini_server.last.headers


def test_missing_credentials_for_vertex_is_an_authentication_error(
        gemini_server: GeminiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth
    from google.auth import exceptions

    def no_credentials(**kw: Any) -> Any:
        raise exceptions.DefaultCredentialsError("Your default credentials were not found.")

    monkeypatch.setattr(google.auth, "default", no_credentials)
    reg = load({"config_name": "adc", "model_type": "gemini_chat", "vertexai": True,
                "project": "p", "base_url": gemini_server.url, "max_retries": 0})
    with pytest.raises(errors.AuthenticationError, match="default credentials") as info:
        reg.get("adc")("hi")
    assert info.value.provider == "vertexai" and info.value.__context__ is None


# -- the SDK ------------------------------------------------------------------------------------
def test_a_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from modelhub.wrappers import base

    real = importlib.util.find_spec
    monkeypatch.setattr(base.importlib.util, "find_spec",
                        lambda name, *a: None if name == "google.genai" else real(name, *a))
    check = GeminiChatWrapper.check_dependencies.__func__  # type: ignore[attr-defined]
    check.cache_clear()
    try:
        reg = load({"config_name": "g", "model_type": "gemini_chat", "api_key": "k"})
        with pytest.raises(errors.MissingDependencyError, match=r"modelhub\[gemini\]") as info:
            reg.get("g")
        assert info.value.extra == "gemini"
    finally:
        check.cache_clear()


def test_import_and_init_load_no_sdk() -> None:
    code = ("import sys, modelhub\n"
            "modelhub.init([{'config_name': 'c', 'model_type': 'gemini_chat', 'api_key': 'k'},"
            " {'config_name': 'e', 'model_type': 'gemini_embedding', 'vertexai': True,"
            " 'project': 'p'}])\n"
            "print(sorted(m for m in sys.modules if m.startswith(('google', 'httpx'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"MODELHUB_CACHE_DIR": "", "PATH": ""})
    assert out.stdout.strip() == "[]"


def test_capabilities() -> None:
    assert GeminiChatWrapper.capabilities == {"streaming", "tools", "vision", "audio", "video",
                                              "stop", "response_format"}
    assert GeminiEmbeddingWrapper.capabilities == {"embeddings"}


# -- format(), as AgentScope v0.1.6 --------------------------------------------------------------
@pytest.fixture(scope="module")
def gemini() -> GeminiChatWrapper:
    return GeminiChatWrapper(config_name="as", model_name="gemini-pro", api_key="xxx")


def test_format_multi_agent_matches_agentscope(gemini: GeminiChatWrapper) -> None:
    # tests/formatter_test.py::test_gemini_chat, ground truth verbatim
    assert gemini.format(*INPUTS) == [{"role": "user", "parts": [
        "You are a helpful assistant\n\n## Conversation History\n"
        "user: What is the weather today?\nassistant: It is sunny today"]}]
    with pytest.raises(TypeError):
        gemini.format(Msg("system", "x", "system"), ["What is the weather today?"])
    with pytest.raises(ValueError, match="At least one message"):
        gemini.format()


def test_format_chat_mode_matches_agentscope(gemini: GeminiChatWrapper) -> None:
    assert gemini.format(*INPUTS, multi_agent_mode=False) == [
        {"role": "user", "parts": "You are a helpful assistant"},
        {"role": "user", "parts": "What is the weather today?"},
        {"role": "model", "parts": "It is sunny today"}]


def test_format_carries_tool_use_and_tool_result_in_chat_mode(gemini: GeminiChatWrapper) -> None:
    out = gemini.format(*WITH_TOOLS, multi_agent_mode=False)
    assert out[2] == {"role": "model", "parts": [
        "Let's try bing search",
        {"function_call": {"name": "bing_search", "args": {"query": "Beijing weather"},
                           "id": "xxx"},
         "thought_signature": FOREIGN_SIGNATURE}]}
    assert out[3] == {"role": "user", "parts": [{"function_response": {
        "name": "bing_search", "response": {"output": "It is sunny today"}, "id": "xxx"}}]}
    assert len(out) == 4
    # as AgentScope's merged history: the text of each message, tool traffic left out
    assert gemini.format(*WITH_TOOLS) == [{"role": "user", "parts": [
        "You are a helpful assistant\n\n## Conversation History\n"
        "user: What is the weather today?\nassistant: Let's try bing search"]}]


def test_format_carries_images(gemini: GeminiChatWrapper, tmp_path: Path) -> None:
    png = tmp_path / "abc.png"
    png.write_bytes(b"abcdef")
    inputs = [Msg("system", "You are a helpful assistant", "system"),
              [Msg("user", "Describe the images", "user", url="https://fakeweb/test.jpg"),
               Msg("user", "And this images", "user", url=[str(png)])]]
    web = {"file_data": {"file_uri": "https://fakeweb/test.jpg", "mime_type": "image/jpeg"}}
    local = {"inline_data": {"mime_type": "image/png", "data": b"abcdef"}}
    assert gemini.format(*inputs) == [{"role": "user", "parts": [
        "You are a helpful assistant\n\n## Conversation History\n"
        "user: Describe the images\nuser: And this images", web, local]}]
    assert gemini.format(*inputs, multi_agent_mode=False)[1:] == [
        {"role": "user", "parts": ["Describe the images", web]},
        {"role": "user", "parts": ["And this images", local]}]
    with pytest.raises(ValueError, match="not an image, audio or video"):
        gemini.format(Msg("user", "read this", "user", url="/x/report.pdf"))


def test_a_formatted_conversation_is_sent_as_it_is(gemini_server: GeminiServer) -> None:
    reg = load({"config_name": "g", "model_type": "gemini_chat", "api_key": "k",
                "base_url": gemini_server.url})
    wrapper = reg.get("g")
    assert isinstance(wrapper, GeminiChatWrapper)
    gemini_server.reset()
    wrapper(wrapper.format(*WITH_TOOLS, multi_agent_mode=False))
    sent = gemini_server.last.json["contents"]
    assert [c["role"] for c in sent] == ["user", "user", "model", "user"]
    assert sent[2]["parts"][1]["functionCall"]["name"] == "bing_search"
    # a call Gemini did not make goes with the placeholder Google documents for it
    assert sent[2]["parts"][1]["thoughtSignature"] == "skip_thought_signature_validator"
    png = base64.b64encode(b"img").decode()
    wrapper([{"role": "user", "parts": ["look", {"inline_data": {"mime_type": "image/png",
                                                                 "data": b"img"}}]}])
    assert gemini_server.last.json["contents"][0]["parts"][1] == {
        "inlineData": {"data": png, "mime_type": "image/png"}}
