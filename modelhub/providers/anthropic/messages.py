"""Requests in the Messages API's shape: neutral messages (and Anthropic's own blocks,
as `format()` returns them) into `system` and `messages`, OpenAI-style tools into
Anthropic tools, tool_choice, and structured output. Pure Python: the SDK is not
imported here.

- System messages before the first other message become the `system` parameter; a
  later one becomes a user message (the API has no system role in `messages`), as
  AgentScope's Anthropic formatter does.
- An assistant message's `tool_calls` become `tool_use` blocks, preceded by the thinking
  blocks the model sent with them (kept in `ToolCall.extra["thinking_blocks"]`, which
  the API needs back when thinking and tools are used together); `tool` messages
  become `tool_result` blocks of one user message.
- Images (`image_url` parts) become `image` blocks with a `base64` source (from a
  `data:` URL) or a `url` source. A block already in Anthropic's shape is sent as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from modelhub.wrappers.formatting import normalize_messages, to_text

__all__ = ["THINKING_KEY", "closed_schema", "image_block", "is_native", "output_config",
           "prepare", "to_anthropic", "tool_choice", "tools"]

# Where a tool call keeps the thinking blocks that must go back with it.
THINKING_KEY = "thinking_blocks"
# Neutral part types, and block types only Anthropic's shape has.
_NEUTRAL_PARTS = frozenset({"text", "image_url", "input_audio", "video", "video_url"})
_NATIVE_ONLY = frozenset({"thinking", "redacted_thinking", "document", "search_result",
                          "server_tool_use", "web_search_tool_result", "container_upload"})


# -- what a call may be given --------------------------------------------------------------
def _native_block(block: Any) -> bool:
    if not isinstance(block, Mapping):
        return False
    kind = block.get("type")
    return (kind in _NATIVE_ONLY or (kind == "image" and "source" in block)
            or (kind == "tool_result" and "tool_use_id" in block))


def is_native(message: Any) -> bool:
    """Whether a message dict holds a block only Anthropic's shape has (an image with a
    `source`, a `tool_result` with a `tool_use_id`, thinking, documents...)."""
    if not isinstance(message, Mapping):
        return False
    content = message.get("content")
    return isinstance(content, list) and any(_native_block(b) for b in content)


def prepare(messages: Any) -> list[dict[str, Any]]:
    """A call's messages as `to_anthropic` takes them: messages in Anthropic's shape kept
    as they are, every other one in the neutral shape."""
    if not (isinstance(messages, list) and any(is_native(m) for m in messages)):
        return normalize_messages(messages)
    out: list[dict[str, Any]] = []
    for message in messages:
        out.extend([dict(message)] if is_native(message) else normalize_messages([message]))
    return out


# -- content ---------------------------------------------------------------------------------
def image_block(url: str) -> dict[str, Any]:
    """An `image` block for an http(s) URL or a base64 `data:` URL."""
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if not sep or encoding != "base64":
            raise ValueError("an image data URL must be base64 (data:image/png;base64,...)")
        return {"type": "image",
                "source": {"type": "base64", "media_type": media_type or "image/png",
                           "data": data}}
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise ValueError(f"image {url[:80]!r} is neither an http(s) URL nor a data: URL")


def _block(part: Mapping[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "text": str(part.get("text", ""))}
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        return image_block(str(url))
    if kind in _NEUTRAL_PARTS:
        raise ValueError(f"Anthropic's Messages API cannot take {kind!r} content "
                         "(text, images and documents only)")
    return dict(part)  # already one of Anthropic's blocks


def _blocks(content: Any) -> list[dict[str, Any]]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, list):
        return [_block(p) for p in content if isinstance(p, Mapping)]
    return [{"type": "text", "text": to_text(content)}]


def _content(content: Any) -> str | list[dict[str, Any]]:
    """A message's content: a str as it is, parts as blocks."""
    return content if isinstance(content, str) else _blocks(content)


