"""Messages as DashScope takes them, and `format()` as AgentScope v0.1.6's
DashScopeFormatter writes them.

DashScope's content parts have no `type`: `{"text": ...}`, `{"image": url}`,
`{"audio": url}`, `{"video": url or [frame urls]}`. Neutral parts (`modelhub`'s OpenAI
shapes) are turned into these; parts already in DashScope's shape (what `format()`
returns) are sent as they are. Local files are named by path or `file://` URL and
uploaded before the call (see the multimodal wrapper).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeGuard

from modelhub.wrappers.formatting import flatten_messages, message_fields, to_text
from modelhub.wrappers.media import media_kind

__all__ = ["MEDIA_KEYS", "format_chat", "format_multi_agent", "generation_messages",
           "is_local", "multimodal_messages", "native_media", "upload_local_files"]

MEDIA_KEYS = ("image", "audio", "video")
_NATIVE_KEYS = ("text", *MEDIA_KEYS)
_REMOTE = ("http://", "https://", "oss://", "data:")


# -- neutral messages into DashScope's shapes ----------------------------------------------
def _native(part: Mapping[str, Any]) -> dict[str, Any]:
    """One content part in DashScope's shape."""
    kind = part.get("type")
    if kind is None:
        return dict(part)  # already DashScope's
    if kind == "text":
        return {"text": str(part.get("text", ""))}
    if kind == "image_url":
        image = part.get("image_url")
        return {"image": image.get("url") if isinstance(image, Mapping) else image}
    if kind == "input_audio":
        audio = part.get("input_audio") or {}
        return {"audio": f"data:audio/{audio.get('format') or 'wav'};base64,{audio.get('data')}"}
    if kind == "video":
        video = part.get("video")
        return {"video": list(video) if isinstance(video, (list, tuple)) else video}
    if kind == "video_url":
        video = part.get("video_url")
        return {"video": video.get("url") if isinstance(video, Mapping) else video}
    raise ValueError(f"a content part of type {kind!r} cannot be sent to DashScope "
                     "(text, image_url, input_audio, video and video_url can)")


def native_media(messages: list[dict[str, Any]]) -> set[str]:
    """The media kinds (`image`, `audio`, `video`) in parts already in DashScope's shape."""
    kinds: set[str] = set()
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if isinstance(part, Mapping) and "type" not in part:
                    kinds.update(k for k in MEDIA_KEYS if k in part)
    return kinds


def generation_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Neutral messages as Generation (text models) takes them: text parts joined into
    a string, DashScope-shaped text parts kept, no content as ""."""
    out = []
    for message in messages:
        content = message.get("content")
        if content is None or (isinstance(content, list) and any(
                isinstance(p, Mapping) and "type" in p for p in content)):
            message = {**message, "content": to_text(content)}
        out.append(message)
    return out


def multimodal_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Neutral messages as MultiModalConversation takes them: content as a list of
    DashScope parts (a tool result's content as text). Every part is a new dict, so
    uploading local files never changes the caller's messages."""
    out = []
    for message in messages:
        content = message.get("content")
        if message.get("role") == "tool":
            converted: Any = content if isinstance(content, str) else to_text(content)
        elif content is None:
            converted = []
        elif isinstance(content, str):
            converted = [{"text": content}]
        elif isinstance(content, list):
            converted = [_native(p) for p in content]
        else:
            raise TypeError(f"message content is {type(content).__name__}, not str or parts")
        out.append({**message, "content": converted})
    return out


def is_local(value: Any) -> TypeGuard[str]:
    """Whether a media value names a local file: a `file://` URL, or a path that exists."""
    if not isinstance(value, str):
        return False
    if value.startswith("file://"):
        return True
    return not value.startswith(_REMOTE) and os.path.isfile(os.path.expanduser(value))


def upload_local_files(messages: list[dict[str, Any]], upload: Callable[[str], str]) -> bool:
    """Replace each local file named in `messages` (DashScope-shaped, as
    `multimodal_messages` returns them) by what `upload` makes of it; True if any was.

    Media parts of every message are looked at; in user messages text parts too, as
    the SDK treats a user text that names a local file as a file to upload.
    """
    found = False
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        keys = _NATIVE_KEYS if message.get("role") == "user" else MEDIA_KEYS
        for part in content:
            for key in keys:
                value = part.get(key) if isinstance(part, dict) else None
                if isinstance(value, list) and any(is_local(v) for v in value):
                    part[key] = [upload(v) if is_local(v) else v for v in value]
                    found = True
                elif is_local(value):
                    part[key] = upload(value)
                    found = True
    return found


