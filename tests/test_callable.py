"""model_type: callable and modelhub.register_callable: any function as a chat model,
following smolagents' custom-model contract."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import modelhub
from modelhub import errors
from modelhub.registry import Registry
from modelhub.wrappers.chat import ChatWrapperBase


def add(a: int, b: int) -> int:
    """Add.

    Args:
        a: First.
        b: Second.
    """
    return a + b


class City(BaseModel):
    name: str


@dataclass
class TokenUsage:  # the shape of smolagents' TokenUsage
    input_tokens: int
    output_tokens: int


@dataclass
class Function:
    name: str
    arguments: Any


@dataclass
class Call:
    id: str
    function: Function
    type: str = "function"


@dataclass
class Message:  # the shape of smolagents' ChatMessage
    content: str | None
    tool_calls: list[Call] | None = None
    token_usage: TokenUsage | None = None
    raw: Any = None


@dataclass
class Recorder:
    seen: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, messages: list[dict[str, Any]], stop_sequences: list[str] | None = None,
                 tools: list[dict[str, Any]] | None = None,
                 response_format: dict[str, Any] | None = None, temperature: float = 1.0) -> Message:
        self.seen.append({"messages": messages, "stop": stop_sequences, "tools": tools,
                          "response_format": response_format, "temperature": temperature})
        if tools:
            return Message(None, [Call("c1", Function("add", '{"a": 1, "b": 2}')),
                                  Call("c2", Function("add", {"a": 3, "b": 4}))],
                           TokenUsage(5, 7))
        if response_format:
            return Message('{"name": "Oslo"}')
        return Message("Thought: hm\nObservation: made up", token_usage=TokenUsage(2, 3))


def build(fn: Any, **config: Any) -> ChatWrapperBase:
    reg = Registry()
    reg.init({"config_name": "fn", "model_type": "callable", "callable": fn, **config})
    return reg.get("fn", ChatWrapperBase)


def test_plain_function_returning_a_str() -> None:
    def fn(messages: list[dict[str, Any]], stop_sequences: list[str] | None = None) -> str:
        return "echo: " + messages[-1]["content"]

    model = build(fn)
    assert model("hi").text == "echo: hi"
    stream = model("hi", stream=True)
    assert list(stream) == ["echo: hi"] and stream.text == "echo: hi"


def test_smolagents_shaped_answers_tools_usage_and_stop() -> None:
    recorder = Recorder()
    model = build(recorder, generate_args={"temperature": 0.3})
    resp = model("think", stop=["Observation:"])
    assert resp.text == "Thought: hm\n"  # the callable ignored the stop: trimmed
    assert recorder.seen[-1]["stop"] == ["Observation:"] and recorder.seen[-1]["temperature"] == 0.3
    assert (resp.usage.input_tokens, resp.usage.output_tokens, resp.usage.total_tokens) == (2, 3, 5)
    resp = model("sum", tools=[add])
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("c1", "add", {"a": 1, "b": 2}), ("c2", "add", {"a": 3, "b": 4})]
    assert recorder.seen[-1]["tools"][0]["function"]["name"] == "add"
    resp = model("city", response_format=City)
    assert resp.parsed == City(name="Oslo")
    assert recorder.seen[-1]["response_format"]["json_schema"]["name"] == "City"
    assert model.capabilities >= {"tools", "response_format"}


def test_what_the_callable_cannot_take_is_refused_before_the_call() -> None:
    calls: list[Any] = []

    def fn(messages: list[dict[str, Any]]) -> str:
        calls.append(messages)
        return "x"

    model = build(fn)
    with pytest.raises(errors.UnsupportedFeatureError):
        model("x", tools=[add])
    with pytest.raises(errors.UnsupportedFeatureError):
        model("x", response_format=City)
    with pytest.raises(errors.InvalidArgumentError, match="top_k"):
        model("x", top_k=3)
    assert calls == []
    assert model("x", stop=["x"]).text == ""  # stops are trimmed even when not passed


def test_grammar_gets_the_schema_in_tgi_shape() -> None:
    seen: dict[str, Any] = {}

    def fn(messages: list[dict[str, Any]], stop_sequences: list[str] | None = None,
           grammar: dict[str, Any] | None = None) -> str:
        seen["grammar"] = grammar
        return '{"name": "Rome"}'

    assert build(fn)("x", response_format=City).parsed == City(name="Rome")
    assert seen["grammar"]["type"] == "json" and "name" in seen["grammar"]["value"]["properties"]


async def test_async_callable_is_awaited_by_acall_and_run_by_a_plain_call() -> None:
    async def fn(messages: list[dict[str, Any]], stop_sequences: list[str] | None = None) -> str:
        await asyncio.sleep(0)
        return "async " + messages[-1]["content"]

    class AsyncModel:
        async def __call__(self, messages: list[dict[str, Any]]) -> Message:
            return Message("instance " + messages[-1]["content"], token_usage=TokenUsage(1, 1))

    assert (await build(AsyncModel()).acall("i")).text == "instance i"
    model = build(fn)
    assert (await model.acall("a")).text == "async a"
    stream = await model.acall("b", stream=True)
    assert [d async for d in stream] == ["async b"]
    assert model("c").text == "async c"  # from inside a running loop: a thread of its own


def test_openai_shaped_and_dict_answers() -> None:
    def completion(messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {"choices": [{"message": {"content": "hi", "reasoning_content": "why"},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}}

    resp = build(completion)("x")
    assert (resp.text, resp.reasoning, resp.finish_reason) == ("hi", "why", "stop")
    assert resp.usage is not None and resp.usage.total_tokens == 5

    def nothing(messages: list[dict[str, Any]]) -> Any:
        return 42

    with pytest.raises(errors.ResponseParseError, match="no 'content'") as info:
        build(nothing)("x")
    assert info.value.config_name == "fn"


def test_errors_are_mapped_and_retried() -> None:
    class SDKError(Exception):
        status_code = 429
        headers = {"retry-after": "0"}

    attempts: list[int] = []

    def flaky(messages: list[dict[str, Any]]) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise SDKError("slow down")
        if len(attempts) == 2:
            raise ConnectionError("reset")
        return "ok"

    model = build(flaky, max_retries=2)
    model._retry.base_delay = 0.0
    assert model("x").text == "ok" and len(attempts) == 3

    def timeout(messages: list[dict[str, Any]]) -> str:
        raise TimeoutError("too slow")

    with pytest.raises(errors.ModelTimeoutError) as info:
        build(timeout, max_retries=0)("x")
    assert info.value.config_name == "fn" and info.value.provider == "callable"

    def bug(messages: list[dict[str, Any]]) -> str:
        raise KeyError("user bug")

    with pytest.raises(KeyError):  # not a model failure: left as it is, not retried
        build(bug)("x")


def test_import_path_resolved_when_first_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "my_models"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "llm.py").write_text(textwrap.dedent("""
        BUILT = []
        def generate(messages, stop_sequences=None):
            return "from module: " + messages[-1]["content"]
        class Holder:
            def __call__(self, messages):
                return "instance"
        holder = Holder()
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry()
    reg.init([{"config_name": "mod", "model_type": "callable", "callable": "my_models.llm:generate"},
              {"config_name": "inst", "model_type": "callable", "callable": "my_models.llm:holder"},
              {"config_name": "missing", "model_type": "callable", "callable": "my_models.nope:fn"},
              {"config_name": "cls", "model_type": "callable", "callable": "my_models.llm:Holder"}])
    assert "my_models.llm" not in sys.modules  # nothing imported at init()
    assert reg.get("mod", ChatWrapperBase)("q").text == "from module: q"
    assert reg.get("inst", ChatWrapperBase)("q").text == "instance"
    with pytest.raises(errors.PluginLoadError, match=r"'missing'.*'my_models.nope:fn'.*ModuleNotFoundError"):
        reg.get("missing")
    with pytest.raises(errors.PluginLoadError, match="not a function"):
        reg.get("cls")
    assert reg.export("mod")[0]["callable"] == "my_models.llm:generate"


