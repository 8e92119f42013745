"""post_api's response paths read together: a `PathGroup` finds what each of its paths
finds on its own, and a stream handler reading events through one finds what reading
each path in turn found."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from modelhub.errors import ModelhubError
from modelhub.http.errors import ErrorContext, optional_str
from modelhub.http.framing import Frame
from modelhub.providers.openai import wire
from modelhub.providers.post_api.chat import AnswerParts, ChatPaths, PostStreamHandler
from modelhub.providers.post_api.config import PostAPIChatConfig
from modelhub.providers.post_api.paths import MISSING, PathGroup, ResponsePath
from modelhub.wrappers.accumulator import StreamAccumulator

CONTEXT = ErrorContext(provider="post_api", config_name="p", url="http://127.0.0.1/llm",
                       secrets=(), timeout=None)
STEPS = ["a", "b", "0", "1", "-1", "*"]

paths_st = st.lists(st.lists(st.sampled_from(STEPS), min_size=1, max_size=4)
                    .map(".".join).map(ResponsePath.parse), min_size=1, max_size=6)
scalars = st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from(["", "x"])


def _containers(children: Any) -> Any:
    keyed = st.dictionaries(st.sampled_from(STEPS[:4]), children, max_size=3)
    return (keyed | st.lists(children, max_size=3)
            | keyed.map(OrderedDict) | keyed.map(MappingProxyType)
            | st.lists(children, max_size=3).map(tuple))


data_st = st.recursive(scalars, _containers, max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(paths=paths_st, data=data_st)
def test_a_group_finds_what_each_path_finds(paths: list[ResponsePath], data: Any) -> None:
    assert PathGroup(paths).find_all(data) == [path.find(data) for path in paths]


def test_a_group_shares_steps_and_falls_back_where_find_does() -> None:
    paths = [ResponsePath.parse(p) for p in
             ("data.choices.0.delta.content", "data.choices.0.finish_reason", "data.usage",
              "data.choices.*.index")]
    group = PathGroup(paths)
    event = {"data": {"choices": [{"index": 3, "delta": {"content": "hi"},
                                   "finish_reason": None}]}}
    assert group.find_all(event) == ["hi", None, MISSING, [3]]
    # Out of range: nothing found; another kind of mapping: each path walked on its own.
    assert group.find_all({"data": {"choices": []}}) == [MISSING, MISSING, MISSING, []]
    proxied = {"data": MappingProxyType({"usage": {"n": 1}, "choices": ({"index": 1},)})}
    assert group.find_all(proxied) == [MISSING, MISSING, {"n": 1}, MISSING]


# -- the stream handler against reading each path in turn ---------------------------------
def _found(path: ResponsePath | None, data: Any) -> Any:
    if path is None:
        return None
    found = path.find(data)
    return None if found is MISSING else found


def _reference_feed(paths: ChatPaths, acc: StreamAccumulator, frame: Frame) -> str | None:
    """How the handler read an event before its paths were read together: each path
    looked up on its own, every reader called."""
    event = json.loads(frame.data)
    if frame.event == "error" or (isinstance(event, Mapping) and event.get("error")):
        raise wire.stream_error(event, CONTEXT)
    acc.add_raw(event)
    acc.add_usage(wire.parse_usage(_found(paths.usage, event)))
    acc.set_model(optional_str(_found(paths.model, event), "model"))
    acc.set_finish_reason(optional_str(_found(paths.finish_reason, event), "the finish reason"))
    reasoning = next((found for found in (p.find(event) for p in paths.delta_reasoning)
                      if found is not MISSING and found is not None), None)
    acc.add_reasoning(wire.text_of(reasoning) or "")
    wire.add_tool_call_fragments(acc, _found(paths.delta_tool_calls, event))
    assert paths.delta is not None
    value = _found(paths.delta, event)
    if not (value is None or isinstance(value, (str, list))):
        raise ValueError("not text")
    text = wire.text_of(value)
    return acc.add_text(text) if text else None


def _outcome(feed: Any, acc: StreamAccumulator, frames: list[Frame]) -> Any:
    deltas = []
    try:
        for frame in frames:
            deltas.append(feed(frame))
        response = acc.response()
    except (ModelhubError, ValueError, TypeError, AttributeError, KeyError) as exc:
        return deltas, type(exc).__name__, str(exc).split(" (")[0]
    return deltas, response.text, response.reasoning, response.usage, response.model, \
        response.finish_reason, [(c.id, c.name, c.arguments) for c in response.tool_calls]


text_st = st.sampled_from([None, "", "a", "<think>r</think>b", "c"]) \
    | st.just([{"type": "text", "text": "p"}])
call_st = st.fixed_dictionaries({"index": st.sampled_from([0, 1]), "function": st.fixed_dictionaries(
    {"name": st.sampled_from(["f", "g"])}, optional={"arguments": st.just('{"a": 1}')})},
    optional={"id": st.sampled_from(["call_1", "", None])})
choice_st = st.fixed_dictionaries({}, optional={
    "delta": st.fixed_dictionaries({}, optional={
        "content": text_st, "reasoning_content": text_st, "reasoning": text_st,
        "tool_calls": st.none() | st.lists(call_st, max_size=2)}) | st.none(),
    "finish_reason": st.sampled_from([None, "stop", "length"])})
event_st = st.fixed_dictionaries({}, optional={
    "choices": st.lists(choice_st, max_size=2),
    "model": st.sampled_from([None, "m", ""]),
    "usage": st.none() | st.just({"prompt_tokens": 1, "completion_tokens": 2})})
# A value of the wrong kind, put into one event: (where, what).
corrupt_st = st.none() | st.sampled_from([
    (("choices", 0, "delta", "content"), 3), (("choices", 0, "delta", "reasoning"), 3),
    (("choices", 0, "finish_reason"), 1), (("model",), 2), (("usage",), "many"),
    (("choices", 0, "delta", "tool_calls"), "call"), (("choices", 0, "delta"), "d"),
    (("choices", 0), None), (("choices",), {"0": {}})])


def _corrupt(events: list[dict[str, Any]], where: tuple[Any, ...], what: Any) -> None:
    target: Any = events[len(events) // 2]
    for step in where[:-1]:
        if isinstance(target, dict):
            target = target.setdefault(step, [{}] if step == "choices" else {})
        elif isinstance(target, list):
            if not target:
                target.append({})
            target = target[step]
        else:
            return
    if isinstance(target, dict) or (isinstance(target, list) and target):
        target[where[-1]] = what


# How the first event is wrapped where events are wrapped in `data.response`: as it
# should be, or not quite.
WRAPS: list[Callable[[Any], Any]] = [lambda e: {"data": {"response": e}}, lambda e: {"data": [{"response": e}]},
         lambda e: {"data": {"response": [e]}}, lambda e: {"data": {"response": "x"}},
         lambda e: {"data": None}, lambda e: {"data": {}}, lambda e: [e], lambda e: e]


@settings(max_examples=400, deadline=None)
@given(events=st.lists(event_st, min_size=1, max_size=6), corrupt=corrupt_st,
       prefix=st.sampled_from(["", "data.response.", "out.-1."]), custom=st.booleans(),
       wrap=st.sampled_from(WRAPS))
def test_the_stream_handler_reads_as_each_path_in_turn_did(
        events: list[dict[str, Any]], corrupt: tuple[tuple[Any, ...], Any] | None,
        prefix: str, custom: bool, wrap: Callable[[Any], Any]) -> None:
    if corrupt is not None:
        _corrupt(events, *corrupt)
    extra: dict[str, Any] = {"usage_path": "usage", "finish_reason_path":
                             f"{prefix}choices.1.finish_reason"} if custom else {}
    cfg = PostAPIChatConfig.model_validate({
        "config_name": "p", "model_type": "post_api_chat", "api_url": "http://127.0.0.1/llm",
        "response_path": f"{prefix}choices.0.message.content", **extra})
    paths = ChatPaths.of(cfg)
    if prefix == "out.-1.":
        bodies: list[Any] = [{"out": [{}, e]} for e in events]
        bodies[0] = {"out": [events[0]] if custom else []}
    elif prefix:
        bodies = [WRAPS[0](e) for e in events]
        bodies[0] = wrap(events[0])
    else:
        bodies = events
    frames = [Frame(None, json.dumps(body)) for body in bodies]
    handler = PostStreamHandler(paths, CONTEXT, "[DONE]")
    reference = StreamAccumulator(CONTEXT, usage_mode="last")
    ours = _outcome(handler.feed, handler.accumulator, frames)
    theirs = _outcome(lambda f: _reference_feed(paths, reference, f), reference, frames)
    if isinstance(theirs[1], str) and theirs[1] == "ValueError" and len(theirs) == 3:
        # text that is not text: the handler's own ResponseParseError
        assert ours[:1] == theirs[:1] and ours[1] == "ResponseParseError"
    else:
        assert ours == theirs


# -- an answer's parts read together, against each path in turn -----------------------------
answer_paths_st = st.fixed_dictionaries({}, optional={
    "tool_calls_path": st.sampled_from(["a.b", "a.*.b", "b"]),
    "finish_reason_path": st.sampled_from(["a.0", "b.a", "0"]),
    "usage_path": st.sampled_from(["b", "a.b.1", "a.-1"]),
    "reasoning_path": st.sampled_from(["a", "b.*", "a.b"])})


@settings(max_examples=400, deadline=None)
@given(given_paths=answer_paths_st, data=data_st,
       text=st.sampled_from(["a.b", "a.0.b", "choices.0.message.content",
                             "a.choices.1.message.content", "*.a"]))
def test_an_answers_parts_are_what_each_path_finds(given_paths: dict[str, str], data: Any,
                                                   text: str) -> None:
    cfg = PostAPIChatConfig.model_validate({
        "config_name": "p", "model_type": "post_api_chat", "api_url": "http://127.0.0.1/llm",
        "response_path": text, **given_paths})
    paths = ChatPaths.of(cfg)
    reasoning = next((found for found in (p.find(data) for p in paths.reasoning)
                      if found is not MISSING and found is not None), None)
    assert AnswerParts(paths).read(data) == (
        paths.text.find(data), _found(paths.tool_calls, data),
        _found(paths.finish_reason, data), _found(paths.usage, data),
        _found(paths.model, data), reasoning)
