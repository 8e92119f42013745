"""The ReAct text format, for models that call tools through their text: what they
are told, the conversation written as a transcript, and their turn read back.

A turn is `Thought: ...` then either an action or `Final Answer: ...`; generation
stops at `Observation:` (the agent writes the observation itself). In one-model text
mode the action is the whole call (`Action: {"name": ..., "arguments": {...}}`, or
any form `modelhub.tools_text` reads); when a second config makes the calls, the
reasoning model names the tool only (`Action: add_numbers`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelhub.response import ToolCall
from modelhub.tools_text import ToolTextProtocol

__all__ = [
    "CALL_STOPS",
    "FINAL_ANSWER",
    "REACT_STOPS",
    "SPLIT_STOPS",
    "Turn",
    "answer_text",
    "call_step_messages",
    "final_answer_spec",
    "react_messages",
    "read_turn",
    "strip_labels",
]

DEFAULT_SYSTEM = "You are a helpful assistant. Use the tools when they help."
FINAL_ANSWER = "final_answer"
REACT_STOPS = ["Observation:"]
SPLIT_STOPS = ["Observation:", "Action Input:"]
CALL_STOPS: list[str] = []
OUT_OF_STEPS = ("You have used all your steps. Give your final answer now, from what you "
                "found so far.")

_FINAL = re.compile(r"Final Answer\s*:", re.I)
_ACTION_NAME = re.compile(r"Action\s*:\s*`?([A-Za-z0-9_-]+)")
_LABELS = re.compile(r"^\s*(?:Thought|Final Answer|Answer)\s*:\s*", re.I)


def final_answer_spec() -> dict[str, Any]:
    """The tool a call step may call to give the final answer instead of acting."""
    return {"type": "function", "function": {
        "name": FINAL_ANSWER, "description": "Give the final answer to the question.",
        "parameters": {"type": "object", "properties": {
            "answer": {"type": "string", "description": "The final answer."}},
            "required": ["answer"]}}}


def _describe(tools: Sequence[Mapping[str, Any]], with_parameters: bool) -> str:
    lines = []
    for spec in tools:
        function = spec["function"]
        line = f"- {function['name']}: {function.get('description') or ''}".rstrip(": ")
        if with_parameters:
            params = (function.get("parameters") or {}).get("properties") or {}
            line += f" Arguments: {json.dumps(params, ensure_ascii=False)}"
        lines.append(line)
    return "\n".join(lines)


def _instructions(tools: Sequence[Mapping[str, Any]], protocol: ToolTextProtocol,
                  names_only: bool) -> str:
    if names_only:
        action = "Action: the name of one tool"
        after = "Another step then makes the call, and you see its result as " \
                '"Observation: ...".'
    else:
        example = json.dumps(protocol.call_object("<tool name>", {"<argument>": "<value>"}))
        action = f"Action: {example}"
        after = 'Then stop: the result comes back as "Observation: ...".'
    return "\n".join([
        "You have these tools:", _describe(tools, not names_only), "",
        "Answer in this format:", "Thought: what to do next", action, after,
        "Repeat Thought and Action as needed. When you know the answer, write:",
        "Thought: I know the answer.", "Final Answer: the answer"])


def react_messages(system: str, history: Sequence[Mapping[str, Any]],
                   tools: Sequence[Mapping[str, Any]], protocol: ToolTextProtocol, *,
                   names_only: bool = False) -> list[dict[str, Any]]:
    """The messages of a text-mode turn: the system prompt with the tools and the
    format, and the conversation as a ReAct transcript (calls as `Action:` lines,
    results as `Observation:` messages)."""
    from modelhub.wrappers.formatting import to_text

    out = [{"role": "system",
            "content": f"{system}\n\n{_instructions(tools, protocol, names_only)}"}]
    for message in history:
        role, content = message.get("role"), to_text(message.get("content"))
        if role == "assistant" and message.get("tool_calls"):
            lines = [f"Thought: {content}"] if content else []
            for call in message["tool_calls"]:
                function = call.get("function", {})
                if names_only:
                    lines.append(f"Action: {function.get('name')}")
                else:
                    arguments = function.get("arguments") or "{}"
                    if isinstance(arguments, str):
                        arguments = json.loads(arguments)
                    lines.append("Action: " + json.dumps(
                        protocol.call_object(function.get("name", ""), arguments)))
            out.append({"role": "assistant", "content": "\n".join(lines)})
        elif role == "tool":
            text = f"Observation: {content}"
            if out[-1]["role"] == "user" and out[-1]["content"].startswith("Observation:"):
                out[-1] = {"role": "user", "content": f"{out[-1]['content']}\n{text}"}
            else:
                out.append({"role": "user", "content": text})
        else:
            out.append({"role": str(role), "content": content})
    return out


def call_step_messages(history: Sequence[Mapping[str, Any]], thought: str | None
                       ) -> list[dict[str, Any]]:
    """The messages of a call step: the conversation so far, then the thought that
    asks for the call."""
    system = ("Call the tool the last thought asks for, with its arguments taken from "
              "the conversation. If the question is answered, call final_answer.")
    step = f"Thought: {thought}\nMake the call." if thought else "Make the next call."
    return [{"role": "system", "content": system}, *(dict(m) for m in history),
            {"role": "user", "content": step}]


@dataclass(slots=True)
class Turn:
    """One reasoning turn as read: its thought, the calls it made (whole-call mode),
    the tool it named (names-only mode), its final answer, or what was wrong."""

    thought: str | None = None
    calls: list[ToolCall] = field(default_factory=list)
    tool_name: str | None = None
    answer: str | None = None
    error: str | None = None


def strip_labels(text: str | None) -> str:
    """Text without a leading `Thought:` / `Final Answer:` label."""
    return _LABELS.sub("", text or "", count=1).strip()


def answer_text(text: str | None) -> str:
    """The answer in a turn's text: after `Final Answer:` if it says so, without its
    labels, and cut before an `Action:` line a model wrote anyway."""
    text = text or ""
    final = _FINAL.search(text)
    if final:
        text = text[final.end():]
    return strip_labels(re.split(r"^\s*Action\s*:", text, maxsplit=1, flags=re.M)[0])


def read_turn(text: str | None, tools: Sequence[dict[str, Any]], protocol: ToolTextProtocol,
              *, names_only: bool = False) -> Turn:
    """A text-mode turn read back. Plain text with no ReAct label is the answer; in
    names-only mode it is a thought (only `Final Answer:` ends the run there: the call
    step decides what follows a thought, `final_answer` among its choices)."""
    text = (text or "").strip()
    final = _FINAL.search(text)
    head = text[:final.start()] if final else text
    if names_only:
        named = _ACTION_NAME.search(head)
        if named:
            return Turn(thought=_thought(head[:named.start()]), tool_name=named.group(1))
    else:
        rest, calls = protocol.parse(head, tools)
        if not calls and "Action" in head:  # a call naming a tool there is not
            rest, calls = protocol.parse(head, None)
        if calls:
            return Turn(thought=_thought(rest), calls=calls)
    if final:
        return Turn(thought=_thought(head), answer=text[final.end():].strip())
    if names_only:  # what follows a thought is the call step's to decide
        return Turn(thought=_thought(text))
    if re.search(r"^\s*(Thought|Action)\s*:", text, re.M):
        if "Action" in text:
            return Turn(thought=_thought(head), error=(
                "Your action could not be read. Write it as Action: followed by one JSON "
                "object with the tool's name and arguments, or write Final Answer: and "
                "the answer."))
        return Turn(thought=_thought(text), error=(
            "Write an Action to use a tool, or Final Answer: and the answer."))
    return Turn(answer=text)


def _thought(text: str | None) -> str | None:
    cleaned = strip_labels(re.sub(r"\s*Action\s*:?\s*\Z", "", text or ""))
    return cleaned or None