# -- format(): AgentScope v0.1.6's DashScopeFormatter ------------------------------------
def _blocks(content: Any, url: Any) -> Iterator[Mapping[str, Any]]:
    """A message's content as AgentScope content blocks (its `url` as media blocks)."""
    if isinstance(content, str):
        yield {"type": "text", "text": content}
    elif isinstance(content, list):
        for block in content:
            if not isinstance(block, Mapping):
                raise TypeError(f"a content block must be a dict, got {type(block).__name__}")
            yield block
    elif content is not None:
        yield {"type": "text", "text": to_text(content)}
    for u in [url] if isinstance(url, str) else list(url or []):
        yield {"type": media_kind(u), "url": u}


def _media(block: Mapping[str, Any], *, local_prefix: bool) -> dict[str, Any] | None:
    """A media block in DashScope's shape; None for text and tool blocks. With
    `local_prefix`, a path that exists gets `file://` (AgentScope's multi-agent mode)."""
    kind = block.get("type")
    if kind in MEDIA_KEYS:
        url = block.get("url")
        if local_prefix and isinstance(url, str) and os.path.exists(url):
            url = "file://" + url
        return {str(kind): url}
    if kind in ("image_url", "input_audio", "video_url"):
        return _native(block)
    if kind is None and any(k in block for k in MEDIA_KEYS):
        return dict(block)
    if kind in ("text", "tool_use", "tool_result") or (kind is None and "text" in block):
        return None
    raise ValueError(f"a content block of type {kind!r} cannot be sent to DashScope "
                     "(text, image, audio, video, tool_use and tool_result can); put a "
                     "document's text in the content")


def _text(blocks: list[Mapping[str, Any]]) -> str | None:
    texts = [str(b.get("text")) for b in blocks
             if b.get("type") == "text" or ("type" not in b and "text" in b)]
    return "".join(texts) if texts else None


def format_chat(*args: Any) -> list[dict[str, Any]]:
    """Chat mode: each message kept, content as DashScope parts, `tool_use` blocks as
    `tool_calls` and `tool_result` blocks as `tool` messages (before their message)."""
    out: list[dict[str, Any]] = []
    for msg in flatten_messages(args):
        role, content, _name, url = message_fields(msg)
        parts: list[dict[str, Any]] = []
        calls: list[dict[str, Any]] = []
        for block in _blocks(content, url):
            kind = block.get("type")
            if kind == "text" or (kind is None and "text" in block and len(block) == 1):
                parts.append({"text": block.get("text")})
            elif kind == "tool_use":
                calls.append({"id": block.get("id"), "type": "function",
                              "function": {"name": block.get("name"),
                                           "arguments": json.dumps(block.get("input", {}),
                                                                   ensure_ascii=False)}})
            elif kind == "tool_result":
                out.append({"role": "tool", "tool_call_id": block.get("id"),
                            "content": str(block.get("output")), "name": block.get("name")})
            else:
                media = _media(block, local_prefix=False)
                if media is not None:
                    parts.append(media)
        entry: dict[str, Any] = {"role": role, "content": parts or None}
        if calls:
            entry["tool_calls"] = calls
        if entry["content"] or calls:
            out.append(entry)
    return out


def format_multi_agent(*args: Any) -> list[dict[str, Any]]:
    """Multi-agent mode: a leading system prompt kept, every other message's text merged
    into one user message under "## Conversation History" as "name: text" lines, its
    images, audio and video before that text (local files as `file://`)."""
    out: list[dict[str, Any]] = []
    dialogue: list[str] = []
    media: list[dict[str, Any]] = []
    for i, msg in enumerate(flatten_messages(args)):
        role, content, name, url = message_fields(msg)
        blocks = list(_blocks(content, url))
        text = _text(blocks)
        found = [m for m in (_media(b, local_prefix=True) for b in blocks) if m is not None]
        if i == 0 and role == "system" and text:
            out.append({"role": "system", "content": [{"text": text}, *found]})
            continue
        if text:
            dialogue.append(f"{name or role}: {text}")
        media += found
    history = "## Conversation History\n" + "\n".join(dialogue)
    out.append({"role": "user", "content": [*media, {"text": history}]})
    return out
