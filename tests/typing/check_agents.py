"""Checked by `mypy` in CI (never run): the agent and tool surface is typed. A
`# type: ignore[...]` below marks a line that must fail."""

from __future__ import annotations

from typing_extensions import assert_type

from modelhub.agents import AgentResult, AgentRun, Delta, ReActAgent, Step
from modelhub.response import ToolCall
from modelhub.tools import Tool, Toolbox, ToolResult, tool


@tool
def add_numbers(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def tools() -> None:
    assert_type(add_numbers, Tool)
    box = Toolbox([add_numbers, print])
    assert_type(box.run(ToolCall("c", "add_numbers", {"a": 1})), ToolResult)
    assert_type(box.run(ToolCall("c", "x", {})).ok, bool)
    add_numbers.spce  # type: ignore[attr-defined]


def agents() -> None:
    agent = ReActAgent("gpt", [add_numbers], max_iterations=3)
    result = agent.run("?")
    assert_type(result, AgentResult)
    assert_type(result.answer, str | None)
    assert_type(result.steps, list[Step])
    run = agent.stream("?")
    assert_type(run, AgentRun)
    for event in run:
        assert_type(event, Step | Delta)
    ReActAgent("gpt", max_iteration=3)  # type: ignore[call-arg]
    result.anwser  # type: ignore[attr-defined]


async def async_agents() -> None:
    agent = ReActAgent("gpt", [add_numbers])
    assert_type(await agent.arun("?"), AgentResult)
    async for event in agent.astream("?"):
        assert_type(event, Step | Delta)
