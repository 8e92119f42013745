"""Tool calls as text, for models with no tool-calling API of their own (local models,
plain completion servers): provider-neutral, shared by every wrapper that needs it.

The model is told about the tools in its system prompt and asked to answer a call as a
JSON object, `{"name": ..., "arguments": {...}}` (or a list of them); the keys are
`name_key` and `arguments_key`, as smolagents' `tool_name_key` / `tool_arguments_key`
take them. Its answer is parsed back into `ToolCall`s. The parser also reads what chat
templates with tool support and small models write: calls inside `<tool_call>` tags or
```json fences, `parameters` for the arguments (Llama 3.1), the OpenAI
`{"type": "function", "function": {...}}` shape, `{"tool_calls": [...]}`, ReAct's
`Action: {json}` and `Action: name` + `Action Input: {json}` lines, Python literals
(`[{'name': 'add', 'arguments': {'a': 1}}]`, as xLAM-style adapters write) and
Python calls (`[add(a=1, b=2)]`, `Action: add(1, 2)`: positional arguments follow the
tool's parameters). An object whose name is not one of the tools offered is answer
text, not a call; the labels around a call (`Action:`) go with it.

    protocol = ToolTextProtocol(name_key="name", arguments_key="arguments")
    messages = protocol.render_messages(request.messages, request.tools)
    text, calls = protocol.parse(answer, request.tools)

A stream runs through `ToolTextFilter`: text streams as it comes until something that
may begin a call (`{`, `[`, `<tool_call>`, a ``` fence) appears; from there on it is
held back, and at the end it is either calls or released as text. `AnswerFilter` puts
it behind a `StopTrimmer`, for local backends that return their stop strings.
"""

from __future__ import annotations

import ast
import json
import re
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from modelhub.errors import ResponseParseError
from modelhub.response import ToolCall

__all__ = ["AnswerFilter", "ToolTextFilter", "ToolTextProtocol", "template_messages"]

ToolSpec = dict[str, Any]
# Where a call may begin in a streamed answer.
_TRIGGERS = ("{", "[", "<tool_call>", "```", "Action:")
_WRAPPERS = re.compile(r"</?tool_call>|```(?:json|JSON|python)?")
_ARGUMENT_ALIASES = ("arguments", "parameters")
_CLOSERS = {"{": "}", "[": "]", "(": ")"}
# The ReAct labels a call written after them takes along when it is cut out of the text.
_LABEL = re.compile(r"(?:Action:[ \t]*[\w.-]*[ \t]*\n?[ \t]*)?Action(?: Input)?:[ \t]*\Z")
_NAMED_INPUT = re.compile(r"Action:[ \t]*([\w.-]+)[ \t]*\n?[ \t]*Action Input:[ \t]*\Z")
# Parameter names of each tool, in order (for positional arguments of a Python call).
Params = Mapping[str, Sequence[str]]


def _text(content: Any) -> str:
    from modelhub.wrappers.formatting import to_text

    return to_text(content)


def _names(tools: Sequence[ToolSpec] | None) -> dict[str, list[str]] | None:
    """Each tool's name and its parameter names, in order."""
    if tools is None:
        return None
    return {t["function"]["name"]: list((t["function"].get("parameters") or {})
                                         .get("properties") or {})
            for t in tools}


def _balanced_end(text: str, begin: int) -> int | None:
    """The end of the bracketed span opening at `begin` (quotes respected), or None."""
    closing: list[str] = []
    quote = None
    i = begin
    while i < len(text):
        char = text[i]
        if quote is not None:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in _CLOSERS:
            closing.append(_CLOSERS[char])
        elif char in ")]}":
            if not closing or closing.pop() != char:
                return None
            if not closing:
                return i + 1
        i += 1
    return None


