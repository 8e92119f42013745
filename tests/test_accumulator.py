"""The one stream accumulator: tool-call assembly, usage modes, reasoning, early ends."""

from __future__ import annotations

import pytest

from modelhub import errors
from modelhub.http.errors import ErrorContext
from modelhub.response import Usage
from modelhub.wrappers.accumulator import StreamAccumulator

CONTEXT = ErrorContext(provider="p", config_name="c")


def acc(**kwargs: object) -> StreamAccumulator:
    return StreamAccumulator(CONTEXT, **kwargs)  # type: ignore[arg-type]


def test_parallel_tool_calls_assembled_by_index() -> None:
    a = acc()
    a.add_tool_call_delta(0, id="a", name="add", arguments="", type="function")
    a.add_tool_call_delta(1, id="b", name="mul", arguments='{"x"')
    a.add_tool_call_delta(0, arguments='{"x": 1}')
    a.add_tool_call_delta(1, arguments=": 2}")
    a.set_finish_reason("tool_calls")
    response = a.response()
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("a", "add", {"x": 1}), ("b", "mul", {"x": 2})]
    assert response.text is None and response.finish_reason == "tool_calls"


def test_a_name_repeated_in_every_fragment_is_not_doubled() -> None:
    a = acc()
    for piece in ('{"city"', ': "Paris"}'):
        a.add_tool_call_delta(0, id="call_1", name="get_weather", arguments=piece)
    assert a.response().tool_calls[0].name == "get_weather"


def test_a_name_streamed_in_pieces_or_growing_is_joined_once() -> None:
    a = acc()
    a.add_tool_call_delta(0, id="x", name="get_")
    a.add_tool_call_delta(0, name="weather")
    b = acc()
    for grown in ("get", "get_wea", "get_weather"):  # cumulative names
        b.add_tool_call_delta(0, id="y", name=grown)
    assert a.response().tool_calls[0].name == b.response().tool_calls[0].name == "get_weather"


def test_an_empty_id_never_overwrites_a_real_one() -> None:
    a = acc()
    a.add_tool_call_delta(0, id="call_9", name="f", arguments="{")
    a.add_tool_call_delta(0, id="", arguments="}")
    a.add_tool_call_delta(1, id="", name="g")  # a call with no id at all gets one
    calls = a.response().tool_calls
    assert [c.id for c in calls] == ["call_9", "call_1"]


def test_fragments_without_an_index_follow_their_id() -> None:
    a = acc()
    a.add_tool_call_delta(id="a", name="f", arguments='{"n":')
    a.add_tool_call_delta(arguments="1}")  # continues the last call
    a.add_tool_call_delta(id="b", name="g", arguments="{}")  # a new id starts one
    a.add_tool_call_delta(id="a")  # names an earlier call: no new call
    assert [(c.id, c.arguments) for c in a.response().tool_calls] == [("a", {"n": 1}),
                                                                     ("b", {})]


def test_complete_tool_calls_in_one_event_keep_provider_data() -> None:
    a = acc()
    a.add_text("Let me check.")
    a.add_tool_call("lookup", {"q": "x"}, id="t1", extra={"thought_signature": "sig"})
    a.add_tool_call("other", '{"n": 2}')
    calls = a.response().tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [("t1", "lookup", {"q": "x"}),
                                                            ("call_1", "other", {"n": 2})]
    assert calls[0].extra == {"thought_signature": "sig"}
    assert a.response().text == "Let me check."


def test_bad_tool_arguments_are_a_parse_error_naming_the_call() -> None:
    a = acc()
    a.add_text("so far")
    a.add_tool_call_delta(0, id="a", name="f", arguments="{not json")
    with pytest.raises(errors.ResponseParseError) as info:
        a.response()
    assert info.value.config_name == "c" and info.value.partial_text == "so far"
    nameless = acc()
    nameless.add_tool_call_delta(0, id="a", arguments="{}")
    with pytest.raises(errors.ResponseParseError, match="no function name"):
        nameless.response()


@pytest.mark.parametrize(("mode", "reports", "expected"), [
    ("last", [Usage(5, 1, 6), Usage(5, 9, 14)], (5, 9, 14)),  # cumulative: taken once
    ("sum", [Usage(5, 1, 6), Usage(0, 2, 2)], (5, 3, 8)),
    ("merge", [Usage(12, 0, 0), Usage(0, 30, 0)], (12, 30, 42)),  # input first, output last
])
def test_usage_modes(mode: str, reports: list[Usage], expected: tuple[int, int, int]) -> None:
    a = acc(usage_mode=mode)
    for report in [None, *reports]:
        a.add_usage(report)
    u = a.response().usage
    assert u is not None and (u.input_tokens, u.output_tokens, u.total_tokens) == expected


def test_think_blocks_split_across_deltas_go_to_reasoning() -> None:
    a = acc()
    shown = [a.add_text(c) for c in ["<th", "ink>plan", "</thi", "nk>\n\nHi", "!"]]
    a.add_reasoning(" native")
    assert "".join(shown) + a.flush() == "Hi!"
    response = a.response()
    assert response.text == "Hi!" and response.reasoning == "plan native"
    raw = acc(split_think=False)
    assert raw.add_text("<think>x</think>y") == "<think>x</think>y"


def test_text_held_back_is_released_at_the_end() -> None:
    a = acc()
    assert a.add_text("<thi") == ""  # could be the start of a think tag
    assert a.flush() == "<thi" and a.response().text == "<thi"


def test_an_early_end_is_an_error_carrying_the_text() -> None:
    a = acc()
    a.add_text("half an ans")
    with pytest.raises(errors.ModelConnectionError) as info:
        a.check_complete(terminated=False)
    assert info.value.partial_text == "half an ans" and info.value.config_name == "c"
    a.check_complete(terminated=True)  # the terminator arrived
    b = acc()
    b.set_finish_reason("stop")
    b.check_complete(terminated=False)  # a finish reason is as good as a terminator


def test_model_and_finish_reason_keep_the_last_real_value() -> None:
    a = acc()
    a.set_model("m1")
    a.set_model(None)
    a.set_finish_reason("length")
    a.set_finish_reason(None)
    a.add_raw({"n": 1})
    response = a.response()
    assert (response.model, response.finish_reason, response.raw) == ("m1", "length", [{"n": 1}])


def test_raw_kept_elsewhere_stands_for_the_events_fed() -> None:
    a = acc()
    a.add_raw({"n": 1})
    kept = ("event one", "event two")
    a.use_raw(kept)
    a.add_raw({"n": 2})  # not kept: `kept` stands for the events
    a.set_finish_reason("stop")
    assert a.response().raw is kept and a.chunks == [{"n": 1}]
