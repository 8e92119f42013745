"""format(): agent messages to chat messages, as AgentScope v0.1.6's formatters (and
its tests/formatter_test.py) expect, plus what we do differently on purpose."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modelhub.providers.openai.chat import OpenAIChatWrapper
from modelhub.wrappers.formatting import (
    merged_history,
    normalize_messages,
    per_message,
    per_speaker,
)


@dataclass
class Msg:
    """AgentScope's Msg: a str or a list of content blocks (v0.1.6), or a url (older)."""

    name: str
    content: Any
    role: str
    url: str | list[str] | None = None


INPUTS = [Msg("system", "You are a helpful assistant", "system"),
          [Msg("user", "What is the weather today?", "user"),
           Msg("assistant", "It is sunny today", "assistant")]]
WITH_TOOLS = [
    Msg("system", "You are a helpful assistant", "system"),
    [Msg("user", "What is the weather today?", "user"),
     Msg("assistant", [{"type": "text", "text": "Let's try bing search"},
                       {"type": "tool_use", "id": "xxx", "name": "bing_search",
                        "input": {"query": "Beijing weather"}}], "assistant"),
     Msg("system", [{"type": "tool_result", "id": "xxx", "name": "bing_search",
                     "output": "It is sunny today"}], "system")]]
HISTORY = [{"role": "system", "content": "You are a helpful assistant"},
           {"role": "user", "content": "## Conversation History\n"
                                       "user: What is the weather today?\n"
                                       "assistant: It is sunny today"}]


def wrapper(model_name: str) -> OpenAIChatWrapper:
    return OpenAIChatWrapper(config_name="x", model_name=model_name,
                             base_url="http://127.0.0.1:9/v1")


def test_an_openai_model_gets_one_named_message_per_speaker() -> None:
    expected = [
        {"role": "system", "name": "system",
         "content": [{"type": "text", "text": "You are a helpful assistant"}]},
        {"role": "user", "name": "user",
         "content": [{"type": "text", "text": "What is the weather today?"}]},
        {"role": "assistant", "name": "assistant",
         "content": [{"type": "text", "text": "It is sunny today"}]}]
    assert wrapper("gpt-4").format(*INPUTS) == expected
    assert wrapper("gpt-4").format(*INPUTS, multi_agent_mode=False) == expected


def test_tool_use_and_tool_result_blocks_become_openai_tool_messages() -> None:
    out = wrapper("gpt-4o").format(*WITH_TOOLS)
    assert out[2] == {"role": "assistant", "name": "assistant",
                      "content": [{"type": "text", "text": "Let's try bing search"}],
                      "tool_calls": [{"id": "xxx", "type": "function", "function": {
                          "name": "bing_search",
                          "arguments": '{"query": "Beijing weather"}'}}]}
    assert out[3] == {"role": "tool", "tool_call_id": "xxx", "content": "It is sunny today",
                      "name": "bing_search"}
    assert len(out) == 4  # the tool-result-only message itself is not kept


def test_another_model_behind_the_openai_api_gets_the_common_layouts() -> None:
    assert wrapper("glm-4").format(*INPUTS) == HISTORY
    assert merged_history(*INPUTS) == HISTORY
    # AgentScope's CommonFormatter.format_chat (tests/formatter_test.py): no speaker names
    assert wrapper("glm-4").format(*INPUTS, multi_agent_mode=False) == [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "What is the weather today?"},
        {"role": "assistant", "content": "It is sunny today"}]


def test_vision_urls_and_local_files_become_image_parts(tmp_path: Path) -> None:
    img = tmp_path / "abc.png"
    img.write_bytes(b"abcdef")
    out = wrapper("gpt-4o").format(Msg("user", "Describe the images", "user",
                                       url="https://fakeweb/test.jpg"),
                                   Msg("user", "And this image", "user", url=str(img)))
    assert out[0]["content"][1] == {"type": "image_url",
                                    "image_url": {"url": "https://fakeweb/test.jpg"}}
    assert out[1]["content"][1] == {"type": "image_url",
                                    "image_url": {"url": "data:image/png;base64,YWJjZGVm"}}
    assert base64.b64decode("YWJjZGVm") == b"abcdef"


