"""`format()` for Anthropic, as AgentScope v0.1.6's `AnthropicFormatter` lays agent
messages out (its `format_chat` and `format_multi_agent`).

Where we differ on purpose: an image's source is one the API takes (`{"type": "url"}`
for a web URL, `{"type": "base64"}` with bare base64 data for a local file, where
AgentScope sends the URL string and a data URL), and audio, video or a file is a
`ValueError` naming it, where AgentScope logs a warning and leaves it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelhub.providers.anthropic.messages import image_block
from modelhub.wrappers.formatting import flatten_messages, message_fields
from modelhub.wrappers.media import image_url_part, media_kind

__all__ = ["format_chat", "format_multi_agent"]


def _image(url: str) -> dict[str, Any]:
    return image_block(image_url_part(url)["image_url"]["url"])


def _blocks(content: Any, url: Any) -> list[dict[str, Any]]:
    """A message's content as AgentScope content blocks (a str is one text block; the
    older `url` argument adds a block per attachment)."""
    if isinstance(content, str):
        blocks: list[dict[str, Any]] = [{"type": "text", "text": content}]
    elif isinstance(content, list):
        blocks = [dict(b) for b in content if isinstance(b, Mapping)]
    elif content is None:
        blocks = []
    else:
        blocks = [{"type": "text", "text": str(content)}]
    for u in [url] if isinstance(url, str) else list(url or []):
        blocks.append({"type": media_kind(u), "url": u})
    return blocks


def _refused(block: Mapping[str, Any]) -> ValueError:
    return ValueError(f"a {block.get('type')!r} block cannot be sent to Anthropic's Messages "
                      "API (text, images, tool_use and tool_result can)")


def _chat_block(block: Mapping[str, Any]) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": block.get("text")}
    if kind == "image":
        return _image(str(block.get("url")))
    if kind == "tool_use":
        return dict(block)
    if kind == "tool_result":
        return {"type": "tool_result", "tool_use_id": block.get("id"),
                "content": block.get("output")}
    raise _refused(block)


def format_chat(*args: Any) -> list[dict[str, Any]]:
    """Each message as one message of content blocks; a system message after the first
    becomes a user message (the API allows a system prompt only first)."""
    out = []
    for index, msg in enumerate(flatten_messages(args)):
        role, content, _, url = message_fields(msg)
        out.append({"role": "user" if role == "system" and index else role,
                    "content": [_chat_block(b) for b in _blocks(content, url)]})
    return out


def format_multi_agent(*args: Any) -> list[dict[str, Any]]:
    """The system prompt (a leading system message's text), then one user message:
    "## Conversation History" and a "name: text" line per text block, tool use and
    results as `<tool_use>...</tool_use>` lines, images as blocks after the text."""
    msgs = flatten_messages(args)
    if not msgs:
        raise ValueError("At least one message should be provided. An empty message list "
                         "is not allowed.")
    dialogue: list[str] = []
    images: list[dict[str, Any]] = []
    system: str | None = None
    for index, msg in enumerate(msgs):
        role, content, name, url = message_fields(msg)
        blocks = _blocks(content, url)
        if index == 0 and role == "system":
            texts = [str(b.get("text")) for b in blocks if b.get("type") == "text"]
            system = "".join(texts) if texts else None
            continue
        for block in blocks:
            kind = block.get("type")
            if kind == "text":
                dialogue.append(f"{name if name is not None else role}: {block.get('text')}")
            elif kind in ("tool_use", "tool_result"):
                dialogue.append(f"<{kind}>{block}</{kind}>")
            elif kind == "image":
                images.append(_image(str(block.get("url"))))
            else:
                raise _refused(block)
    text = "\n".join(["## Conversation History", *dialogue]) if dialogue else ""
    out: list[dict[str, Any]] = [{"role": "user",
                                  "content": [{"type": "text", "text": text}, *images]}]
    if system is not None:
        out.insert(0, {"role": "system", "content": system})
    return out
