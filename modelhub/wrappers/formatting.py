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
`role`, `content` and optionally `name` and `url` attributes (AgentScope's `Msg`).
Lists of messages are flattened; `None` is skipped; anything else is a TypeError. A
list a provider's `format()` returned, given back to that provider's wrapper, is sent
as it is.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["format_messages", "image_url_part", "normalize_messages", "to_text"]

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")


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


def image_url_part(url: str) -> dict[str, Any]:
    """An `image_url` content part; a local file becomes a base64 data URL."""
    if url.startswith(("http://", "https://", "data:")):
        return {"type": "image_url", "image_url": {"url": url}}
    path = url[7:] if url.startswith("file://") else url
    if not os.path.isfile(path):
        raise ValueError(f"image {url!r} is neither a URL nor an existing file")
    mime = mimetypes.guess_type(path)[0] or "image/png"
    with open(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


def _is_image(url: str) -> bool:
    lowered = url.lower().split("?", 1)[0]
    return lowered.startswith("data:image/") or lowered.endswith(_IMAGE_SUFFIXES)


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


def _one_message(msg: Any) -> dict[str, Any]:
    if isinstance(msg, Mapping) and "url" not in msg:
        return dict(msg)  # already a chat message: keep every key (tool_calls, ...)
    role, content, name, url = _fields(msg)
    out: dict[str, Any] = {"role": role}
    if name:
        out["name"] = name
    urls = [url] if isinstance(url, str) else list(url or [])
    if not urls:
        out["content"] = content if isinstance(content, (str, list)) else to_text(content)
        return out
    parts: list[dict[str, Any]] = []
    if isinstance(content, list):
        parts.extend(content)
    elif content not in (None, ""):
        parts.append({"type": "text", "text": to_text(content)})
    for u in urls:
        if not _is_image(u):
            raise ValueError(
                f"message url {u!r} is not an image; only image urls can be sent "
                "as message attachments (pass other media as content parts)")
        parts.append(image_url_part(u))
    out["content"] = parts
    return out


def format_messages(*args: Any, multi_agent_mode: bool = False) -> list[dict[str, Any]]:
    """Agent messages as a chat message list.

    With `multi_agent_mode=True`, AgentScope's format for several agents in one
    conversation: a leading system message is kept, and every other message is merged
    into one user message under "## Conversation History", as "name: content" lines.
    """
    msgs = _flatten(args)
    if not multi_agent_mode:
        return [_one_message(m) for m in msgs]
    out: list[dict[str, Any]] = []
    dialogue: list[str] = []
    images: list[dict[str, Any]] = []
    for i, msg in enumerate(msgs):
        role, content, name, url = _fields(msg)
        if i == 0 and role == "system":
            out.append({"role": "system", "content": to_text(content)})
            continue
        dialogue.append(f"{name or role}: {to_text(content)}")
        for u in [url] if isinstance(url, str) else list(url or []):
            images.append(image_url_part(u))
    if dialogue:
        text = "\n".join(["## Conversation History", *dialogue])
        out.append({"role": "user",
                    "content": [{"type": "text", "text": text}, *images] if images else text})
    return out


def normalize_messages(messages: Any) -> list[dict[str, Any]]:
    """What a chat call accepts as its messages, as a list of message dicts.

    A str is one user message; a dict or Msg-like object one message; a list may mix
    dicts and Msg-like objects.
    """
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    if isinstance(messages, list) and messages and all(
            type(m) is dict and "role" in m and "url" not in m for m in messages):
        return messages
    if isinstance(messages, (list, tuple, Mapping)) or hasattr(messages, "role"):
        formatted = format_messages(messages)
        if not formatted:
            raise ValueError("no messages to send")
        return formatted
    raise TypeError(
        f"messages must be a str, a message, or a list of messages; got "
        f"{type(messages).__name__}")
