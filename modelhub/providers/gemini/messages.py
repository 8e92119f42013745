"""Chat messages as Gemini takes them: a system instruction and `contents`.

Two input shapes are read, and may be mixed:

- the neutral shape (see `modelhub.wrappers.formatting`): leading `system` messages
  become the system instruction (a later one is sent as user text, where it stands);
  `assistant` turns become `model` turns, their `tool_calls` `function_call` parts
  (with the thought signature Gemini gave them, from `extra`); `tool` messages
  become `function_response` parts, consecutive ones in one turn as Gemini wants;
- Gemini's own (`{"role": "user" | "model", "parts": [...]}`, what `format()` returns),
  parts as strings or as the SDK's part dicts, sent as they are.

Media become parts: `data:` URLs and local files inline bytes, web and `gs://` URLs
`file_data` as the API takes them. What cannot be sent is a ValueError, never dropped.
A model turn whose function calls carry no thought signature (calls Gemini did not
make: another model's, or AgentScope's `tool_use` blocks) gets the placeholder
Google documents for such history on its first call, as Gemini 3 refuses a call
without one. Pure Python: the SDK validates the result.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["FOREIGN_SIGNATURE", "THOUGHT_SIGNATURE", "content_part", "function_call_part",
           "function_response_part", "media_part", "sign_turn", "signature_extra",
           "to_contents"]

# Where a tool call keeps its thought signature: in `ToolCall.extra`, and so under the
# neutral tool call's `extra` (as `ModelResponse.as_message()` writes it); `extra_content`,
# the key Gemini's OpenAI-compatible API uses, is read too.
THOUGHT_SIGNATURE = ("google", "thought_signature")
# The signature Google documents for function calls Gemini did not make itself; as
# bytes whose base64 (the SDK's URL-safe alphabet) is that very text on the wire.
FOREIGN_SIGNATURE = base64.urlsafe_b64decode("skip_thought_signature_validator")
_ROLES = {"user": "user", "assistant": "model", "model": "model"}
_AUDIO_TYPES = {"mp3": "audio/mp3", "wav": "audio/wav", "flac": "audio/flac",
                "ogg": "audio/ogg", "aac": "audio/aac", "aiff": "audio/aiff",
                "m4a": "audio/mp4", "opus": "audio/ogg", "pcm": "audio/pcm"}


def signature_extra(signature: bytes | None) -> dict[str, Any] | None:
    """`ToolCall.extra` for a thought signature (base64, as JSON carries it)."""
    if not signature:
        return None
    provider, key = THOUGHT_SIGNATURE
    return {provider: {key: base64.b64encode(signature).decode("ascii")}}


def _signature_of(call: Mapping[str, Any]) -> bytes | None:
    provider, key = THOUGHT_SIGNATURE
    extra = call.get("extra_content") or call.get("extra") or {}
    value = (extra.get(provider) or {}).get(key) if isinstance(extra, Mapping) else None
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a tool call's thought signature is not base64") from None


def _read_local(path: str, url: str) -> bytes:
    if not os.path.isfile(path):
        raise ValueError(f"attachment {url!r} is neither a URL nor an existing file")
    with open(path, "rb") as f:
        return f.read()


def media_part(url: str, default_type: str = "application/octet-stream") -> dict[str, Any]:
    """A Gemini part for a media URL: `data:` URLs and local files (a path, or
    `file://`) as inline bytes; http(s) and `gs://` URLs as `file_data`."""
    if url.startswith("data:"):
        head, comma, data = url[5:].partition(",")
        if not comma or not head.endswith(";base64"):
            raise ValueError("a data: URL must be base64 (data:<type>;base64,<data>)")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("a data: URL's data is not valid base64") from None
        return {"inline_data": {"mime_type": head[:-7] or default_type, "data": raw}}
    mime = mimetypes.guess_type(url.split("?", 1)[0])[0]
    if url.startswith(("http://", "https://", "gs://")):
        file_data = {"file_uri": url}
        if mime:
            file_data["mime_type"] = mime
        return {"file_data": file_data}
    path = url[7:] if url.startswith("file://") else url
    return {"inline_data": {"mime_type": mime or default_type, "data": _read_local(path, url)}}


def _url_of(value: Any) -> str:
    url = value.get("url") if isinstance(value, Mapping) else value
    if not isinstance(url, str) or not url:
        raise ValueError(f"a media part has no URL: {value!r}"[:200])
    return url


def content_part(part: Any) -> list[dict[str, Any]]:
    """Gemini parts for one neutral content part."""
    if isinstance(part, str):
        return [{"text": part}]
    if not isinstance(part, Mapping):
        raise TypeError(f"a content part must be a dict or a str, got {type(part).__name__}")
    kind = part.get("type")
    if kind == "text":
        return [{"text": str(part.get("text", ""))}]
    if kind == "image_url":
        return [media_part(_url_of(part.get("image_url")), "image/png")]
    if kind == "input_audio":
        audio = part.get("input_audio") or {}
        fmt = str(audio.get("format") or "wav").lower()
        try:
            raw = base64.b64decode(str(audio.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("input_audio data is not valid base64") from None
        return [{"inline_data": {"mime_type": _AUDIO_TYPES.get(fmt, f"audio/{fmt}"),
                                 "data": raw}}]
    if kind == "video":
        urls = part.get("video")
        return [media_part(_url_of(u), "video/mp4")
                for u in (urls if isinstance(urls, list) else [urls])]
    if kind == "video_url":
        return [media_part(_url_of(part.get("video_url")), "video/mp4")]
    if kind is None and part:  # already a Gemini part dict
        return [dict(part)]
    raise ValueError(f"a content part of type {kind!r} cannot be sent to Gemini (text, "
                     "image_url, input_audio, video and video_url can)")


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    if isinstance(content, list):
        return [p for part in content for p in content_part(part)]
    return [{"text": json.dumps(content, ensure_ascii=False)}]


def _own_parts(parts: Any) -> list[Any]:
    """Parts of a message already in Gemini's shape: strings become text parts; part
    dicts and the SDK's own objects pass as they are."""
    if parts is None:
        return []
    if isinstance(parts, (str, Mapping)) or not isinstance(parts, list):
        parts = [parts]
    return [{"text": p} if isinstance(p, str) else p for p in parts]


