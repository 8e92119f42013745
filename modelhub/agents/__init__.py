"""Agents on any configured chat model.

    from modelhub.agents import ReActAgent

    agent = ReActAgent(model="gpt-4o-mini", tools=[add_numbers, square_number])
    result = agent.run("What is (3 + 4) squared?")
    result.answer, result.steps          # every thought, action, observation, answer

See `modelhub.agents.react` for the three ways the agent acts (native tool calls, the
ReAct text protocol, a second config for the calls) and `modelhub.tools` for tools.
"""

from __future__ import annotations

from modelhub.agents.react import AgentRun, ReActAgent
from modelhub.agents.steps import AgentResult, Delta, Step, StepKind

__all__ = ["AgentResult", "AgentRun", "Delta", "ReActAgent", "Step", "StepKind"]
