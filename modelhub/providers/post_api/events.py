"""Reading a streamed chat answer's events by the config's paths, all of an event's
paths at once: what `PostStreamHandler` looks up in every event.

`EventPaths.find(event)` gives what each path finds on its own (`ResponsePath.find`),
by slot, None for nothing found. Its paths are read in one walk (`PathGroup`); where
they are the OpenAI chunk layout under a prefix (the paths a config that names none
gets around an OpenAI-shaped `response_path`, AgentScope's
`data.response.choices.0.message.content` among them), an event of plain dicts and
lists is read by that layout's own few lookups instead, and any other event by the
walk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelhub.providers.post_api.paths import MISSING, PathGroup, ResponsePath, openai_prefix

if TYPE_CHECKING:
    from modelhub.providers.post_api.chat import ChatPaths

__all__ = ["EventPaths"]

# The OpenAI chunk's paths under a prefix, in the order `EventPaths` holds them.
_LAYOUT = ("usage", "model", "choices.{n}.finish_reason", "choices.{n}.delta.tool_calls",
           "choices.{n}.delta.content", "choices.{n}.delta.reasoning_content",
           "choices.{n}.delta.reasoning")
# What an event without a part holds for it.
_NONE = (None,) * 6


def _layout_of(paths: list[ResponsePath],
               text: ResponsePath) -> tuple[tuple[tuple[str, int | None], ...], int] | None:
    """(the prefix's steps, the choice index) when `paths` are the OpenAI chunk layout
    (in `_LAYOUT`'s order) under the prefix of the text path `text`, else None."""
    shape = openai_prefix(text.text)
    if shape is None:
        return None
    prefix, n = shape
    expected = [prefix + p.format(n=n) for p in _LAYOUT]
    if [p.text for p in paths] != expected:
        return None
    steps = ResponsePath.parse(prefix[:-1]).fast if prefix else ()
    if prefix and not steps:  # a wildcard in the prefix: the walk only
        return None
    return steps, int(n)


class EventPaths:
    """The paths a stream event is read by: `find(event)` gives the six parts of an
    event, each what its path finds on its own, None where it finds nothing (or null,
    which every reader of a part takes as nothing too), or where the config has no
    such path: usage, model, finish reason, reasoning (of the reasoning paths, the
    first that finds a value other than null), tool-call fragments and the text
    delta."""

    __slots__ = ("find", "group", "layout", "slots")

    def __init__(self, paths: ChatPaths) -> None:
        present: list[ResponsePath] = []

        def slot(path: ResponsePath | None) -> int:
            if path is None:
                return -1  # reads the None put after what the group finds
            present.append(path)
            return len(present) - 1

        # The slots of the first five parts, then those of the reasoning paths.
        self.slots = (slot(paths.usage), slot(paths.model), slot(paths.finish_reason),
                      slot(paths.delta_tool_calls), slot(paths.delta),
                      *(slot(p) for p in paths.delta_reasoning))
        self.group = PathGroup(present)
        self.layout = _layout_of(present, paths.text)
        # `find(event)`: (usage, model, finish reason, reasoning, tool calls, delta) in
        # `event`, read by the layout's lookups where the paths are that layout.
        self.find = self._walk if self.layout is None else self._layout

    def _walk(self, event: Any) -> tuple[Any, Any, Any, Any, Any, Any]:
        found = self.group.find_all(event)
        found.append(None)
        usage, model, reason, calls, delta, *reasoning = (
            None if found[n] is MISSING else found[n] for n in self.slots)
        thought = next((r for r in reasoning if r is not None), None)
        return usage, model, reason, thought, calls, delta

    def _layout(self, event: Any) -> tuple[Any, Any, Any, Any, Any, Any]:
        """The layout's parts of an event, as its paths find them: read by the layout's
        own lookups where the event is plain dicts and lists on the way, else by the
        walk."""
        assert self.layout is not None
        steps, n = self.layout  # n >= 0: an index from a path without a sign
        chunk = event
        for step, index in steps:
            kind = type(chunk)
            if kind is dict:
                chunk = chunk.get(step)
            elif kind is list and index is not None:
                chunk = chunk[index] if -len(chunk) <= index < len(chunk) else None
            else:
                return self._walk(event)
        if type(chunk) is not dict:
            return _NONE if chunk is None else self._walk(event)
        choices = chunk.get("choices")
        if type(choices) is list:
            if n >= len(choices):  # not this one
                return chunk.get("usage"), chunk.get("model"), None, None, None, None
            choice = choices[n]
            if type(choice) is not dict:
                return self._walk(event)
        elif choices is None:
            return chunk.get("usage"), chunk.get("model"), None, None, None, None
        else:
            return self._walk(event)
        delta = choice.get("delta")
        if type(delta) is dict:
            thought = delta.get("reasoning_content")
            if thought is None:
                thought = delta.get("reasoning")
            return (chunk.get("usage"), chunk.get("model"), choice.get("finish_reason"),
                    thought, delta.get("tool_calls"), delta.get("content"))
        if delta is None:  # no step leads on from null
            return chunk.get("usage"), chunk.get("model"), choice.get("finish_reason"), \
                None, None, None
        return self._walk(event)
