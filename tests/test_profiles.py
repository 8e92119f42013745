"""OpenAI-compatible services as profile rows, and the rule that a key goes only to its
own provider's host."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from modelhub import errors
from modelhub.http import pool
from modelhub.providers.openai.profiles import PROFILES, profile_names
from modelhub.registry import Registry

SEEDED = {"openai", "azure", "deepseek", "groq", "together", "openrouter", "mistral",
          "fireworks", "moonshot", "dashscope", "zhipuai", "yi", "vllm", "lmstudio",
          "llamacpp", "ollama"}
KEY_VARS = [v for p in PROFILES.values() for v in p.key_env] + ["OPENAI_BASE_URL"]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[httpx.Request]]:
    """Every request made, answered by a mock transport instead of the network."""
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={
            "id": "c", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                         "finish_reason": "stop"}]})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    monkeypatch.setattr(pool, "sync_client", lambda key=None: client)
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    yield requests
    client.close()


def call(config: dict[str, object]) -> None:
    reg = Registry()
    reg.init({"config_name": "c", "model_type": "openai_chat", **config})
    assert reg.get("c")("hi", stream=False).text == "ok"


def test_the_table_holds_every_seeded_service() -> None:
    assert set(profile_names()) >= SEEDED
    for profile in PROFILES.values():
        if profile.base_url is not None:
            assert profile.base_url.startswith(("https://", "http://localhost"))
        assert profile.local == (profile.base_url or "").startswith("http://")


def test_a_dashscope_config_goes_to_dashscope_and_nowhere_else(
        sent: list[httpx.Request], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-dash")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # never for dashscope
    call({"provider": "dashscope", "model_name": "qwen-plus"})
    [request] = sent
    assert str(request.url) == "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-dash"


def test_an_openai_config_ignores_other_providers_keys(
        sent: list[httpx.Request], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-dash")
    call({})
    [request] = sent
    assert str(request.url) == "https://api.openai.com/v1/chat/completions"
    assert "authorization" not in request.headers
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    call({})
    assert sent[-1].headers["authorization"] == "Bearer sk-openai"


def test_no_variable_moves_a_profile_or_its_key(sent: list[httpx.Request],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # OPENAI_BASE_URL (which the openai SDK would follow) could send a key anywhere.
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    call({})
    call({"api_key": "sk-own"})
    call({"provider": "groq"})
    assert [str(r.url) for r in sent] == ["https://api.openai.com/v1/chat/completions"] * 2 + [
        "https://api.groq.com/openai/v1/chat/completions"]
    assert [r.headers.get("authorization") for r in sent] == [
        "Bearer sk-openai", "Bearer sk-own", None]  # no GROQ_API_KEY: no key at all


def test_an_environment_key_is_not_sent_to_a_base_url_elsewhere(
        sent: list[httpx.Request], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-deep")
    call({"provider": "deepseek", "base_url": "https://gateway.example.invalid/v1"})
    call({"provider": "deepseek", "base_url": "https://api.deepseek.com/v1"})  # its own host
    assert "authorization" not in sent[0].headers
    assert sent[1].headers["authorization"] == "Bearer sk-deep"


def test_model_type_stands_for_a_profile(sent: list[httpx.Request],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YI_API_KEY", "sk-yi")
    reg = Registry()
    reg.init({"config_name": "y", "model_type": "openai_chat", "provider": "yi"})
    assert reg.get("y").profile.name == "yi"  # type: ignore[attr-defined]


def test_a_local_server_profile_needs_no_key(sent: list[httpx.Request]) -> None:
    call({"provider": "ollama", "model_name": "llama3"})
    assert str(sent[0].url) == "http://localhost:11434/v1/chat/completions"


def test_mistral_is_never_sent_stream_options() -> None:
    reg = Registry()
    reg.init([{"config_name": "m", "model_type": "openai_chat", "provider": "mistral"},
              {"config_name": "o", "model_type": "openai_chat"},
              {"config_name": "forced", "model_type": "openai_chat", "provider": "mistral",
               "stream_usage": True}])
    payloads = [reg.get(n).payload(reg.get(n).build_request("x", stream=True))  # type: ignore[attr-defined]
                for n in ("m", "o", "forced")]
    assert ["stream_options" in p for p in payloads] == [False, True, True]


def test_an_unknown_provider_is_a_config_error_with_a_suggestion() -> None:
    with pytest.raises(errors.ConfigError, match="unknown provider 'grok'; did you mean 'groq'"):
        Registry().init({"config_name": "c", "model_type": "openai_chat", "provider": "grok"})


def test_a_profile_without_an_address_needs_a_base_url() -> None:
    with pytest.raises(errors.ConfigError, match="set base_url"):  # at load, not at a call
        Registry().init({"config_name": "c", "model_type": "openai_chat", "provider": "azure"})
