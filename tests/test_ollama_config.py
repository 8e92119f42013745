"""Ollama configs: AgentScope's shapes loaded unchanged and meaning the same, the
address and key rules, secrets, format() parity with AgentScope v0.1.6, and a missing
client naming its extra."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from modelhub import errors
from modelhub.providers.ollama.config import host_url
from modelhub.registry import Registry
from modelhub.wrappers.base import ModelWrapperBase
from tests.ollama_server import (  # noqa: F401  (fixtures)
    OllamaServer,
    error_reply,
    server_fixture,
    server_session_fixture,
)

ROOT = Path(__file__).resolve().parent.parent
AGENTSCOPE_TEMPLATES = {
    # examples/model_configs_template/ollama_*.json of AgentScope v0.1.6, one of each
    "ollama_chat": {"config_name": "ollama_chat-llama2", "model_type": "ollama_chat",
                    "model_name": "llama2", "options": {"temperature": 0.7},
                    "keep_alive": "5m"},
    "ollama_embedding": {"config_name": "ollama_embedding-llama2",
                         "model_type": "ollama_embedding", "model_name": "llama2",
                         "options": {"temperature": 0.7}, "keep_alive": "5m"},
    "ollama_generate": {"config_name": "ollama_generate-qwen:0.5b",
                        "model_type": "ollama_generate", "model_name": "qwen:0.5b",
                        "options": {"temperature": 0.7}, "keep_alive": "5m"},
}


def build(config: dict[str, Any]) -> ModelWrapperBase:
    reg = Registry()
    [name] = reg.init(config)
    return reg.get(name)


# -- AgentScope ------------------------------------------------------------------------------
@pytest.mark.parametrize("model_type", sorted(AGENTSCOPE_TEMPLATES))
def test_agentscope_template_shapes_load_and_mean_the_same(
        ollama_server: OllamaServer, model_type: str) -> None:
    config = dict(AGENTSCOPE_TEMPLATES[model_type])
    port = ollama_server.url.rsplit(":", 1)[1]
    wrapper = build({**config, "host": f"127.0.0.1:{port}"})
    if model_type == "ollama_embedding":
        wrapper(["hi"])
    else:
        wrapper("hi")
    body = ollama_server.last.json
    assert body["model"] == config["model_name"]
    assert body["options"] == {"temperature": 0.7} and body["keep_alive"] == "5m"


def test_agentscope_test_configs_load() -> None:
    # tests/ollama_test.py of AgentScope v0.1.6: `options: None` for generate
    build({"config_name": "my_ollama_generate", "model_type": "ollama_generate",
           "model_name": "llama2", "options": None, "keep_alive": "5m"})
    chat = build({"config_name": "my_ollama_chat", "model_type": "ollama_chat",
                  "model_name": "llama2", "options": {"temperature": 0.5},
                  "keep_alive": "5m"})
    assert chat.config.base_url is None  # type: ignore[attr-defined]


def test_agentscope_client_kwargs(ollama_server: OllamaServer) -> None:
    # AgentScope passes **kwargs to ollama.Client: timeout, headers, verify, ...
    wrapper = build({"config_name": "c", "model_type": "ollama_chat", "model_name": "m",
                     "host": ollama_server.url, "timeout": 30, "verify": False,
                     "follow_redirects": False, "headers": {"X-Team": "a"}})
    assert wrapper.config.verify_ssl is False  # type: ignore[attr-defined]
    wrapper("x")
    assert ollama_server.last.headers["x-team"] == "a"


def test_the_example_files_load() -> None:
    reg = Registry()
    names = reg.init([ROOT / "configs" / "ollama.yaml", ROOT / "configs" / "agentscope" /
                      "ollama.json"])
    types = {reg.entry(n).config.model_type for n in names}
    assert types == {"ollama_chat", "ollama_generate", "ollama_embedding"}
    assert reg.entry("ollama_chat-qwen:0.5b").config.base_url == \
        "http://localhost:11434"  # type: ignore[attr-defined]
    for path in sorted(Path("/work/ref/agentscope-v0.1.6/examples/model_configs_template")
                       .glob("ollama_*.json")):  # AgentScope's own files, where present
        assert Registry().init(path)


@pytest.mark.parametrize(("given", "url"), [
    ("localhost", "http://localhost:11434"), ("localhost:8080", "http://localhost:8080"),
    (":9000", "http://127.0.0.1:9000"), ("10.0.0.2:11434/", "http://10.0.0.2:11434"),
    ("[::1]:7000", "http://[::1]:7000"), ("http://box", "http://box"),
    ("https://ollama.com/", "https://ollama.com"), ("box:5/path", "http://box:5/path")])
def test_host_read_as_the_ollama_client_reads_it(given: str, url: str) -> None:
    assert host_url(given) == url


# -- address and key -------------------------------------------------------------------------
def test_ollama_host_is_the_default_address(ollama_server: OllamaServer,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama_server.url.removeprefix("http://"))
    wrapper = build({"config_name": "c", "model_type": "ollama_chat", "model_name": "m"})
    assert wrapper("x").text == "echo: x"  # type: ignore[union-attr]
    monkeypatch.delenv("OLLAMA_HOST")
    assert build({"config_name": "c", "model_type": "ollama_chat",
                  "model_name": "m"}).host == "http://127.0.0.1:11434"  # type: ignore[attr-defined]


def test_config_key_sent_as_bearer(ollama_server: OllamaServer,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", "env-key-must-not-be-used")
    build({"config_name": "c", "model_type": "ollama_chat", "model_name": "m",
           "base_url": ollama_server.url, "api_key": "sk-config-key"})("x")
    assert ollama_server.last.headers["authorization"] == "Bearer sk-config-key"


@pytest.mark.parametrize("model_type", ["ollama_chat", "ollama_generate", "ollama_embedding"])
def test_env_key_never_sent_to_another_host(ollama_server: OllamaServer, model_type: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # The ollama client adds OLLAMA_API_KEY to every request of its own accord.
    monkeypatch.setenv("OLLAMA_API_KEY", "env-key-for-ollama-com")
    monkeypatch.setenv("OLLAMA_HOST", ollama_server.url)
    for config in ({"base_url": ollama_server.url}, {}):  # given, or from OLLAMA_HOST
        wrapper = build({"config_name": "c", "model_type": model_type, "model_name": "m",
                         **config})
        wrapper(["x"] if model_type == "ollama_embedding" else "x")
        assert "authorization" not in ollama_server.last.headers
    stream = build({"config_name": "c", "model_type": "ollama_chat", "model_name": "m"})
    list(stream("x", stream=True))  # type: ignore[call-overload]
    assert "authorization" not in ollama_server.last.headers


async def test_env_key_never_sent_async(ollama_server: OllamaServer,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper = build({"config_name": "c", "model_type": "ollama_chat", "model_name": "m",
                     "base_url": ollama_server.url})
    # set after the wrapper was built, before its async client is
    monkeypatch.setenv("OLLAMA_API_KEY", "env-key-for-ollama-com")
    await wrapper.acall("x")
    assert "authorization" not in ollama_server.last.headers
    stream = await wrapper.acall("x", stream=True)
    await stream.aconsume()
    assert "authorization" not in ollama_server.last.headers


def test_env_key_goes_to_ollama_com_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", "env-key")
    cloud = build({"config_name": "c", "model_type": "ollama_chat", "model_name": "m",
                   "base_url": "https://ollama.com"})
    assert cloud.api_key(cloud.host) == "env-key"  # type: ignore[attr-defined]
    assert cloud.client._client.headers["authorization"] == "Bearer env-key"  # type: ignore[attr-defined]
    for host in ("http://ollama.com", "https://ollama.com.evil.test", "https://x.ollama.com",
                 "https://ollama.com:8443", "http://127.0.0.1:11434"):
        assert cloud.api_key(host) is None  # type: ignore[attr-defined]


def test_a_user_authorization_header_is_kept(ollama_server: OllamaServer,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", "env-key")
    build({"config_name": "c", "model_type": "ollama_chat", "model_name": "m",
           "base_url": ollama_server.url, "headers": {"Authorization": "Basic dXNlcjpwdw=="}})("x")
    assert ollama_server.last.headers["authorization"] == "Basic dXNlcjpwdw=="


def test_key_never_shown(ollama_server: OllamaServer) -> None:
    key = "sk-ollama-canary-5f3e9a"
    wrapper = build({"config_name": "c", "model_type": "ollama_chat", "model_name": "m",
                     "base_url": ollama_server.url, "api_key": key, "max_retries": 0})
    assert key not in repr(wrapper) and key not in repr(wrapper.config)
    assert key not in json.dumps(wrapper.config.model_dump(mode="json"))
    ollama_server.enqueue(error_reply(401, f"invalid key {key}"),
                          error_reply(400, f"bad: {key[:12]}"))
    for _ in range(2):
        with pytest.raises(errors.ModelAPIError) as info:
            wrapper("x")
        shown = f"{info.value} {info.value.body!r} {info.value.args!r}"
        assert key[:8] not in shown


def test_a_url_password_goes_on_the_wire_only(ollama_server: OllamaServer) -> None:
    url = ollama_server.url.replace("http://", "http://user:s3cret-pw@")
    wrapper = build({"config_name": "c", "model_type": "ollama_chat", "model_name": "m",
                     "base_url": url, "max_retries": 0})
    assert "s3cret" not in str(wrapper.config.base_url)  # type: ignore[attr-defined]
    wrapper("x")
    assert ollama_server.last.headers["authorization"] == "Basic dXNlcjpzM2NyZXQtcHc="
    ollama_server.enqueue(error_reply(500, "s3cret-pw leaked"))
    with pytest.raises(errors.ServerError) as info:
        wrapper("x")
    assert "s3cret" not in str(info.value) and "s3cret" not in str(info.value.url)


# -- format() --------------------------------------------------------------------------------
def msg(name: str, content: Any, role: str, url: Any = None) -> SimpleNamespace:
    return SimpleNamespace(name=name, content=content, role=role, url=url)


INPUTS = [msg("system", "You are a helpful assistant", "system"),
          [msg("user", "What is the weather today?", "user"),
           msg("assistant", "It is sunny today", "assistant")]]


def chat_model() -> ModelWrapperBase:
    return build({"config_name": "c", "model_type": "ollama_chat", "model_name": "llama2"})


def test_format_matches_agentscope_formatter_test() -> None:
    # tests/formatter_test.py::test_ollama_chat, and CommonFormatter.format_chat
    model = chat_model()
    assert model.format(*INPUTS) == [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "## Conversation History\nuser: What is the weather "
                                    "today?\nassistant: It is sunny today"}]
    assert model.format(*INPUTS, multi_agent_mode=False) == [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "What is the weather today?"},
        {"role": "assistant", "content": "It is sunny today"}]
    with pytest.raises(TypeError):
        model.format(msg("system", "x", "system"), ["What is the weather today?"])


def test_format_with_tool_blocks_goes_on_the_wire(ollama_server: OllamaServer) -> None:
    model = build({"config_name": "c", "model_type": "ollama_chat", "model_name": "m",
                   "base_url": ollama_server.url})
    history = [msg("user", "Weather?", "user"),
               msg("assistant", [{"type": "text", "text": "Let's search"},
                                 {"type": "tool_use", "id": "t1", "name": "search",
                                  "input": {"query": "weather"}}], "assistant"),
               msg("system", [{"type": "tool_result", "id": "t1", "name": "search",
                               "output": "sunny"}], "system")]
    merged = model.format(*history)
    assert merged == [{"role": "user", "content": "## Conversation History\nuser: Weather?"
                                                  "\nassistant: Let's search"}]
    model(model.format(*history, multi_agent_mode=False))  # type: ignore[operator]
    assert ollama_server.last.json["messages"] == [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "Let's search", "tool_calls": [
            {"id": "t1", "function": {"index": 0, "name": "search",
                                      "arguments": {"query": "weather"}}}]},
        {"role": "tool", "content": "sunny", "tool_call_id": "t1", "tool_name": "search"}]


def test_format_carries_local_images_to_the_wire(ollama_server: OllamaServer,
                                                 tmp_path: Path) -> None:
    image = tmp_path / "abc.png"
    image.write_bytes(b"\x89PNG-data")
    model = build({"config_name": "c", "model_type": "ollama_chat", "model_name": "m",
                   "base_url": ollama_server.url})
    model(model.format(msg("user", "Describe it", "user", url=str(image))))  # type: ignore[operator]
    [sent] = ollama_server.last.json["messages"]
    assert sent["content"] == "## Conversation History\nuser: Describe it"
    assert sent["images"] == ["iVBORy1kYXRh"]


# -- the SDK ---------------------------------------------------------------------------------
def test_missing_client_names_the_extra() -> None:
    code = ("import sys; sys.modules['ollama'] = None\n"
            "import modelhub\n"
            "modelhub.init({'config_name': 'c', 'model_type': 'ollama_chat', 'model_name': 'm'})\n"
            "try:\n    modelhub.get('c')\n"
            "except modelhub.errors.MissingDependencyError as e:\n    print(e.extra, e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.startswith("ollama ") and "pip install 'modelhub[ollama]'" in out.stdout


def test_init_imports_no_sdk() -> None:
    code = ("import sys, modelhub\n"
            "modelhub.init([{'config_name': t, 'model_type': t, 'model_name': 'm'} for t in "
            "('ollama_chat', 'ollama_generate', 'ollama_embedding')])\n"
            "print([m for m in ('ollama', 'httpx') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env={**__import__("os").environ,
                                                    "MODELHUB_CACHE_DIR": ""})
    assert out.stdout.strip() == "[]"
