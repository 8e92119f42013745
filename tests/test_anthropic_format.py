"""anthropic_chat's format(): agent messages laid out as AgentScope v0.1.6's
AnthropicFormatter lays them out (its tests/formatter_test.py ground truth), what we do
differently on purpose, and the formatted list sent back through the wrapper."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from pydantic import BaseModel

from modelhub.providers.anthropic.chat import AnthropicChatWrapper
from modelhub.providers.anthropic.messages import prepare, to_anthropic
from tests.test_formatting import INPUTS, WITH_TOOLS, Msg

# AgentScope's own inputs of its tests/formatter_test.py
INPUTS_WITH_TOOLS = [WITH_TOOLS[0], [
    *WITH_TOOLS[1],
    Msg("assistant", [{"type": "text", "text": "Now google search"},
                      {"type": "tool_use", "id": "xxx", "name": "google_search",
                       "input": {"query": "Beijing weather"}}], "assistant"),
    Msg("system", [{"type": "tool_result", "id": "xxx", "name": "google_search",
                    "output": "It is rainy today"}], "system")]]


def wrapper() -> AnthropicChatWrapper:
    return AnthropicChatWrapper(config_name="c", model_name="claude-3-5-sonnet-20241022",
                                api_key="k", base_url="http://127.0.0.1:9")


def test_chat_mode_with_tools_matches_agentscope() -> None:
    expected = [
        {"role": "system", "content": [{"type": "text", "text": "You are a helpful assistant"}]},
        {"role": "user", "content": [{"type": "text", "text": "What is the weather today?"}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Let's try bing search"},
            {"type": "tool_use", "id": "xxx", "name": "bing_search",
             "input": {"query": "Beijing weather"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "xxx",
                                      "content": "It is sunny today"}]},
        {"role": "assistant", "content": [
            {"type": "text", "text": "Now google search"},
            {"type": "tool_use", "id": "xxx", "name": "google_search",
             "input": {"query": "Beijing weather"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "xxx",
                                      "content": "It is rainy today"}]},
    ]
    assert wrapper().format(*INPUTS_WITH_TOOLS, multi_agent_mode=False) == expected


def test_multi_agent_mode_matches_agentscope() -> None:
    assert wrapper().format(*INPUTS) == [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": [{"type": "text", "text":
                                      "## Conversation History\n"
                                      "user: What is the weather today?\n"
                                      "assistant: It is sunny today"}]}]
    assert wrapper().format(INPUTS[1]) == [
        {"role": "user", "content": [{"type": "text", "text":
                                      "## Conversation History\n"
                                      "user: What is the weather today?\n"
                                      "assistant: It is sunny today"}]}]


def test_multi_agent_mode_writes_tool_blocks_as_agentscope_does() -> None:
    text = wrapper().format(*INPUTS_WITH_TOOLS[:1], INPUTS_WITH_TOOLS[1][:3])[1]["content"][0]["text"]
    assert text.splitlines()[2:] == [
        "assistant: Let's try bing search",
        "<tool_use>{'type': 'tool_use', 'id': 'xxx', 'name': 'bing_search', "
        "'input': {'query': 'Beijing weather'}}</tool_use>",
        "<tool_result>{'type': 'tool_result', 'id': 'xxx', 'name': 'bing_search', "
        "'output': 'It is sunny today'}</tool_result>"]


def test_images_are_valid_sources_and_audio_is_refused(tmp_path: Path) -> None:
    png = tmp_path / "abc.png"
    png.write_bytes(b"abcdef")
    vision = [Msg("system", "You are a helpful assistant", "system"),
              Msg("user", "Describe the images", "user", url="https://fakeweb/test.jpg"),
              Msg("user", "And this images", "user", url=[str(png)])]
    out = wrapper().format(*vision)
    assert out[1]["content"][1:] == [
        {"type": "image", "source": {"type": "url", "url": "https://fakeweb/test.jpg"}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                     "data": base64.b64encode(b"abcdef").decode()}}]
    chat = wrapper().format(*vision, multi_agent_mode=False)
    assert chat[2]["content"][0] == {"type": "text", "text": "And this images"}
    assert chat[2]["content"][1]["source"]["type"] == "base64"
    mp3 = tmp_path / "def.mp3"
    mp3.write_bytes(b"id3")
    with pytest.raises(ValueError, match="audio"):
        wrapper().format(Msg("user", "listen", "user", url=str(mp3)))
    with pytest.raises(TypeError):
        wrapper().format(42)
    with pytest.raises(ValueError):
        wrapper().format()


def test_formatted_lists_go_back_as_they_are() -> None:
    for multi in (True, False):
        formatted = wrapper().format(*INPUTS_WITH_TOOLS, multi_agent_mode=multi)
        system, messages = to_anthropic(prepare(formatted))
        assert system == "You are a helpful assistant"
        assert messages == formatted[1:]


def test_neutral_conversation_conversion() -> None:
    neutral = [
        {"role": "system", "content": "rules"},
        {"role": "system", "content": [{"type": "text", "text": "more rules"}]},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "f", "arguments": ""}}]},
        {"role": "tool", "tool_call_id": "t1", "content": [{"type": "text", "text": "ok"}]},
        {"role": "system", "content": "late note"},
    ]
    system, messages = to_anthropic(prepare(neutral))
    assert system == [{"type": "text", "text": "rules"}, {"type": "text", "text": "more rules"}]
    assert messages == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "f",
                                           "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                      "content": [{"type": "text", "text": "ok"}]}]},
        {"role": "user", "content": "late note"}]
    with pytest.raises(ValueError, match="role 'critic'"):
        to_anthropic([{"role": "critic", "content": "x"}])
    with pytest.raises(ValueError, match="text only"):
        to_anthropic([{"role": "system", "content": [
            {"type": "image_url", "image_url": {"url": "https://x/a.png"}}]}])


class Town(BaseModel):
    name: str


class City(BaseModel):
    name: str
    towns: list[Town] = []


def test_closed_schema_for_sdks_without_transform_schema() -> None:
    from modelhub.providers.anthropic.messages import closed_schema

    schema = City.model_json_schema()
    closed = closed_schema(schema)
    assert closed["additionalProperties"] is False
    assert closed["$defs"]["Town"]["additionalProperties"] is False
    assert "additionalProperties" not in schema  # the given schema is not changed
