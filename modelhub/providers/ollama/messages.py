"""Neutral messages as Ollama takes them: content a string, images a list of base64
strings beside it, tool calls with their arguments as an object, tool results named by
`tool_name`; and, for /api/generate, one prompt flattened from them as AgentScope's
Ollama generate wrapper flattened a conversation.

Ollama takes images as data only: a `data:` URL or a local file is sent, a web URL is
a ValueError naming it (never dropped).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from modelhub.wrappers.formatting import to_text

__all__ = ["image_data", "ollama_messages", "prompt_of"]

# Keys of a neutral message that need more than copying.
_SPECIAL = ("tool_calls", "tool_call_id", "images", "name")


def image_data(url: str) -> str:
    """The base64 data of an image given as a `data:` URL or a local file."""
    if not url.startswith("data:"):
        if url.startswith(("http://", "https://")):
            raise ValueError(f"image {url[:80]!r} is a web URL; Ollama takes images as "
                             "data: give a local file or a data: URL")
        from modelhub.wrappers.media import image_url_part

        url = image_url_part(url)["image_url"]["url"]  # a local file, read
    head, comma, data = url.partition(",")
    if not comma:
        raise ValueError("an image data: URL has no ',' before its data")
    if head.endswith(";base64"):
        return data
    from urllib.parse import unquote_to_bytes

    return base64.b64encode(unquote_to_bytes(data)).decode("ascii")


def _content(content: Any) -> tuple[str, list[str]]:
    """(text, images) of a neutral content: a str, or a list of parts."""
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        return to_text(content), []
    texts: list[str] = []
    images: list[str] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, Mapping) else image
            images.append(image_data(str(url)))
        else:
            raise ValueError(f"Ollama takes text and images in a message, not {kind!r} "
                             "content")
    return "\n".join(texts), images


def _tool_calls(calls: Any) -> list[dict[str, Any]]:
    from modelhub.wrappers.tools import parse_arguments

    out = []
    for index, call in enumerate(calls or ()):
        function = call.get("function") or {}
        name = str(function.get("name") or "")
        entry: dict[str, Any] = {"function": {
            "index": index, "name": name,
            "arguments": parse_arguments(function.get("arguments"), tool_name=name)}}
        if call.get("id"):
            entry["id"] = call["id"]
        out.append(entry)
    return out


def ollama_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages of an /api/chat request."""
    out: list[dict[str, Any]] = []
    tool_names: dict[str, str] = {}  # tool call id -> function name, for tool results
    for message in messages:
        content = message.get("content")
        if isinstance(content, str) and not any(k in message for k in _SPECIAL):
            out.append(message)  # the common case, sent as it is
            continue
        text, images = _content(content)
        entry = {k: v for k, v in message.items()
                 if k not in ("content", "name", "tool_calls", "images")}
        entry["content"] = text
        images = [*message.get("images", ()), *images]
        if images:
            entry["images"] = images
        if message.get("tool_calls"):
            entry["tool_calls"] = calls = _tool_calls(message["tool_calls"])
            tool_names.update((c["id"], c["function"]["name"]) for c in calls if "id" in c)
        if message.get("role") == "tool" and "tool_name" not in entry:
            name = message.get("name") or tool_names.get(str(message.get("tool_call_id")))
            if name:
                entry["tool_name"] = name
        out.append(entry)
    return out


def prompt_of(messages: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """(prompt, images) of an /api/generate request, from messages.

    As AgentScope's Ollama generate wrapper formats a conversation: a leading system
    message's text, a blank line, then "## Conversation History" and a "name: text"
    line per message. A lone user message is its text alone, so that `model("Hi")`
    sends "Hi", and a conversation already merged into one user message (what
    `format()` returns) is sent as that message's text.
    """
    system: str | None = None
    rest = messages
    if messages and messages[0].get("role") == "system":
        system, _ = _content(messages[0].get("content"))
        rest = messages[1:]
    images: list[str] = []
    lines: list[str] = []
    texts: list[str] = []
    for message in rest:
        if message.get("tool_calls") or message.get("role") == "tool":
            raise ValueError("ollama_generate takes no tool calls or tool results; use "
                             "ollama_chat for tools")
        text, found = _content(message.get("content"))
        images += [*message.get("images", ()), *found]
        texts.append(text)
        lines.append(f"{message.get('name') or message.get('role')}: {text}")
    if len(rest) == 1 and rest[0].get("role") == "user" and not rest[0].get("name"):
        body = texts[0]
    else:
        body = "\n".join(["## Conversation History", *lines]) if lines else ""
    if system is None:
        return body, images
    return (f"{system}\n\n{body}" if body else system), images