def test_media_is_carried_in_merged_history_not_dropped(tmp_path: Path) -> None:
    out = merged_history(Msg("sys", "judge", "system"),
                         Msg("alice", "see", "user", url="https://x/a.jpg"))
    assert out[1]["content"] == [
        {"type": "text", "text": "## Conversation History\nalice: see"},
        {"type": "image_url", "image_url": {"url": "https://x/a.jpg"}}]


def test_audio_from_a_local_file_and_what_cannot_be_sent(tmp_path: Path) -> None:
    clip = tmp_path / "a.wav"
    clip.write_bytes(b"RIFF")
    [message] = per_message(Msg("u", "listen", "user", url=str(clip)))
    assert message["content"][1] == {"type": "input_audio",
                                     "input_audio": {"data": "UklGRg==", "format": "wav"}}
    with pytest.raises(ValueError, match="web URL"):
        per_message(Msg("u", "listen", "user", url="https://x/a.mp3"))
    with pytest.raises(ValueError, match="not an image, audio or video"):
        per_message(Msg("u", "read", "user", url="https://x/report.pdf"))
    with pytest.raises(ValueError, match="cannot be sent"):
        per_message(Msg("u", [{"type": "file", "url": "x.pdf"}], "user"))


def test_messages_objects_and_dicts_and_nested_lists() -> None:
    out = per_message(Msg("system", "Be brief.", "system"),
                      [Msg("alice", "Hi", "user"), None, {"role": "assistant", "content": "Yo"}])
    assert out == [{"role": "system", "name": "system", "content": "Be brief."},
                   {"role": "user", "name": "alice", "content": "Hi"},
                   {"role": "assistant", "content": "Yo"}]
    assert per_speaker({"role": "user", "content": "x"}) == [
        {"role": "user", "name": None, "content": [{"type": "text", "text": "x"}]}]


def test_non_string_content_becomes_json_text() -> None:
    assert per_message(Msg("bob", {"k": 1}, "user"))[0]["content"] == '{"k": 1}'


@pytest.mark.parametrize("bad", [42, "text", object(), [{"content": "no role"}],
                                 [Msg("a", "x", "user"), "What is the weather today?"]])
def test_format_rejects_what_is_not_a_message(bad: Any) -> None:
    with pytest.raises(TypeError):
        wrapper("gpt-4").format(bad)
    with pytest.raises(TypeError):
        wrapper("glm-4").format(bad)


def test_normalize_messages() -> None:
    assert normalize_messages("Hi") == [{"role": "user", "content": "Hi"}]
    msgs = [{"role": "user", "content": "x"}]
    assert normalize_messages(msgs) is msgs
    assert normalize_messages(Msg("a", "b", "user")) == [{"role": "user", "name": "a",
                                                          "content": "b"}]
    with pytest.raises(TypeError):
        normalize_messages(3.5)
    with pytest.raises(ValueError):
        normalize_messages([])


def test_flatten_messages_and_message_fields_are_public() -> None:
    from modelhub.wrappers.formatting import flatten_messages, message_fields

    a, b = Msg("a", "x", "user"), {"role": "assistant", "content": "y", "name": "b"}
    assert flatten_messages((a, None, [b, [a]])) == [a, b, a]
    assert message_fields(a) == ("user", "x", "a", None)
    assert message_fields(b) == ("assistant", "y", "b", None)
    with pytest.raises(TypeError, match="got str"):
        flatten_messages(([a, "loose text"],))


def test_per_message_without_names_is_agentscopes_common_chat_layout() -> None:
    # CommonFormatter.format_chat in AgentScope v0.1.6's formatter_test.py: role and
    # content only; tool traffic is kept (as tool_calls and tool messages), unnamed.
    assert per_message(*INPUTS, names=False) == [
        {"role": "system", "content": "You are a helpful assistant"},
        {"role": "user", "content": "What is the weather today?"},
        {"role": "assistant", "content": "It is sunny today"}]
    out = per_message(*WITH_TOOLS, {"role": "user", "name": "bob", "content": "hi"},
                      names=False)
    assert all("name" not in m for m in out)
    assert out[3] == {"role": "tool", "tool_call_id": "xxx", "content": "It is sunny today"}
    assert out[2]["tool_calls"][0]["function"]["name"] == "bing_search"
    assert out[-1] == {"role": "user", "content": "hi"}
    assert per_message(*INPUTS)[0]["name"] == "system"  # names kept by default
