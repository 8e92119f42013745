"""ReActAgent on openai_chat against the loopback OpenAI server: native tool calls
(parallel too), sync, async and streamed, the conversation sent back as the API
takes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelhub.agents import Delta, ReActAgent, Step
from modelhub.agents.console import load_tools
from modelhub.registry import Registry
from modelhub.wrappers.chat import ChatWrapperBase
from tests.openai_server import (
    OpenAIServer,
    chat_chunks,
    chat_completion,
    error_reply,
    json_reply,
    sse_reply,
)

# The classic example's tools, as the README's example has them.
add_numbers, square_number = load_tools(str(Path(__file__).resolve().parents[1] / "examples"
                                            / "agent" / "math_tools.py"))


def gpt(server: OpenAIServer, **extra: Any) -> ChatWrapperBase:
    registry = Registry()
    registry.init([{"config_name": "gpt", "model_type": "openai_chat",
                    "model_name": "gpt-4o-mini", "api_key": "sk-test-key",
                    "base_url": server.base_url, "max_retries": 0, **extra}])
    return registry.get("gpt", ChatWrapperBase)


def call(id: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"id": id, "name": name, "arguments": json.dumps(arguments)}


def test_native_tool_calls_over_the_wire(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(
        json_reply(chat_completion("Adding first.", tool_calls=[call("call_a", "add_numbers", a=3, b=4)])),
        json_reply(chat_completion(None, tool_calls=[call("call_b", "square_number", n=7)])),
        json_reply(chat_completion("(3 + 4) squared is 49.")))
    result = ReActAgent(gpt(openai_server), [add_numbers, square_number]).run(
        "What is (3 + 4) squared?")
    assert result.answer == "(3 + 4) squared is 49."
    assert [(s.kind, s.content) for s in result.steps] == [
        ("thought", "Adding first."), ("action", 'add_numbers({"a": 3, "b": 4})'),
        ("observation", "7"), ("action", 'square_number({"n": 7})'), ("observation", "49"),
        ("answer", "(3 + 4) squared is 49.")]
    first, _, last = (r.json for r in openai_server.requests)
    assert [t["function"]["name"] for t in first["tools"]] == ["add_numbers", "square_number"]
    assert first["tool_choice"] == "auto"
    assert first["tools"][0]["function"]["parameters"]["properties"]["a"] == {
        "type": "integer", "description": "The first number."}
    assert [m["role"] for m in last["messages"]] == ["system", "user", "assistant", "tool",
                                                    "assistant", "tool"]
    assert last["messages"][2]["tool_calls"][0] == {
        "id": "call_a", "type": "function",
        "function": {"name": "add_numbers", "arguments": '{"a": 3, "b": 4}'}}
    assert last["messages"][3] == {"role": "tool", "tool_call_id": "call_a", "content": "7"}
    assert result.usage.total_tokens == 3 * 21  # the server's own counts, summed


def test_parallel_calls_and_a_bad_one(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(
        json_reply(chat_completion(None, tool_calls=[
            call("c1", "add_numbers", a=1, b=2), call("c2", "square_number", n="x"),
            call("c3", "cube", n=2)])),
        json_reply(chat_completion("3, and the rest failed.")))
    result = ReActAgent(gpt(openai_server), [add_numbers, square_number]).run("?")
    observations = result.of_kind("observation")
    assert [o.result.error for o in observations if o.result] == [
        None, "invalid_arguments", "unknown_tool"]
    sent = openai_server.last.json["messages"]
    assert [m.get("tool_call_id") for m in sent if m["role"] == "tool"] == ["c1", "c2", "c3"]
    assert sent[-2]["content"].startswith("Error: invalid arguments for square_number")


def test_arguments_that_are_not_json_go_back_to_the_model(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(
        json_reply(chat_completion(None, tool_calls=[
            {"id": "c1", "name": "add_numbers", "arguments": '{"a": 1, "b": '}])),
        json_reply(chat_completion(None, tool_calls=[call("c2", "add_numbers", a=1, b=2)])),
        json_reply(chat_completion("3")))
    result = ReActAgent(gpt(openai_server), [add_numbers]).run("1+2?")
    assert [s.kind for s in result.steps] == ["error", "action", "observation", "answer"]
    assert openai_server.requests[1].json["messages"][-1]["content"].startswith(
        "Your tool call could not be read")


def test_a_streamed_run_shows_the_answer_as_it_comes(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(
        sse_reply(chat_chunks([], tool_calls=[call("c1", "add_numbers", a=2, b=2)],
                              include_usage=True)),
        sse_reply(chat_chunks(["The sum ", "is 4."], include_usage=True)))
    run = ReActAgent(gpt(openai_server), [add_numbers]).stream("2+2?")
    events = list(run)
    assert [e.text for e in events if isinstance(e, Delta)] == ["The sum ", "is 4."]
    assert [e.kind for e in events if isinstance(e, Step)] == ["action", "observation", "answer"]
    assert run.result.answer == "The sum is 4."
    assert all(r.json["stream"] for r in openai_server.requests)


async def test_arun_and_astream(openai_server: OpenAIServer) -> None:
    model = gpt(openai_server)
    openai_server.enqueue(
        json_reply(chat_completion(None, tool_calls=[call("c1", "square_number", n=5)])),
        json_reply(chat_completion("25")))
    result = await ReActAgent(model, [square_number]).arun("5^2?")
    assert result.answer == "25" and result.of_kind("observation")[0].content == "25"
    openai_server.enqueue(
        sse_reply(chat_chunks([], tool_calls=[call("c1", "square_number", n=6)])),
        sse_reply(chat_chunks(["3", "6"])))
    events = [e async for e in ReActAgent(model, [square_number]).astream("6^2?")]
    assert [e.text if isinstance(e, Delta) else e.kind for e in events] == [
        "action", "observation", "3", "6", "answer"]


def test_max_iterations_sends_tool_choice_none(openai_server: OpenAIServer) -> None:
    openai_server.enqueue(
        json_reply(chat_completion(None, tool_calls=[call("c1", "add_numbers", a=1, b=1)])),
        json_reply(chat_completion("2, as far as I got.")))
    result = ReActAgent(gpt(openai_server), [add_numbers], max_iterations=1).run("?")
    assert result.stop_reason == "max_iterations" and result.answer == "2, as far as I got."
    assert openai_server.last.json["tool_choice"] == "none"


def test_an_api_error_is_raised(openai_server: OpenAIServer) -> None:
    import pytest

    from modelhub import errors

    openai_server.enqueue(error_reply(400, "tools are not supported by this model"))
    with pytest.raises(errors.BadRequestError, match="not supported"):
        ReActAgent(gpt(openai_server), [add_numbers]).run("?")