def function_call_part(call: Mapping[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("an assistant tool call has no function name")
    raw = function.get("arguments")
    try:
        args = raw if isinstance(raw, Mapping) else json.loads(raw) if raw else {}
    except ValueError:
        raise ValueError(f"tool call {name!r}: arguments are not JSON") from None
    if not isinstance(args, Mapping):
        raise ValueError(f"tool call {name!r}: arguments must be a JSON object")
    part: dict[str, Any] = {"function_call": {"name": name, "args": dict(args)}}
    if call.get("id"):
        part["function_call"]["id"] = str(call["id"])
    signature = _signature_of(call)
    if signature:
        part["thought_signature"] = signature
    return part


def sign_turn(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`parts` of a model turn, its first function call given the placeholder signature
    when none of its calls carries one (Gemini 3 checks the first call of each step)."""
    calls = [p for p in parts if "function_call" in p]
    if calls and not any(p.get("thought_signature") for p in calls):
        calls[0]["thought_signature"] = FOREIGN_SIGNATURE
    return parts


def function_response_part(msg: Mapping[str, Any],
                           names: Mapping[str, str]) -> dict[str, Any]:
    call_id = msg.get("tool_call_id")
    name = msg.get("name") or names.get(str(call_id))
    if not name:
        raise ValueError(f"a tool message (tool_call_id {call_id!r}) names no function, and "
                         "no earlier tool call has that id: Gemini needs the name")
    content = msg.get("content")
    if isinstance(content, list):
        from modelhub.wrappers.formatting import to_text

        content = to_text(content)
    response = content if isinstance(content, Mapping) else {"output": content}
    data: dict[str, Any] = {"name": name, "response": dict(response)}
    if call_id:
        data["id"] = str(call_id)
    return {"function_response": data}


def to_contents(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                          list[dict[str, Any]]]:
    """(system instruction parts, contents) for a list of messages in either shape."""
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool call id -> function name, for tool results
    leading = True
    for msg in messages:
        role = msg.get("role")
        if role in ("system", "developer") and leading:
            system.extend(_own_parts(msg["parts"]) if "parts" in msg
                          else _parts(msg.get("content")))
            continue
        leading = False
        if "parts" in msg:
            parts = _own_parts(msg["parts"])
            if parts:
                contents.append({"role": _ROLES.get(str(role), "user"), "parts": parts})
            continue
        if role in ("tool", "function"):
            part = function_response_part(msg, names)
            last = contents[-1] if contents else None
            if last is not None and last.get("_tool_results"):
                last["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part], "_tool_results": True})
            continue
        if role in ("system", "developer"):
            role = "user"
        if role not in _ROLES:
            raise ValueError(f"a message with role {role!r} cannot be sent to Gemini "
                             "(system, user, assistant and tool can)")
        parts = _parts(msg.get("content"))
        for call in msg.get("tool_calls") or ():
            parts.append(function_call_part(call))
            if call.get("id"):
                names[str(call["id"])] = call["function"]["name"]
        if msg.get("tool_calls"):
            sign_turn(parts)
        if parts:
            contents.append({"role": _ROLES[role], "parts": parts})
    for content in contents:
        content.pop("_tool_results", None)
    return system, contents
