"""modelhub.adapters.smolagents against the real smolagents package: generate and
generate_stream, and a CodeAgent and a ToolCallingAgent each run to the end, on the
scripted model and on openai_chat against the loopback server."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("smolagents")

from smolagents import CodeAgent, ToolCallingAgent, tool
from smolagents.models import ChatMessageStreamDelta, MessageRole, agglomerate_stream_deltas

from modelhub.adapters.smolagents import Model
from modelhub.testing import reply, scripted, tool_call
from tests.adapter_support import missing_framework_message, openai_config
from tests.openai_server import OpenAIServer, chat_chunks, chat_completion, json_reply, sse_reply


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: The first integer.
        b: The second integer.
    """
    return a + b


def test_generate_maps_messages_tools_stop_and_usage() -> None:
    llm = scripted("smol-gen", tool_call("add", a=1, b=2), register=False)
    model = Model(llm, temperature=0.1)
    message = model.generate(
        [{"role": MessageRole.SYSTEM, "content": [{"type": "text", "text": "sys"}]},
         {"role": MessageRole.USER, "content": [{"type": "text", "text": "add 1 and 2"}]}],
        stop_sequences=["Observation:"], tools_to_call_from=[add])
    assert message.role == MessageRole.ASSISTANT
    assert message.tool_calls is not None
    call = message.tool_calls[0]
    assert (call.function.name, call.function.arguments, call.id) == ("add", {"a": 1, "b": 2}, "call_0")
    assert message.token_usage is not None and message.token_usage.total_tokens > 0
    recorded = llm.last_call
    assert recorded.tool_names == ["add"] and recorded.tool_choice == "required"
    assert recorded.stop == ["Observation:"] and recorded.params == {"temperature": 0.1}
    assert recorded.messages[0]["role"] == "system"
    assert recorded.messages[1]["content"] == [{"type": "text", "text": "add 1 and 2"}]


def test_generate_stream_yields_deltas_then_tool_calls_and_usage() -> None:
    llm = scripted("smol-stream", reply(chunks=["Thin", "king..."], usage=(4, 5),
                                        tool_calls=[tool_call("add", a=3, b=4)]), register=False)
    deltas = list(Model(llm).generate_stream([{"role": "user", "content": [{"type": "text", "text": "go"}]}],
                                             tools_to_call_from=[add]))
    assert all(isinstance(d, ChatMessageStreamDelta) for d in deltas)
    assert [d.content for d in deltas[:2]] == ["Thin", "king..."]
    merged = agglomerate_stream_deltas(deltas)
    assert merged.content == "Thinking..."
    assert merged.tool_calls is not None and merged.tool_calls[0].function.name == "add"
    assert json.loads(merged.tool_calls[0].function.arguments) == {"a": 3, "b": 4}
    assert merged.token_usage is not None and (merged.token_usage.input_tokens, merged.token_usage.output_tokens) == (4, 5)


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calling_agent_runs_to_the_end(stream: bool) -> None:
    llm = scripted(f"smol-tc-{stream}", tool_call("add", a=2, b=3),
                   tool_call("final_answer", answer="The sum is 5"), register=False)
    agent = ToolCallingAgent(tools=[add], model=Model(llm), max_steps=4, verbosity_level=0,
                             stream_outputs=stream)
    assert agent.run("What is 2 + 3?") == "The sum is 5"
    assert len(llm.calls) == 2 and llm.remaining == 0
    assert set(llm.calls[0].tool_names) == {"add", "final_answer"}
    assert llm.calls[0].stop == ["Observation:", "Calling tools:"]
    assert llm.calls[0].stream is stream
    assert "5" in json.dumps(llm.calls[1].messages)  # the observation went back to the model


@pytest.mark.parametrize("stream", [False, True])
def test_code_agent_runs_to_the_end(stream: bool) -> None:
    llm = scripted(f"smol-code-{stream}",
                   "Thought: use the tool.\n<code>\nresult = add(20, 22)\nprint(result)\n</code>",
                   "Thought: done.\n<code>\nfinal_answer(result)\n</code>", register=False)
    agent = CodeAgent(tools=[add], model=Model(llm), max_steps=4, verbosity_level=0,
                      stream_outputs=stream)
    assert agent.run("What is 20 + 22?") == 42
    assert "</code>" in (llm.calls[0].stop or [])
    assert "42" in json.dumps(llm.calls[1].messages)


def test_code_agent_structured_outputs_go_through_response_format() -> None:
    llm = scripted("smol-json", reply(json_value={"thought": "easy", "code": "final_answer(7)"}),
                   register=False)
    agent = CodeAgent(tools=[], model=Model(llm), max_steps=2, verbosity_level=0,
                      use_structured_outputs_internally=True)
    assert agent.run("Seven?") == 7
    spec = llm.last_call.response_format
    assert spec is not None and spec.name == "ThoughtAndCodeAnswer" and spec.strict


def test_tool_calling_agent_on_openai_chat_over_the_wire(openai_server: OpenAIServer) -> None:
    name = openai_config(openai_server, "smol-openai")
    openai_server.enqueue(
        json_reply(chat_completion(None, tool_calls=[
            {"id": "call_a", "name": "add", "arguments": '{"a": 5, "b": 6}'}])),
        json_reply(chat_completion(None, tool_calls=[
            {"id": "call_b", "name": "final_answer", "arguments": '{"answer": "eleven"}'}])))
    agent = ToolCallingAgent(tools=[add], model=Model(name), max_steps=3, verbosity_level=0)
    assert agent.run("5 + 6?") == "eleven"
    first = openai_server.requests[0].json
    assert first["tool_choice"] == "required" and first["stop"] == ["Observation:", "Calling tools:"]
    assert {t["function"]["name"] for t in first["tools"]} == {"add", "final_answer"}
    second = openai_server.requests[1].json["messages"]
    assert any("11" in json.dumps(m) for m in second)
    stream_agent = ToolCallingAgent(tools=[add], model=Model(name), max_steps=3, verbosity_level=0,
                                    stream_outputs=True)
    openai_server.enqueue(sse_reply(chat_chunks([], tool_calls=[
        {"id": "call_c", "name": "final_answer", "arguments": '{"answer": "done"}'}])))
    assert stream_agent.run("finish") == "done"
    assert openai_server.last.json["stream"] is True


def test_model_by_config_name_and_to_dict() -> None:
    scripted("smol-named", "hello")
    model = Model("smol-named", max_tokens=5)
    assert model.model_id == "smol-named" and model.config_name == "smol-named"
    assert model.generate([{"role": "user", "content": [{"type": "text", "text": "x"}]}]).content == "hello"
    assert model.to_dict() == {"max_tokens": 5, "model": "smol-named", "tool_choice": "required"}


def test_missing_smolagents_names_the_extra() -> None:
    out = missing_framework_message("modelhub.adapters.smolagents", "smolagents")
    assert out.startswith("MissingDependencyError") and "modelhub[smolagents]" in out
