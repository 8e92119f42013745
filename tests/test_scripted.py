"""modelhub.testing: the scripted model answers from its queue, records every call, and
behaves like a real wrapper (streams, async, stop trimming, retries, errors)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import BaseModel

import modelhub
from modelhub import errors
from modelhub.registry import Registry
from modelhub.response import ModelResponse
from modelhub.testing import (
    ScriptedCall,
    ScriptedModel,
    ScriptExhaustedError,
    error,
    reply,
    scripted,
    tool_call,
)


def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


class City(BaseModel):
    name: str
    population: int


def test_text_tool_calls_and_recorded_calls() -> None:
    model = scripted("t-basic", "Hello there", tool_call("add", a=1, b=2), register=False)
    first = model([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
                  temperature=0.2)
    assert first.text == "Hello there" and first.finish_reason == "stop"
    assert first.usage is not None and first.usage.output_tokens == 2
    second = model("sum?", tools=[add], tool_choice="required")
    assert [(c.name, c.arguments) for c in second.tool_calls] == [("add", {"a": 1, "b": 2})]
    assert second.tool_calls[0].id == "call_0" and second.finish_reason == "tool_calls"
    assert model.remaining == 0 and len(model.calls) == 2
    assert model.calls[0].params == {"temperature": 0.2}
    assert model.calls[0].messages[0] == {"role": "system", "content": "be brief"}
    assert model.calls[1].tool_names == ["add"] and model.calls[1].tool_choice == "required"
    assert model.last_call.last_user_text == "sum?" and not model.last_call.is_async


def test_exhausted_script_raises_or_answers_default() -> None:
    model = scripted("t-empty", register=False)
    with pytest.raises(ScriptExhaustedError, match="ran out") as info:
        model("anything")
    assert info.value.config_name == "t-empty"
    echo = scripted("t-echo", default="echo", register=False)
    assert echo("repeat me").text == "echo: repeat me"


def test_stream_yields_chunks_and_stop_is_trimmed() -> None:
    model = scripted("t-stream", reply(chunks=["Thought: a", "dd\nAct", "ion: x\nObserv", "ation: 9"]),
                     "one two three", register=False)
    stream = model("go", stream=True, stop=["Observation:"])
    assert list(stream) == ["Thought: a", "dd\nAct", "ion: x\n"]
    assert stream.text == "Thought: add\nAction: x\n"
    assert model.last_call.stop == ["Observation:"] and model.last_call.stream
    assert list(model("again", stream=True)) == ["one ", "two ", "three"]


def test_declared_stop_capability_stops_natively() -> None:
    model = scripted("t-stop", "a STOP b", capabilities=["stop"], register=False)
    assert model("x", stop=["STOP"]).text == "a "
    with pytest.raises(errors.UnsupportedFeatureError):
        model("x", tools=[add])


async def test_async_calls_and_async_streams() -> None:
    model = scripted("t-async", "async answer", reply(chunks=["a", "b"], reasoning="hmm"),
                     register=False)
    resp = await model.acall("x")
    assert resp.text == "async answer" and model.last_call.is_async
    stream = await model.acall("y", stream=True)
    assert [d async for d in stream] == ["a", "b"]
    assert stream.reasoning == "hmm" and stream.text == "ab"


def test_errors_are_raised_and_retried_by_the_base_policy() -> None:
    model = scripted("t-retry", error(429, retry_after=0), error(503), "finally", max_retries=2,
                     register=False)
    model._retry.base_delay = 0.0
    assert model("x").text == "finally"
    assert len(model.calls) == 3
    strict = scripted("t-noretry", error(401, "bad key"), register=False)
    with pytest.raises(errors.AuthenticationError, match="bad key") as info:
        strict("x")
    assert info.value.status_code == 401 and info.value.config_name == "t-noretry"
    custom = scripted("t-custom", ValueError("boom"), register=False)
    with pytest.raises(ValueError, match="boom"):
        custom("x")


def test_error_in_the_middle_of_a_stream_carries_partial_text() -> None:
    model = scripted("t-break", error(500, after_chunks=2, chunks=["one ", "two ", "three"]),
                     register=False)
    stream = model("x", stream=True)
    seen: list[str] = []
    with pytest.raises(errors.ServerError) as info:
        for delta in stream:
            seen.append(delta)
    assert seen == ["one ", "two "] and info.value.partial_text == "one two "


def test_structured_output_and_dynamic_replies() -> None:
    def answer(call: ScriptedCall) -> Any:
        return reply(json_value={"name": call.last_user_text, "population": 3})

    model = scripted("t-json", answer, ModelResponse(text="raw", finish_reason="length"),
                     register=False)
    resp = model("Oslo", response_format=City)
    assert resp.parsed == City(name="Oslo", population=3)
    assert model.last_call.response_format is not None
    assert model.last_call.response_format.name == "City"
    assert model("x").finish_reason == "length"


def test_registered_by_name_and_from_a_config() -> None:
    model = scripted("t-registered", "first")
    assert modelhub.get("t-registered") is model
    again = scripted("t-registered", "second")
    assert modelhub.get("t-registered") is again and again("x").text == "second"
    reg = Registry()
    reg.init({"config_name": "from-file", "model_type": "scripted", "capabilities": ["streaming"],
              "responses": ["plain", {"tool_calls": [{"name": "add", "arguments": {"a": 1}}]},
                            {"error": 429, "retry_after": 0}, {"json": {"ok": True}}]})
    built = reg.get("from-file", ScriptedModel)
    assert built("x").text == "plain"
    with pytest.raises(errors.UnsupportedFeatureError):
        built("x", tools=[add])  # the config took tools away
    assert built.remaining == 3


def test_bad_config_replies_are_config_errors() -> None:
    with pytest.raises(errors.ConfigError, match="responses"):
        Registry().init({"config_name": "bad", "model_type": "scripted",
                         "responses": [{"txet": "typo"}]})
    with pytest.raises(TypeError, match="cannot script"):
        scripted("t-bad", 42, register=False)  # type: ignore[arg-type]


def test_threads_share_one_queue() -> None:
    from concurrent.futures import ThreadPoolExecutor

    model = scripted("t-threads", *[f"r{i}" for i in range(40)], register=False)
    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(lambda i: model(f"q{i}").text, range(40)))
    assert sorted(texts) == sorted(f"r{i}" for i in range(40))
    assert len(model.calls) == 40


def test_run_in_an_event_loop_of_its_own() -> None:
    model = scripted("t-loop", "x", register=False)
    assert asyncio.run(model.acall("q")).text == "x"
