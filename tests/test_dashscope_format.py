"""format() of the DashScope wrappers, as AgentScope v0.1.6's DashScopeFormatter (and
its tests/formatter_test.py) expects, plus what we do differently on purpose; and
AgentScope's DashScope config files loading unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modelhub.providers.dashscope.chat import DashScopeChatWrapper
from modelhub.providers.dashscope.multimodal import DashScopeMultiModalWrapper
from modelhub.registry import Registry
from tests.test_formatting import INPUTS, Msg
from tests.test_formatting import WITH_TOOLS as AS_WITH_TOOLS

ROOT = Path(__file__).resolve().parent.parent


WITH_TOOLS = [AS_WITH_TOOLS[0], [
    *AS_WITH_TOOLS[1],
    Msg("assistant", [{"type": "text", "text": "Now google search"},
                      {"type": "tool_use", "id": "xxx", "name": "google_search",
                       "input": {"query": "Beijing weather"}}], "assistant"),
    Msg("system", [{"type": "tool_result", "id": "xxx", "name": "google_search",
                    "output": "It is rainy today"}], "system")]]


def chat() -> DashScopeChatWrapper:
    return DashScopeChatWrapper(config_name="x", model_name="qwen-max", api_key="xxx")


def multimodal(name: str = "qwen-vl-plus") -> DashScopeMultiModalWrapper:
    return DashScopeMultiModalWrapper(config_name="x", model_name=name, api_key="xxx")


def test_chat_multi_agent_mode() -> None:
    assert chat().format(*INPUTS) == [
        {"role": "system", "content": [{"text": "You are a helpful assistant"}]},
        {"role": "user", "content": [{"text": "## Conversation History\n"
                                              "user: What is the weather today?\n"
                                              "assistant: It is sunny today"}]}]
    with pytest.raises(TypeError):
        chat().format(Msg("system", "x", "system"), ["What is the weather today?"])


def test_chat_mode_with_tools() -> None:
    call = {"id": "xxx", "type": "function",
            "function": {"name": "bing_search", "arguments": '{"query": "Beijing weather"}'}}
    assert chat().format(*WITH_TOOLS, multi_agent_mode=False) == [
        {"role": "system", "content": [{"text": "You are a helpful assistant"}]},
        {"role": "user", "content": [{"text": "What is the weather today?"}]},
        {"role": "assistant", "content": [{"text": "Let's try bing search"}],
         "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "xxx", "content": "It is sunny today",
         "name": "bing_search"},
        {"role": "assistant", "content": [{"text": "Now google search"}],
         "tool_calls": [{**call, "function": {**call["function"], "name": "google_search"}}]},
        {"role": "tool", "tool_call_id": "xxx", "content": "It is rainy today",
         "name": "google_search"}]


@pytest.mark.parametrize(("kind", "ext"), [("image", "png"), ("audio", "mp3")])
def test_multimodal_chat_mode(kind: str, ext: str) -> None:
    msgs = [Msg("system", [{"type": "text", "text": "You are a helpful assistant"},
                           {"type": kind, "url": f"url1.{ext}"}], "system"),
            [Msg("user", [{"type": "text", "text": "What is the weather today?"},
                          {"type": kind, "url": f"url2.{ext}"}], "user"),
             Msg("assistant", [{"type": "text", "text": "It is sunny today"},
                               {"type": kind, "url": f"url3.{ext}"}], "assistant")]]
    assert multimodal().format(*msgs, multi_agent_mode=False) == [
        {"role": "system", "content": [{"text": "You are a helpful assistant"},
                                       {kind: f"url1.{ext}"}]},
        {"role": "user", "content": [{"text": "What is the weather today?"},
                                     {kind: f"url2.{ext}"}]},
        {"role": "assistant", "content": [{"text": "It is sunny today"},
                                          {kind: f"url3.{ext}"}]}]


def test_multi_agent_media_before_history_local_files_as_file_urls(tmp_path: Path) -> None:
    local = tmp_path / "def.png"
    local.write_bytes(b"png")
    out = multimodal().format(
        Msg("system", "You are a helpful assistant", "system"),
        Msg("Bob", "Describe the images", "user", url="https://fakeweb/test.jpg"),
        Msg("Amy", "And this", "user", url=[str(local), "https://x/a.mp3"]))
    assert out == [
        {"role": "system", "content": [{"text": "You are a helpful assistant"}]},
        {"role": "user", "content": [
            {"image": "https://fakeweb/test.jpg"}, {"image": f"file://{local}"},
            {"audio": "https://x/a.mp3"},
            {"text": "## Conversation History\nBob: Describe the images\nAmy: And this"}]}]


def test_where_we_differ_on_purpose() -> None:
    # AgentScope drops video blocks and a leading system prompt's images; we carry them.
    out = multimodal().format(
        Msg("system", [{"type": "text", "text": "sys"}, {"type": "image", "url": "s.png"}],
            "system"),
        Msg("Bob", [{"type": "video", "url": "https://x/v.mp4"}], "user"))
    assert out == [{"role": "system", "content": [{"text": "sys"}, {"image": "s.png"}]},
                   {"role": "user", "content": [{"video": "https://x/v.mp4"},
                                                {"text": "## Conversation History\n"}]}]
    # what DashScope cannot take is an error naming it, not a message sent without it
    with pytest.raises(ValueError, match="'file'"):
        multimodal().format(Msg("Bob", "read this", "user", url="https://x/report.pdf"))


def test_formatted_messages_are_sent_as_they_are() -> None:
    formatted = multimodal().format(*INPUTS)
    from modelhub.wrappers.formatting import normalize_messages

    assert normalize_messages(formatted) is formatted


def test_agentscope_config_file_loads_and_means_the_same() -> None:
    path = ROOT / "configs" / "agentscope" / "dashscope.json"
    reg = Registry()
    names = reg.init(str(path))
    raw = {c["config_name"]: c for c in json.loads(path.read_text())}
    assert sorted(names) == sorted(raw)
    for name, given in raw.items():
        wrapper = reg.get(name)
        cfg = wrapper.config
        assert cfg.model_name == given["model_name"]
        assert cfg.api_key is not None and cfg.api_key.get_secret_value() == given["api_key"]
        assert cfg.generate_args == given.get("generate_args", {})
        assert getattr(cfg, "stream", False) == given.get("stream", False)
        assert wrapper.base_address == "https://dashscope.aliyuncs.com/api/v1"  # type: ignore[attr-defined]
    assert type(reg.get("tongyi_chat-qwen-turbo")) is DashScopeChatWrapper


@pytest.mark.parametrize("spelling", [{"base_url": "http://h/api/v1"},
                                      {"host": "http://h/api/v1"},
                                      {"api_url": "http://h/api/v1"},
                                      {"client_args": {"base_url": "http://h/api/v1"}}])
def test_base_url_spellings(spelling: dict[str, Any]) -> None:
    wrapper = DashScopeChatWrapper(config_name="q", model_name="qwen-max", **spelling)
    assert wrapper.base_address == "http://h/api/v1"


def test_client_args_other_than_base_url_are_refused() -> None:
    from modelhub.errors import ConfigError

    with pytest.raises(ConfigError, match="DashScope takes no client_args"):
        DashScopeChatWrapper(config_name="q", client_args={"organization": "o"})