def _literal(snippet: str) -> Any:
    """A Python literal (single quotes, True, None), or ValueError."""
    try:
        return ast.literal_eval(snippet)
    except (SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise ValueError(str(exc)) from None


def _chosen(tools: Sequence[ToolSpec], tool_choice: str | Mapping[str, Any] | None
            ) -> list[ToolSpec]:
    """The tools a call may name under `tool_choice`."""
    if isinstance(tool_choice, Mapping):
        name = (tool_choice.get("function") or {}).get("name")
        return [t for t in tools if t["function"]["name"] == name]
    return list(tools)


def _call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def _arguments_dict(value: Any, name: str) -> dict[str, Any]:
    from modelhub.wrappers.tools import parse_arguments

    if value is None or isinstance(value, (str, Mapping)):
        return parse_arguments(value, tool_name=name)
    raise ResponseParseError(f"tool call {name!r}: arguments must be a JSON object, "
                             f"got {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class ToolTextProtocol:
    """How tool calls are written as text: the keys of a call's JSON object."""

    name_key: str = "name"
    arguments_key: str = "arguments"

    # -- what the model is told -------------------------------------------------------
    def call_object(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """One call as the model is asked to write it."""
        return {self.name_key: name, self.arguments_key: dict(arguments)}

    def instructions(self, tools: Sequence[ToolSpec],
                     tool_choice: str | Mapping[str, Any] | None = None) -> str:
        """The system-prompt text that describes the tools and how to call them."""
        described = [{"name": t["function"]["name"],
                      **({"description": t["function"]["description"]}
                         if t["function"].get("description") else {}),
                      "parameters": t["function"].get("parameters", {})}
                     for t in _chosen(tools, tool_choice)]
        example = json.dumps({self.name_key: "<tool name>",
                              self.arguments_key: {"<argument>": "<value>"}})
        lines = ["You can call these tools (their arguments as JSON schemas):",
                 json.dumps(described, ensure_ascii=False), "",
                 f"To call a tool, answer with only a JSON object: {example}. To call "
                 "several, answer with a JSON list of such objects."]
        if isinstance(tool_choice, Mapping):
            lines.append(f"You must call the tool {described[0]['name']}.")
        elif tool_choice == "required":
            lines.append("You must call a tool.")
        else:
            lines.append("If no tool is needed, answer in plain text.")
        return "\n".join(lines)

    def render_messages(self, messages: Sequence[Mapping[str, Any]],
                        tools: Sequence[ToolSpec] | None,
                        tool_choice: str | Mapping[str, Any] | None = None
                        ) -> list[dict[str, Any]]:
        """Neutral messages as plain text ones: the tool instructions appended to the
        system prompt (or a system message put first), earlier calls written as this
        protocol writes them, tool results as user messages naming their call."""
        names: dict[Any, Any] = {}
        out: list[dict[str, Any]] = []
        for message in messages:
            role, content = message.get("role"), _text(message.get("content"))
            if role == "assistant" and message.get("tool_calls"):
                calls = []
                for call in message["tool_calls"]:
                    function = call.get("function", {})
                    names[call.get("id")] = function.get("name")
                    calls.append(self.call_object(
                        function.get("name", ""),
                        _arguments_dict(function.get("arguments"), function.get("name", ""))))
                written = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
                out.append({"role": "assistant",
                            "content": f"{content}\n{written}" if content else written})
            elif role == "tool":
                call_id = message.get("tool_call_id")
                name = message.get("name") or names.get(call_id) or "the tool"
                out.append({"role": "user",
                            "content": f"Result of {name} (call {call_id}):\n{content}"})
            else:
                out.append({"role": str(role), "content": content})
        if tools and tool_choice != "none":
            text = self.instructions(tools, tool_choice)
            if out and out[0]["role"] == "system":
                out[0] = {"role": "system", "content": f"{out[0]['content']}\n\n{text}"}
            else:
                out.insert(0, {"role": "system", "content": text})
        return out

    def call_schema(self, tools: Sequence[ToolSpec],
                    tool_choice: str | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A JSON schema that exactly the calls allowed validate against, for decoding
        constrained to a call. Raises ValueError if two tools define one `$defs` name
        differently."""
        defs: dict[str, Any] = {}
        options = []
        for tool in _chosen(tools, tool_choice):
            function = tool["function"]
            params = dict(function.get("parameters") or {"type": "object"})
            for key, value in params.pop("$defs", {}).items():
                if defs.setdefault(key, value) != value:
                    raise ValueError(f"tools define $defs {key!r} differently")
            options.append({"type": "object",
                            "properties": {self.name_key: {"const": function["name"]},
                                           self.arguments_key: params},
                            "required": [self.name_key, self.arguments_key],
                            "additionalProperties": False})
        schema: dict[str, Any] = options[0] if len(options) == 1 else {"anyOf": options}
        return {**schema, "$defs": defs} if defs else schema

    # -- what the model answered -----------------------------------------------------------
    def calls_in(self, value: Any, names: Collection[str] | None) -> list[ToolCall]:
        """The calls a decoded JSON value holds: one object, or a list of them (all
        calls, or none is taken)."""
        if isinstance(value, dict) and isinstance(value.get("tool_calls"), list) \
                and self.name_key not in value:
            value = value["tool_calls"]
        items = value if isinstance(value, (list, tuple)) and value else [value]
        calls = []
        for item in items:
            if not isinstance(item, dict):
                return []
            if isinstance(item.get("function"), dict) and self.name_key not in item:
                item = item["function"]  # the OpenAI shape
            name = item.get(self.name_key)
            if not isinstance(name, str) or (names is not None and name not in names):
                return []
            key = next((k for k in (self.arguments_key, *_ARGUMENT_ALIASES) if k in item),
                       self.arguments_key)
            calls.append(ToolCall(id=_call_id(), name=name,
                                  arguments=_arguments_dict(item.get(key), name)))
        return calls

    def parse(self, text: str | None, tools: Sequence[ToolSpec] | None = None
              ) -> tuple[str | None, list[ToolCall]]:
        """(the answer's text outside its calls, the calls). With `tools`, only an
        object naming one of them is a call. Raises ResponseParseError for a call whose
        arguments are not an object."""
        if not text:
            return text, []
        tool_filter = ToolTextFilter(self, tools)
        shown = tool_filter.feed(text)
        rest, calls = tool_filter.finish()
        return (shown + rest if not calls else (shown + rest).strip() or None), calls

    def split(self, text: str, names: Params | Collection[str] | None
              ) -> tuple[str, list[ToolCall]]:
        """`text` with its calls (and the tags, fences and labels around them) taken
        out, and the calls, in order. `names` are the tools' names (with their
        parameter names, in order, for positional arguments); None takes any name."""
        params: Params = names if isinstance(names, Mapping) else {}
        named = re.compile(r"(?<![\w.])(?:" + "|".join(
            re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")[ \t]*\(") \
            if names else None
        kept: list[str] = []
        calls: list[ToolCall] = []
        start = position = 0
        while True:
            begin = self._next_start(text, position, named)
            if begin < 0:
                break
            found, end = self._calls_at(text, begin, names, params)
            if found:
                kept.append(_LABEL.sub("", text[start:begin]))
                calls += found
                start = end
            position = end
        kept.append(text[start:])
        if not calls:
            return text, []
        return _WRAPPERS.sub("", "".join(kept)), calls

    @staticmethod
    def _next_start(text: str, position: int, named: re.Pattern[str] | None) -> int:
        found = [i for i in (text.find("{", position), text.find("[", position)) if i >= 0]
        if named is not None and (match := named.search(text, position)):
            found.append(match.start())
        return min(found, default=-1)

    def _calls_at(self, text: str, begin: int, names: Collection[str] | None,
                  params: Params) -> tuple[list[ToolCall], int]:
        """The calls written at `begin`, and where reading goes on from."""
        if text[begin] not in "{[":  # a Python call: name(...)
            paren = text.index("(", begin)
            end = _balanced_end(text, paren)
            if end is None:
                return [], begin + 1
            return self._python_calls(text[begin:end], names, params) or [], end
        try:
            value, end = json.JSONDecoder().raw_decode(text, begin)
        except ValueError:
            closing = _balanced_end(text, begin)
            if closing is None:
                return [], begin + 1
            snippet, end = text[begin:closing], closing
            try:
                value = _literal(snippet)
            except ValueError:
                calls = self._python_calls(snippet, names, params) if names else None
                return (calls, end) if calls else ([], begin + 1)
        calls = self.calls_in(value, names)
        if not calls and isinstance(value, dict):  # Action: name / Action Input: {...}
            label = _NAMED_INPUT.search(text, max(0, begin - 200), begin)
            if label and (names is None or label.group(1) in names):
                calls = [ToolCall(id=_call_id(), name=label.group(1),
                                  arguments=_arguments_dict(value, label.group(1)))]
        return calls, end

    def _python_calls(self, snippet: str, names: Collection[str] | None,
                      params: Params) -> list[ToolCall] | None:
        """Calls written as Python: `name(a=1)`, or a list of such calls."""
        try:
            tree = ast.parse(snippet.strip(), mode="eval").body
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return None
        nodes = tree.elts if isinstance(tree, (ast.List, ast.Tuple)) else [tree]
        calls = []
        for node in nodes:
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) \
                    or (names is not None and node.func.id not in names):
                return None
            name = node.func.id
            order = list(params.get(name, ()))
            if len(node.args) > len(order) or any(k.arg is None for k in node.keywords):
                return None
            try:
                arguments = {order[i]: ast.literal_eval(a) for i, a in enumerate(node.args)}
                arguments.update({str(k.arg): ast.literal_eval(k.value) for k in node.keywords})
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                return None
            calls.append(ToolCall(id=_call_id(), name=name, arguments=arguments))
        return calls or None


class ToolTextFilter:
    """The deltas of a streamed answer, with what may be a tool call held back until
    the end. `feed` returns what may be shown now; `finish` the rest, and the calls."""

    __slots__ = ("_held", "_names", "_protocol", "_triggered", "_triggers")

    def __init__(self, protocol: ToolTextProtocol, tools: Sequence[ToolSpec] | None) -> None:
        self._protocol = protocol
        self._names = _names(tools)
        self._triggers = (*_TRIGGERS, *(f"{n}(" for n in self._names or ()))
        self._held = ""
        self._triggered = False

    def feed(self, delta: str) -> str:
        """The part of `delta` that cannot be part of a call."""
        if self._triggered:
            self._held += delta
            return ""
        text = self._held + delta
        hits = [i for i in (text.find(t) for t in self._triggers) if i >= 0]
        if hits:
            cut = min(hits)
            self._triggered, self._held = True, text[cut:]
            return text[:cut]
        keep = max((n for t in self._triggers for n in range(1, len(t))
                    if text.endswith(t[:n])), default=0)
        self._held = text[len(text) - keep:] if keep else ""
        return text[:len(text) - keep]

    def finish(self) -> tuple[str, list[ToolCall]]:
        """At the end: the held-back text that is not a call, and the calls."""
        held, self._held = self._held, ""
        if not self._triggered:
            return held, []
        return self._protocol.split(held, self._names)


class AnswerFilter:
    """What of a streamed answer may be shown as it comes: cut at the first stop string,
    and, when tools were offered, with what may be a call held back until the end."""

    __slots__ = ("_stops", "_tools")

    def __init__(self, stops: Sequence[str] | None, protocol: ToolTextProtocol,
                 tools: Sequence[ToolSpec] | None) -> None:
        from modelhub.wrappers.stops import StopTrimmer

        self._stops = StopTrimmer(stops) if stops else None
        self._tools = ToolTextFilter(protocol, tools) if tools else None

    def feed(self, delta: str) -> str:
        """The part of `delta` to show now."""
        if self._stops is not None:
            delta = self._stops.feed(delta)
        if self._tools is not None and delta:
            delta = self._tools.feed(delta)
        return delta

    def end(self) -> str:
        """At the end: what was held back and is answer text."""
        rest = self._stops.flush() if self._stops is not None else ""
        if self._tools is None:
            return rest
        shown = self._tools.feed(rest) if rest else ""
        held, calls = self._tools.finish()
        return shown + (held if not calls or held.strip() else "")


def template_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Neutral messages as Hugging Face chat templates with tool support take them:
    content as text, a call's arguments as a dict, a tool result naming its tool."""
    names: dict[Any, Any] = {}
    out: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {"role": message.get("role"),
                                "content": _text(message.get("content"))}
        if message.get("tool_calls"):
            item["tool_calls"] = []
            for call in message["tool_calls"]:
                function = call.get("function", {})
                name = function.get("name", "")
                names[call.get("id")] = name
                item["tool_calls"].append({
                    "id": call.get("id"), "type": "function",
                    "function": {"name": name,
                                 "arguments": _arguments_dict(function.get("arguments"), name)}})
        if message.get("role") == "tool":
            item["tool_call_id"] = message.get("tool_call_id")
            item["name"] = message.get("name") or names.get(message.get("tool_call_id"))
        if message.get("name") and "name" not in item:
            item["name"] = message["name"]
        out.append(item)
    return out
