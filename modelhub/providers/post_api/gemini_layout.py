"""The layouts AgentScope v0.1.6's Gemini formatter makes, which its POST wrapper uses
for a `gemini-...` model named in `json_args`: `{"role": "user" | "model", "parts":
...}`. Gemini's layout carries text only, so a message with an image or other media
is a ValueError here (AgentScope leaves the media out without a word)."""

from __future__ import annotations

from typing import Any

from modelhub.wrappers.formatting import Message, read_messages

__all__ = ["gemini_chat", "gemini_history"]

_ROLES = {"user": "user", "system": "user", "assistant": "model"}


def _text_only(message: Message) -> str | None:
    media = message.media()
    if media or message.tool_calls or message.tool_results:
        kinds = sorted({str(p.get("type")) for p in media}
                       | ({"tool_use"} if message.tool_calls else set())
                       | ({"tool_result"} if message.tool_results else set()))
        raise ValueError(f"Gemini's layout carries text only; a message from "
                         f"{message.name or message.role!r} holds {', '.join(kinds)}")
    return message.text


def gemini_chat(*args: Any) -> list[dict[str, Any]]:
    """Chat mode: each message as a `user` (user and system) or `model` turn."""
    out = []
    for message in read_messages(*args):
        role = _ROLES.get(message.role)
        if role is None:
            raise ValueError(f"Gemini's chat layout has no place for a {message.role!r} "
                             "message (user, system and assistant only)")
        out.append({"role": role, "parts": _text_only(message)})
    return out


def gemini_history(*args: Any) -> list[dict[str, Any]]:
    """Multi-agent mode: one user turn holding the system prompt, then
    "## Conversation History" and a "name: text" line per message."""
    messages = read_messages(*args)
    if not messages:
        raise ValueError("no messages to format")
    system: str | None = None
    dialogue = []
    for i, message in enumerate(messages):
        text = _text_only(message)
        if i == 0 and message.role == "system":
            system = text
        elif text is not None:
            dialogue.append(f"{message.name or message.role}: {text}")
    parts = []
    if system is not None:
        parts.append(system if system.endswith("\n") else system + "\n")
    if dialogue:
        parts += ["## Conversation History", *dialogue]
    return [{"role": "user", "parts": ["\n".join(parts)]}]
