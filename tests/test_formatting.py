"""format(): agent messages to chat messages, AgentScope-style."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from modelhub.wrappers.formatting import format_messages, normalize_messages


@dataclass
class Msg:
    name: str
    content: Any
    role: str
    url: str | list[str] | None = None


def test_messages_objects_and_dicts_and_nested_lists() -> None:
    out = format_messages(Msg("system", "Be brief.", "system"),
                          [Msg("alice", "Hi", "user"), None, {"role": "assistant", "content": "Yo"}])
    assert out == [{"role": "system", "name": "system", "content": "Be brief."},
                   {"role": "user", "name": "alice", "content": "Hi"},
                   {"role": "assistant", "content": "Yo"}]


def test_non_string_content_becomes_json_text() -> None:
    assert format_messages(Msg("bob", {"k": 1}, "user"))[0]["content"] == '{"k": 1}'


def test_image_urls_and_local_files_become_parts(tmp_path: Path) -> None:
    img = tmp_path / "cat.png"
    img.write_bytes(b"\x89PNG fake")
    out = format_messages(Msg("u", "look", "user", url=["https://x/y.jpg", str(img)]))
    parts = out[0]["content"]
    assert parts[0] == {"type": "text", "text": "look"}
    assert parts[1]["image_url"]["url"] == "https://x/y.jpg"
    data_url = parts[2]["image_url"]["url"]
    assert data_url.startswith("data:image/png;base64,")
    assert base64.b64decode(data_url.split(",", 1)[1]) == b"\x89PNG fake"


def test_non_image_url_is_refused_not_dropped() -> None:
    with pytest.raises(ValueError, match="not an image"):
        format_messages(Msg("u", "listen", "user", url="https://x/a.mp3"))


def test_multi_agent_mode_merges_history_after_the_system_prompt() -> None:
    out = format_messages(Msg("sys", "You are judge.", "system"),
                          Msg("alice", "I win", "assistant"), Msg("bob", "No, I do", "user"),
                          multi_agent_mode=True)
    assert out == [{"role": "system", "content": "You are judge."},
                   {"role": "user",
                    "content": "## Conversation History\nalice: I win\nbob: No, I do"}]


@pytest.mark.parametrize("bad", [42, "text", object(), [{"content": "no role"}]])
def test_format_rejects_what_is_not_a_message(bad: Any) -> None:
    with pytest.raises(TypeError):
        format_messages(bad)


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
