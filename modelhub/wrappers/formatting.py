"""Agent messages in the neutral message shape, AgentScope-style.

The neutral shape is what every chat wrapper receives in `ChatRequest.messages`, and
what each provider module converts to its own API. It is the OpenAI chat shape:

- a message is a dict with `role` (`system`, `user`, `assistant` or `tool`), `content`,
  and optionally `name`; an assistant message may carry `tool_calls` (`id`, `type`,
  `function: {name, arguments}` with arguments a JSON string) and a tool message
  `tool_call_id`;
- `content` is a str, or a list of parts: `{"type": "text", "text"}`,
  `{"type": "image_url", "image_url": {"url"}}` (an http(s) or `data:` URL),
  `{"type": "input_audio", "input_audio": {"data", "format"}}`, and
  `{"type": "video", "video": [urls]}` as DashScope's compatible mode takes it.

A message given to `format()` is a dict with `role` and `content`, or any object with
`role`, `content` and optionally `name` and `url` (AgentScope's `Msg`). Its content
may be a str or a list of AgentScope v0.1.6 content blocks (`text`, `image`, `audio`,
`video`, `tool_use`, `tool_result`) or of neutral parts. Lists of messages are
flattened; `None` is skipped; anything else is a TypeError. A list a provider's
`format()` returned, given back to that provider's wrapper, is sent as it is.

Three layouts, as AgentScope v0.1.6's formatters have them: `per_speaker` (one message
per speaker, each named, content as parts, tool use as `tool_calls` and `tool`
messages: its OpenAI formatter), `per_message` (its common chat mode) and
`merged_history` (its common multi-agent mode: the system prompt, then one user
message holding "## Conversation History").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelhub.wrappers.media import audio_part, image_url_part, part_for_url, video_part

__all__ = ["Message", "merged_history", "normalize_messages", "per_message", "per_speaker",
           "read_messages", "to_text"]


def to_text(content: Any) -> str:
    """Content as a string: str unchanged, text parts joined, anything else as JSON."""
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if isinstance(content, list) and all(isinstance(p, Mapping) and "type" in p
                                         for p in content):
        return "\n".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return json.dumps(content, ensure_ascii=False)


@dataclass(slots=True)
class Message:
    """One agent message, read: its text and media parts, and its tool traffic."""

    role: str
    name: str | None
    parts: list[dict[str, Any]] = field(default_factory=list)  # neutral content parts
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # neutral tool_calls
    tool_results: list[dict[str, Any]] = field(default_factory=list)  # `tool` messages
    plain: bool = False  # the content was a plain str

    @property
    def text(self) -> str | None:
        """The text of its text parts (None when it has none, as AgentScope has it)."""
        texts = [p["text"] for p in self.parts if p.get("type") == "text"]
        return "".join(texts) if texts else None

    def media(self) -> list[dict[str, Any]]:
        """Its parts that are not text."""
        return [p for p in self.parts if p.get("type") != "text"]


def _fields(msg: Any) -> tuple[str, Any, str | None, Any]:
    """(role, content, name, url) of a dict or Msg-like object."""
    if isinstance(msg, Mapping):
        if "role" not in msg:
            raise TypeError(f"a message dict needs a 'role' key, got keys {sorted(msg)}")
        return msg["role"], msg.get("content"), msg.get("name"), msg.get("url")
    if hasattr(msg, "role") and hasattr(msg, "content"):
        return msg.role, msg.content, getattr(msg, "name", None), getattr(msg, "url", None)
    raise TypeError(
        f"expected a message (a dict with 'role' and 'content', or an object with "
        f"role/content attributes) or a list of them, got {type(msg).__name__}")


def _block(block: Mapping[str, Any], message: Message) -> None:
    """Read one content block (AgentScope's, or a neutral part) into `message`."""
    kind = block.get("type")
    if kind == "text":
        message.parts.append({"type": "text", "text": str(block.get("text", ""))})
    elif kind == "image":
        message.parts.append(image_url_part(str(block.get("url"))))
    elif kind == "audio":
        message.parts.append(audio_part(str(block.get("url"))))
    elif kind == "video":
        url = block.get("url")
        message.parts.append(video_part(list(url) if isinstance(url, list) else [str(url)]))
    elif kind == "tool_use":
        message.tool_calls.append({
            "id": block.get("id"), "type": "function",
            "function": {"name": block.get("name"),
                         "arguments": json.dumps(block.get("input", {}), ensure_ascii=False)}})
    elif kind == "tool_result":
        message.tool_results.append({"role": "tool", "tool_call_id": block.get("id"),
                                     "content": str(block.get("output")),
                                     "name": block.get("name")})
    elif kind in ("image_url", "input_audio", "video"):
        message.parts.append(dict(block))  # already a neutral part
    else:
        raise ValueError(f"a content block of type {kind!r} cannot be sent to a chat model "
                         "(text, image, audio, video, tool_use and tool_result can)")


def _read(msg: Any) -> Message:
    role, content, name, url = _fields(msg)
    message = Message(role=role, name=name)
    if isinstance(content, str):
        message.parts.append({"type": "text", "text": content})
        message.plain = True
    elif isinstance(content, list):
        for block in content:
            if not isinstance(block, Mapping):
                raise TypeError(f"a content block must be a dict, got {type(block).__name__}")
            _block(block, message)
    elif content is not None:
        message.parts.append({"type": "text", "text": to_text(content)})
        message.plain = True
    for u in [url] if isinstance(url, str) else list(url or []):
        message.parts.append(part_for_url(u))
        message.plain = False
    return message


def _flatten(args: tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    for arg in args:
        if arg is None:
            continue
        if isinstance(arg, (list, tuple)):
            out.extend(_flatten(tuple(arg)))
        else:
            _fields(arg)  # type check now, so the error names the bad item
            out.append(arg)
    return out


def read_messages(*args: Any) -> list[Message]:
    """Agent messages (dicts, Msg-like objects, lists of them; None skipped), read."""
    return [_read(m) for m in _flatten(args)]


def per_speaker(*args: Any) -> list[dict[str, Any]]:
    """One message per speaker, each with its `name` (the system prompt's too), its
    content as parts; tool use as `tool_calls`, tool results as `tool` messages."""
    out: list[dict[str, Any]] = []
    for message in read_messages(*args):
        out.extend(message.tool_results)
        entry: dict[str, Any] = {"role": message.role, "name": message.name,
                                 "content": message.parts or None}
        if message.tool_calls:
            entry["tool_calls"] = message.tool_calls
        if entry["content"] or message.tool_calls:
            out.append(entry)
    return out


def _content(message: Message) -> str | list[dict[str, Any]]:
    """A message's content: its text as a str, or its parts when it has media."""
    return message.parts if message.media() else (message.text or "")


def per_message(*args: Any, names: bool = True) -> list[dict[str, Any]]:
    """Each message as it is: role, name (when it has one), content (a str unless it
    carries media), tool calls and tool results. Dicts already in the neutral shape
    are kept whole (`tool_calls`, `tool_call_id` and all).

    With `names=False` no message carries a `name`, as AgentScope v0.1.6's common chat
    layout has it (for APIs that take no speaker names)."""
    out: list[dict[str, Any]] = []
    for msg in _flatten(args):
        if isinstance(msg, Mapping) and "url" not in msg and not _has_blocks(msg):
            out.append(dict(msg) if names else _unnamed(msg))
            continue
        message = _read(msg)
        out.extend(message.tool_results if names else map(_unnamed, message.tool_results))
        entry: dict[str, Any] = {"role": message.role}
        if message.name and names:
            entry["name"] = message.name
        entry["content"] = _content(message)
        if message.tool_calls:
            entry["tool_calls"] = message.tool_calls
        if entry["content"] or message.tool_calls or not message.tool_results:
            out.append(entry)
    return out


def _unnamed(msg: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in msg.items() if k != "name"}


def _has_blocks(msg: Mapping[str, Any]) -> bool:
    content = msg.get("content")
    return isinstance(content, list) and any(
        isinstance(b, Mapping) and b.get("type") in ("image", "audio", "tool_use",
                                                     "tool_result")
        for b in content)


def merged_history(*args: Any) -> list[dict[str, Any]]:
    """AgentScope's layout for many agents in one conversation: a leading system
    message kept, every other message's text merged into one user message under
    "## Conversation History" as "name: text" lines. Images and other media are carried
    as parts of that message (AgentScope drops them)."""
    messages = read_messages(*args)
    if not messages:
        raise ValueError("no messages to format")
    out: list[dict[str, Any]] = []
    dialogue: list[str] = []
    media: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if i == 0 and message.role == "system":
            out.append({"role": "system", "content": message.text or ""})
            continue
        if message.text is not None:
            dialogue.append(f"{message.name or message.role}: {message.text}")
        media += message.media()
    text = "\n".join(["## Conversation History", *dialogue]) if dialogue else ""
    out.append({"role": "user",
                "content": [{"type": "text", "text": text}, *media] if media else text})
    return out


def normalize_messages(messages: Any) -> list[dict[str, Any]]:
    """What a chat call accepts as its messages, as a list of neutral message dicts.

    A str is one user message; a dict or Msg-like object one message; a list may mix
    dicts and Msg-like objects.
    """
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    if isinstance(messages, list) and messages and all(
            type(m) is dict and "role" in m and "url" not in m and not _has_blocks(m)
            for m in messages):
        return messages
    if isinstance(messages, (list, tuple, Mapping)) or hasattr(messages, "role"):
        formatted = per_message(messages)
        if not formatted:
            raise ValueError("no messages to send")
        return formatted
    raise TypeError(
        f"messages must be a str, a message, or a list of messages; got "
        f"{type(messages).__name__}")