def test_a_malformed_path_is_a_config_error_at_load() -> None:
    with pytest.raises(errors.ConfigError, match=r"package\.module:function") as info:
        Registry().init({"config_name": "x", "model_type": "callable", "callable": "no_colon_here"})
    assert info.value.field == "callable"


def test_register_callable_makes_a_config_name() -> None:
    def one(messages: list[dict[str, Any]]) -> str:
        return "one"

    def two(messages: list[dict[str, Any]]) -> str:
        return "two"

    modelhub.register_callable("rc-model", one, model_name="my-model")
    model = modelhub.get("rc-model", ChatWrapperBase)
    assert model("x").text == "one" and model("x").model == "my-model"
    modelhub.register_callable("rc-model", one, model_name="my-model")  # the same again: no-op
    assert modelhub.get("rc-model") is model
    with pytest.raises(ValueError, match="replace=True"):
        modelhub.register_callable("rc-model", two)
    modelhub.register_callable("rc-model", two, replace=True)
    assert modelhub.get("rc-model", ChatWrapperBase)("x").text == "two"
    assert modelhub.export_configs("rc-model")[0]["callable"].endswith(":test_register_callable_makes_a_config_name.<locals>.two")
    with pytest.raises(TypeError):
        modelhub.register_callable("rc-bad", "not callable")  # type: ignore[arg-type]
