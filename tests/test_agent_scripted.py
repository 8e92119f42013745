"""ReActAgent through every branch, on the scripted model: an answer, tool calls, an
unknown tool, bad arguments, a tool that raises, arguments that are not JSON, max
iterations; native, text and split modes; sync, async and streamed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from modelhub import errors
from modelhub.agents import AgentResult, Delta, ReActAgent, Step
from modelhub.agents.console import load_tools
from modelhub.response import ModelResponse
from modelhub.testing import ScriptedModel, error, reply, scripted, tool_call
from modelhub.tools import tool

# The classic example's tools, as the README's example has them.
add_numbers, square_number = load_tools(str(Path(__file__).resolve().parents[1] / "examples"
                                            / "agent" / "math_tools.py"))


TOOLS = [add_numbers, square_number]
TEXT_ONLY = ["streaming"]  # a model with no tool-calling API: the text protocol


def kinds(result: AgentResult) -> list[str]:
    return [s.kind for s in result.steps]


def model(*replies: Any, name: str = "agent-llm", **kwargs: Any) -> ScriptedModel:
    return scripted(name, *replies, register=False, **kwargs)


# -- native mode -------------------------------------------------------------------------
def test_a_plain_answer_ends_the_run_at_once() -> None:
    llm = model("Paris.")
    result = ReActAgent(llm, TOOLS).run("Capital of France?")
    assert result.answer == "Paris." and result.stop_reason == "answer"
    assert kinds(result) == ["answer"] and result.iterations == 1
    assert llm.calls[0].tool_names == ["add_numbers", "square_number"]
    assert llm.calls[0].tool_choice == "auto"
    assert llm.calls[0].messages[0]["role"] == "system"
    assert result.messages[-1] == {"role": "assistant", "content": "Paris."}


def test_tool_calls_run_and_their_results_go_back() -> None:
    llm = model(reply("I add first.", tool_calls=[tool_call("add_numbers", a=3, b=4)]),
                tool_call("square_number", n=7), "The answer is 49.")
    result = ReActAgent(llm, TOOLS).run("What is (3 + 4) squared?")
    assert result.answer == "The answer is 49."
    assert kinds(result) == ["thought", "action", "observation", "action", "observation",
                             "answer"]
    assert [s.content for s in result.of_kind("observation")] == ["7", "49"]
    assert result.steps[1].content == 'add_numbers({"a": 3, "b": 4})'
    assert [c.name for c in result.tool_calls] == ["add_numbers", "square_number"]
    assert result.of_kind("observation")[1].result is not None
    assert result.of_kind("observation")[1].result.value == 49  # type: ignore[union-attr]
    # the second call saw the first call and its result, with matching ids
    sent = llm.calls[1].messages
    assert sent[2]["role"] == "assistant" and sent[2]["content"] == "I add first."
    assert sent[3] == {"role": "tool", "tool_call_id": sent[2]["tool_calls"][0]["id"],
                       "content": "7"}
    ids = [m["tool_call_id"] for m in llm.calls[2].messages if m["role"] == "tool"]
    assert len(set(ids)) == 2
    assert result.usage.total_tokens > 0 and result.iterations == 3


def test_parallel_calls_in_one_turn() -> None:
    llm = model([tool_call("add_numbers", a=1, b=2), tool_call("square_number", n=5)], "3 and 25")
    result = ReActAgent(llm, TOOLS).run("1+2 and 5^2?")
    assert [s.content for s in result.of_kind("observation")] == ["3", "25"]
    assert len(llm.calls[1].messages[2]["tool_calls"]) == 2


def test_an_unknown_tool_is_an_observation() -> None:
    llm = model(tool_call("multiply", a=2, b=3), "I cannot multiply.")
    result = ReActAgent(llm, TOOLS).run("2*3?")
    observation = result.of_kind("observation")[0]
    assert observation.result is not None and observation.result.error == "unknown_tool"
    assert "no tool named 'multiply'" in observation.content
    assert "add_numbers, square_number" in observation.content
    assert llm.calls[1].messages[-1]["content"] == observation.content
    assert result.answer == "I cannot multiply."


def test_bad_arguments_are_an_observation_and_coercible_ones_are_coerced() -> None:
    llm = model(tool_call("add_numbers", a="three", c=1), tool_call("add_numbers", a="3", b=4.0),
                "7")
    result = ReActAgent(llm, TOOLS).run("3+4?")
    bad, good = result.of_kind("observation")
    assert bad.result is not None and bad.result.error == "invalid_arguments"
    assert "a: Input should be a valid integer" in bad.content
    assert "b: required, but missing" in bad.content and "c: not a parameter" in bad.content
    assert '"b": {"type": "integer"' in bad.content  # the parameters, to get it right
    assert good.content == "7" and good.result is not None and good.result.value == 7


def test_a_tool_that_raises_is_an_observation() -> None:
    def divide(a: float, b: float) -> float:
        """Divide a by b."""
        return a / b

    llm = model(tool_call("divide", a=1, b=0), "Division by zero.")
    result = ReActAgent(llm, [divide]).run("1/0?")
    observation = result.of_kind("observation")[0]
    assert observation.content == "Error: divide raised ZeroDivisionError: float division by zero"
    assert observation.result is not None and isinstance(observation.result.exception,
                                                         ZeroDivisionError)


def test_arguments_that_are_not_json_come_back_as_an_error_step() -> None:
    # a native call whose arguments did not parse: the wrapper raises ResponseParseError
    bad = errors.ResponseParseError("tool call 'add_numbers': arguments are not valid JSON")
    llm = model(bad, tool_call("add_numbers", a=1, b=1), "2")
    result = ReActAgent(llm, TOOLS).run("1+1?")
    assert kinds(result) == ["error", "action", "observation", "answer"]
    assert "could not be read" in result.steps[0].content
    assert llm.calls[1].messages[-1] == {"role": "user", "content": result.steps[0].content}


def test_an_action_written_in_the_text_of_a_native_model_is_taken() -> None:
    llm = model('Thought: add them.\nAction: {"name": "add_numbers", "arguments": {"a": 2, "b": 2}}',
                "4")
    result = ReActAgent(llm, TOOLS).run("2+2?")
    assert kinds(result) == ["thought", "action", "observation", "answer"]
    assert result.steps[0].content == "add them."


def test_max_iterations_asks_for_the_answer_without_tools() -> None:
    llm = model(*(tool_call("add_numbers", a=i, b=1) for i in range(3)), "Gave up: 3.")
    result = ReActAgent(llm, TOOLS, max_iterations=3).run("Count.")
    assert result.stop_reason == "max_iterations" and result.iterations == 3
    assert result.answer == "Gave up: 3." and len(llm.calls) == 4
    last = llm.calls[-1]
    assert last.tool_choice == "none" and "used all your steps" in last.messages[-1]["content"]
    assert kinds(result)[-1] == "answer"


def test_reasoning_goes_to_a_thought_and_the_model_errors_propagate() -> None:
    llm = model(reply("42", reasoning="Six times seven."))
    result = ReActAgent(llm, TOOLS).run("6*7?")
    assert [(s.kind, s.content) for s in result.steps] == [("thought", "Six times seven."),
                                                           ("answer", "42")]
    failing = model(error(401, "bad key"))
    with pytest.raises(errors.AuthenticationError):
        ReActAgent(failing, TOOLS).run("hi")


def test_agent_options_are_checked() -> None:
    with pytest.raises(ValueError, match="max_iterations"):
        ReActAgent(model(), TOOLS, max_iterations=0)
    with pytest.raises(ValueError, match="two tools"):
        ReActAgent(model(), [add_numbers, add_numbers])
    with pytest.raises(errors.UnsupportedFeatureError, match="native tool calling"):
        ReActAgent(model(capabilities=TEXT_ONLY), TOOLS, mode="native")
    with pytest.raises(errors.ConfigNotFoundError):
        ReActAgent("no-such-config", TOOLS)
    with pytest.raises(ValueError, match="final_answer"):
        ReActAgent(model(), [tool(add_numbers, name="final_answer")], call_model=model())


def test_a_config_name_and_a_message_history() -> None:
    llm = scripted("agent-by-name", "Hello again.")
    result = ReActAgent("agent-by-name", TOOLS).run(
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
         {"role": "user", "content": "Hi again"}])
    assert result.answer == "Hello again."
    assert [m["role"] for m in llm.calls[0].messages] == ["system", "user", "assistant", "user"]


# -- text mode ---------------------------------------------------------------------------
def test_text_mode_prompts_the_format_stops_and_parses_actions() -> None:
    llm = model('Thought: add first.\nAction: {"name": "add_numbers", "arguments": {"a": 3, "b": 4}}',
                "Thought: now square.\nAction: [square_number(7)]",
                "Thought: I know the answer.\nFinal Answer: 49", capabilities=TEXT_ONLY)
    agent = ReActAgent(llm, TOOLS)
    assert agent.mode == "text"
    result = agent.run("What is (3 + 4) squared?")
    assert result.answer == "49"
    assert kinds(result) == ["thought", "action", "observation", "thought", "action",
                             "observation", "answer"]
    assert [s.content for s in result.of_kind("thought")] == ["add first.", "now square."]
    first = llm.calls[0]
    assert first.stop == ["Observation:"] and first.tools is None
    assert "add_numbers: Add two integers." in first.messages[0]["content"]
    assert "Final Answer:" in first.messages[0]["content"]
    third = llm.calls[2].messages
    assert third[2] == {"role": "assistant", "content": 'Thought: add first.\nAction: '
                        '{"name": "add_numbers", "arguments": {"a": 3, "b": 4}}'}
    assert third[3] == {"role": "user", "content": "Observation: 7"}
    assert third[5] == {"role": "user", "content": "Observation: 49"}


def test_text_mode_stops_at_observation_when_the_model_runs_on() -> None:
    # the scripted model cannot stop by itself: the base class trims at the stop string
    llm = model('Thought: add.\nAction: {"name": "add_numbers", "arguments": {"a": 1, "b": 1}}\n'
                "Observation: 3 (made up)\nFinal Answer: 3", "Final Answer: 2",
                capabilities=TEXT_ONLY)
    result = ReActAgent(llm, TOOLS).run("1+1?")
    assert result.of_kind("observation")[0].content == "2" and result.answer == "2"


@pytest.mark.parametrize(("text", "expected"), [
    ("Action: add_numbers\nAction Input: {\"a\": 5, \"b\": 6}", 11),
    ("Action: {'name': 'add_numbers', 'arguments': {'a': 5, 'b': 6}}", 11),
    ("Thought: x\nAction: add_numbers(5, b=6)", 11),
    ('<tool_call>{"name": "square_number", "arguments": {"n": 4}}</tool_call>', 16),
])
def test_text_mode_reads_every_action_form(text: str, expected: int) -> None:
    llm = model(text, "Final Answer: done", capabilities=TEXT_ONLY)
    result = ReActAgent(llm, TOOLS).run("?")
    assert result.of_kind("observation")[0].content == str(expected)


def test_text_mode_unknown_tools_unreadable_actions_and_bare_thoughts() -> None:
    llm = model('Action: {"name": "multiply", "arguments": {"a": 2}}',
                "Thought: hmm\nAction: add_numbers with 2 and 3",
                "Thought: still thinking",
                "Plain words are the answer.", capabilities=TEXT_ONLY)
    result = ReActAgent(llm, TOOLS).run("2*3?")
    assert kinds(result) == ["action", "observation", "error", "error", "answer"]
    assert "no tool named 'multiply'" in result.steps[1].content
    assert "could not be read" in result.steps[2].content
    assert "Write an Action" in result.steps[3].content
    assert llm.calls[2].messages[-1]["content"] == result.steps[2].content
    assert result.answer == "Plain words are the answer."


def test_text_mode_max_iterations() -> None:
    llm = model("Thought: a", "Thought: b", "Final Answer: c", capabilities=TEXT_ONLY)
    result = ReActAgent(llm, TOOLS, max_iterations=2).run("?")
    assert result.stop_reason == "max_iterations" and result.answer == "c"
    assert "used all your steps" in llm.calls[2].messages[-1]["content"]
    assert llm.calls[2].stop == ["Observation:"]


# -- split mode: a second config makes the calls ------------------------------------------
def test_split_mode_reasoning_names_the_tool_and_the_call_model_calls_it() -> None:
    reasoner = model("Thought: add 3 and 4.\nAction: add_numbers",
                     "Thought: square it.\nAction: square_number\nAction Input: junk",
                     "Thought: done.\nFinal Answer: 49", capabilities=TEXT_ONLY)
    caller = model(tool_call("add_numbers", a=3, b=4), tool_call("square_number", n=7),
                   name="caller")
    agent = ReActAgent(reasoner, TOOLS, call_model=caller, reasoning_args={"temperature": 0.7},
                       call_args={"temperature": 0})
    assert agent.mode == "split"
    result = agent.run("What is (3 + 4) squared?")
    assert result.answer == "49" and len(caller.calls) == 2
    assert [(s.kind, s.config_name) for s in result.steps] == [
        ("thought", "agent-llm"), ("action", "caller"), ("observation", None),
        ("thought", "agent-llm"), ("action", "caller"), ("observation", None),
        ("answer", "agent-llm")]
    assert reasoner.calls[0].stop == ["Observation:", "Action Input:"]
    assert reasoner.calls[0].params == {"temperature": 0.7}
    assert "Action: the name of one tool" in reasoner.calls[0].messages[0]["content"]
    first = caller.calls[0]
    assert first.tool_choice == {"type": "function", "function": {"name": "add_numbers"}}
    assert first.params == {"temperature": 0}
    assert first.messages[-1]["content"] == "Thought: add 3 and 4.\nMake the call."
    assert caller.calls[1].messages[-2]["role"] == "tool"  # it sees the first result
    # the reasoning model sees the calls as names and the results as observations
    seen = reasoner.calls[1].messages
    assert seen[2] == {"role": "assistant", "content": "Thought: add 3 and 4.\nAction: add_numbers"}
    assert seen[3] == {"role": "user", "content": "Observation: 7"}


def test_split_mode_without_a_named_tool_offers_final_answer() -> None:
    reasoner = model("Thought: I think I know.", capabilities=TEXT_ONLY)
    caller = model(tool_call("final_answer", answer="42"), name="caller")
    result = ReActAgent(reasoner, TOOLS, call_model=caller).run("?")
    assert result.answer == "42" and kinds(result) == ["thought", "answer"]
    assert caller.calls[0].tool_choice == "required"
    assert caller.calls[0].tool_names == ["add_numbers", "square_number", "final_answer"]


def test_split_mode_call_model_without_tools_uses_the_call_schema() -> None:
    reasoner = model("Thought: add.\nAction: add_numbers", "Final Answer: 5",
                     capabilities=TEXT_ONLY)
    caller = model(reply(json_value={"name": "add_numbers", "arguments": {"a": 2, "b": 3}}),
                   "no call at all", name="caller", capabilities=["response_format"])
    result = ReActAgent(reasoner, TOOLS, call_model=caller).run("2+3?")
    assert result.of_kind("observation")[0].content == "5"
    sent = caller.calls[0]
    assert sent.tools is None and sent.response_format is not None
    assert sent.response_format.schema is not None
    assert sent.response_format.schema["properties"]["name"] == {"const": "add_numbers"}
    assert "You must call the tool add_numbers." in sent.messages[0]["content"]


def test_split_mode_a_call_step_without_a_call_is_an_error_step() -> None:
    reasoner = model("Thought: add.\nAction: add_numbers", "Final Answer: ok",
                     capabilities=TEXT_ONLY)
    caller = model("I will not call anything.", name="caller")
    result = ReActAgent(reasoner, TOOLS, call_model=caller).run("?")
    assert kinds(result) == ["error", "answer"] and "No tool call" in result.steps[0].content


# -- async and streaming -------------------------------------------------------------------
def test_arun_awaits_async_tools_and_runs_sync_ones() -> None:
    async def fetch(city: str) -> str:
        """Fetch the weather."""
        await asyncio.sleep(0)
        return f"sunny in {city}"

    llm = model([tool_call("fetch", city="Oslo"), tool_call("add_numbers", a=1, b=2)], "Done.")
    result = asyncio.run(ReActAgent(llm, [fetch, add_numbers]).arun("?"))
    assert [s.content for s in result.of_kind("observation")] == ["sunny in Oslo", "3"]
    assert all(c.is_async for c in llm.calls)
    # a sync run of an async tool runs it to completion too
    llm.add(tool_call("fetch", city="Rome"), "ok")
    assert ReActAgent(llm, [fetch]).run("?").of_kind("observation")[0].content == "sunny in Rome"


def test_stream_yields_steps_as_they_happen_and_text_deltas() -> None:
    llm = model(tool_call("add_numbers", a=1, b=2), reply(chunks=["The sum ", "is 3."]))
    run = ReActAgent(llm, TOOLS).stream("1+2?")
    with pytest.raises(RuntimeError, match="not ended"):
        _ = run.result
    events = list(run)
    assert [type(e).__name__ for e in events] == ["Step", "Step", "Delta", "Delta", "Step"]
    deltas = [e for e in events if isinstance(e, Delta)]
    assert [d.text for d in deltas] == ["The sum ", "is 3."] and deltas[0].iteration == 2
    assert run.result.answer == "The sum is 3." and llm.calls[1].stream
    with pytest.raises(RuntimeError, match="once"):
        list(run)


async def test_astream_yields_the_same_events() -> None:
    llm = model(tool_call("add_numbers", a=1, b=2), reply(chunks=["3", "!"]))
    run = ReActAgent(llm, TOOLS).astream("1+2?")
    events = [e async for e in run]
    assert [e.kind if isinstance(e, Step) else e.text for e in events] == [
        "action", "observation", "3", "!", "answer"]
    assert run.result.answer == "3!" and llm.calls[1].is_async and llm.calls[1].stream
    with pytest.raises(TypeError, match="async for"):
        list(run)


async def test_astream_turns_unreadable_calls_into_error_steps() -> None:
    bad = errors.ResponseParseError("arguments are not valid JSON")
    llm = model(bad, "fine")
    events = [e async for e in ReActAgent(llm, TOOLS).astream("?", deltas=False)]
    assert [e.kind for e in events if isinstance(e, Step)] == ["error", "answer"]
    llm.add(bad, "fine")
    events = [e async for e in ReActAgent(llm, TOOLS).astream("?")]
    assert [e.kind for e in events if isinstance(e, Step)] == ["error", "answer"]


def test_a_model_response_object_as_a_reply_keeps_its_fields() -> None:
    llm = model(ModelResponse(text="done", finish_reason="stop"))
    assert ReActAgent(llm).run("?").answer == "done"
    assert llm.calls[0].tools is None


def test_a_system_message_given_replaces_the_agents_and_stops_add_up() -> None:
    llm = model("Final Answer: ok", "fine", capabilities=TEXT_ONLY)
    agent = ReActAgent(llm, TOOLS, reasoning_args={"stop": ["END"]}, system_prompt="Ours.")
    agent.run([{"role": "system", "content": "Be terse."}, {"role": "user", "content": "?"}])
    sent = llm.calls[0]
    assert sent.messages[0]["content"].startswith("Be terse.\n\nYou have these tools:")
    assert [m["role"] for m in sent.messages] == ["system", "user"]
    assert sent.stop == ["Observation:", "END"]
    agent.run("?")
    assert llm.calls[1].messages[0]["content"].startswith("Ours.\n\n")
