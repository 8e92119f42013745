"""`format()` for Gemini, as AgentScope v0.1.6's `GeminiFormatter` lays messages out, in
Gemini's own message shape (`{"role": "user" | "model", "parts": ...}`):

- multi-agent mode: one user message whose first part is the system prompt (ending in
  a newline) followed by "## Conversation History" and a "name: text" line per
  message;
- chat mode: each message kept, `system` and `user` as `user`, `assistant` as
  `model`, its text as `parts`.

Where we differ on purpose: nothing is dropped. Images, audio and video travel as
parts (inline bytes for local files and `data:` URLs, `file_data` for web URLs);
in chat mode `tool_use` blocks become `function_call` parts and `tool_result` blocks a
user turn of `function_response` parts (the first call of a turn carrying the
placeholder thought signature Google documents for calls Gemini did not make). (In
multi-agent mode, as in AgentScope, the merged history holds only text: tool traffic
is not part of that layout.)
"""

from __future__ import annotations

from typing import Any

from modelhub.providers.gemini.messages import (
    content_part,
    function_call_part,
    function_response_part,
    sign_turn,
)
from modelhub.wrappers.formatting import Message, read_messages

__all__ = ["chat_turns", "merged_prompt"]

_ROLES = {"user": "user", "system": "user", "assistant": "model"}


def _media(message: Message) -> list[dict[str, Any]]:
    return [p for part in message.media() for p in content_part(part)]


def merged_prompt(*args: Any) -> list[dict[str, Any]]:
    """AgentScope's multi-agent layout: everything in one user message."""
    messages = read_messages(*args)
    if not messages:
        raise ValueError("At least one message should be provided: an empty message list "
                         "cannot be formatted")
    components: list[str] = []
    dialogue: list[str] = []
    media: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        media += _media(message)
        text = message.text
        if i == 0 and message.role == "system":
            if text is not None:
                components.append(text if text.endswith("\n") else text + "\n")
        elif text is not None:
            dialogue.append(f"{message.name or message.role}: {text}")
    if dialogue:
        components += ["## Conversation History", *dialogue]
    return [{"role": "user", "parts": ["\n".join(components), *media]}]


def chat_turns(*args: Any) -> list[dict[str, Any]]:
    """AgentScope's chat layout: one Gemini turn per message, tool traffic included."""
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for message in read_messages(*args):
        role = _ROLES.get(message.role)
        if role is None:
            raise ValueError(f"a message with role {message.role!r} cannot be formatted for "
                             "Gemini (user, system and assistant can)")
        if message.tool_results:
            out.append({"role": "user", "parts": [function_response_part(result, names)
                                                  for result in message.tool_results]})
        calls = sign_turn([function_call_part(call) for call in message.tool_calls])
        for call in message.tool_calls:
            names[str(call.get("id"))] = call["function"]["name"]
        media = _media(message)
        text = message.text
        if calls or media:
            parts: Any = ([text] if text else []) + media + calls
        elif message.tool_results and text is None:
            continue  # a message that only carried tool results
        else:
            parts = text
        out.append({"role": role, "parts": parts})
    return out