def _tool_use(call: Mapping[str, Any]) -> dict[str, Any]:
    fn = call.get("function") or {}
    arguments = fn.get("arguments")
    if isinstance(arguments, str):
        arguments = json.loads(arguments) if arguments.strip() else {}
    return {"type": "tool_use", "id": call.get("id"), "name": fn.get("name"),
            "input": dict(arguments or {})}


def _assistant(message: Mapping[str, Any]) -> dict[str, Any]:
    calls = message.get("tool_calls") or []
    if not calls:
        return {"role": "assistant", "content": _content(message.get("content") or "")}
    blocks: list[dict[str, Any]] = []
    for call in calls:
        extra = call.get("extra") or {}
        blocks += [dict(b) for b in extra.get(THINKING_KEY) or ()]
    blocks += _blocks(message.get("content"))
    blocks += [_tool_use(call) for call in calls]
    return {"role": "assistant", "content": blocks}


def _tool_result(message: Mapping[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    return {"type": "tool_result", "tool_use_id": message.get("tool_call_id"),
            "content": content if isinstance(content, str) else _blocks(content)}


def _system_text(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    blocks = _blocks(message.get("content"))
    if any(b.get("type") != "text" for b in blocks):
        raise ValueError("a system prompt holds text only (Anthropic's `system` parameter)")
    return blocks


def to_anthropic(messages: list[dict[str, Any]]
                 ) -> tuple[str | list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """(system, messages) for the Messages API."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    leading = True
    for message in messages:
        role = message.get("role")
        if role == "system" and leading:
            system += _system_text(message)
            continue
        leading = False
        if role == "tool":
            result = _tool_result(message)
            last = out[-1] if out else None
            if last is not None and last["role"] == "user" and isinstance(last["content"], list) \
                    and last["content"] and last["content"][-1].get("type") == "tool_result":
                last["content"].append(result)
            else:
                out.append({"role": "user", "content": [result]})
        elif role == "assistant":
            out.append(_assistant(message))
        elif role in ("user", "system"):
            out.append({"role": "user", "content": _content(message.get("content"))})
        else:
            raise ValueError(f"a message of role {role!r} cannot be sent to Anthropic "
                             "(system, user, assistant and tool can)")
    if not system:
        return None, out
    if len(system) == 1:
        return system[0]["text"], out
    return system, out


# -- tools and output ------------------------------------------------------------------------
def tools(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI-style function specs as Anthropic tools (`input_schema`)."""
    out = []
    for spec in specs:
        fn = spec["function"]
        tool: dict[str, Any] = {"name": fn["name"],
                                "input_schema": fn.get("parameters") or {"type": "object"}}
        if fn.get("description"):
            tool["description"] = fn["description"]
        out.append(tool)
    return out


def tool_choice(choice: str | dict[str, Any] | None, parallel: bool | None
                ) -> dict[str, Any] | None:
    """tool_choice in Anthropic's form (`auto`, `any`, `none`, or one `tool`);
    `parallel=False` asks for one tool call at most."""
    if isinstance(choice, dict):
        out: dict[str, Any] = dict(choice)  # Anthropic's own form, sent as it is
        if choice.get("type") == "function":
            out = {"type": "tool", "name": choice["function"]["name"]}
    elif choice is None:
        if parallel is None:
            return None
        out = {"type": "auto"}
    else:
        out = {"type": {"required": "any"}.get(choice, choice)}
    if parallel is False and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out


def output_config(schema: dict[str, Any]) -> dict[str, Any]:
    """The `output_config` of a structured-output request for this JSON schema."""
    return {"format": {"type": "json_schema", "schema": schema}}


def closed_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` with every object closed (`additionalProperties: false`), as
    structured outputs require: for an SDK too old to rewrite schemas itself."""
    from modelhub._json import map_dicts

    def close(node: dict[str, Any]) -> dict[str, Any]:
        if node.get("type") == "object" or "properties" in node:
            node["additionalProperties"] = False
        return node

    result: dict[str, Any] = map_dicts(schema, close)
    return result
