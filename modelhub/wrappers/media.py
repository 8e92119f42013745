"""Attachments as neutral content parts: an image, audio or video given by URL or by a
local file (read and sent as a `data:` URL or base64), recognised by its extension as
AgentScope recognises it. What a chat API cannot take is refused, never dropped."""

from __future__ import annotations

import base64
import mimetypes
import os
from typing import Any, Literal

__all__ = ["IMAGE_SUFFIXES", "audio_part", "image_url_part", "media_kind", "part_for_url",
           "video_part"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")
AUDIO_SUFFIXES = (".mp3", ".wav", ".flac", ".ogg", ".m4a", ".aac", ".opus")
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".flv")

MediaKind = Literal["image", "audio", "video", "file"]


def _local(url: str) -> str | None:
    """The local path `url` names (a path, or a file:// URL), or None for a web URL."""
    if url.startswith(("http://", "https://", "data:")):
        return None
    return url[7:] if url.startswith("file://") else url


def media_kind(url: str) -> MediaKind:
    """What an attachment is, by its extension (or a data URL's type)."""
    lowered = url.lower().split("?", 1)[0]
    if lowered.startswith("data:"):
        kind = lowered[5:].split("/", 1)[0]
        return kind if kind in ("image", "audio", "video") else "file"  # type: ignore[return-value]
    for kind, suffixes in (("image", IMAGE_SUFFIXES), ("audio", AUDIO_SUFFIXES),
                           ("video", VIDEO_SUFFIXES)):
        if lowered.endswith(suffixes):
            return kind  # type: ignore[return-value]
    return "file"


def _read(path: str, url: str) -> bytes:
    if not os.path.isfile(path):
        raise ValueError(f"attachment {url!r} is neither a URL nor an existing file")
    with open(path, "rb") as f:
        return f.read()


def image_url_part(url: str) -> dict[str, Any]:
    """An `image_url` part; a local file becomes a base64 `data:` URL."""
    path = _local(url)
    if path is None:
        return {"type": "image_url", "image_url": {"url": url}}
    mime = mimetypes.guess_type(path)[0] or "image/png"
    data = base64.b64encode(_read(path, url)).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


def audio_part(url: str) -> dict[str, Any]:
    """An `input_audio` part from a local file (the audio is sent as base64)."""
    path = _local(url)
    if path is None:
        raise ValueError(f"audio {url!r} is a web URL; chat APIs take audio as data: give "
                         "a local file")
    fmt = os.path.splitext(path)[1].lstrip(".").lower() or "wav"
    data = base64.b64encode(_read(path, url)).decode("ascii")
    return {"type": "input_audio", "input_audio": {"data": data, "format": fmt}}


def video_part(urls: list[str]) -> dict[str, Any]:
    """A `video` part (DashScope's compatible-mode shape: a list of frame or file URLs)."""
    return {"type": "video", "video": list(urls)}


def part_for_url(url: str) -> dict[str, Any]:
    """The content part for an attachment; a file of no media kind is refused."""
    kind = media_kind(url)
    if kind == "image":
        return image_url_part(url)
    if kind == "audio":
        return audio_part(url)
    if kind == "video":
        return video_part([url])
    raise ValueError(f"attachment {url!r} is not an image, audio or video file; chat "
                     "models cannot take it as a part (put its text in the content)")
