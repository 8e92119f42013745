"""The machinery of `modelhub agent NAME "question" --tools module.py`: tools loaded
from a Python file or module, and each step printed as it happens."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from modelhub.agents.react import Mode, ReActAgent
from modelhub.agents.steps import AgentResult, Delta, Step
from modelhub.tools import Tool

if TYPE_CHECKING:
    from modelhub.registry import Registry

__all__ = ["build_agent", "load_tools", "print_run"]

Echo = Callable[..., None]


def _module(source: str) -> ModuleType:
    """A Python file (`tools.py`, `dir/tools.py`) or an importable module name."""
    if source.endswith(".py") or os.sep in source or "/" in source:
        path = os.path.abspath(source)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"--tools {source}: no such file")
        name = "modelhub_agent_tools_" + os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"--tools {source}: cannot be imported")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pydantic look their module up
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(source)


def load_tools(source: str) -> list[Any]:
    """The tools of `source`: `file.py` or `package.module`, optionally followed by
    `:name,name` to pick some. Without names: the module's `TOOLS` list if it has one,
    else what `__all__` names, else every public function (or Tool) defined in it."""
    where, _, picked = source.rpartition(":") if source.count(":") and not \
        os.path.isfile(source) else (source, "", "")
    module = _module(where or source)
    if picked:
        names = [n.strip() for n in picked.split(",") if n.strip()]
        missing = [n for n in names if not callable(getattr(module, n, None))]
        if missing:
            raise AttributeError(f"--tools {source}: {', '.join(missing)} not found (or not "
                                 "callable)")
        return [getattr(module, n) for n in names]
    if isinstance(getattr(module, "TOOLS", None), (list, tuple)):
        return list(module.TOOLS)
    if isinstance(getattr(module, "__all__", None), (list, tuple)):
        return [getattr(module, n) for n in module.__all__ if callable(getattr(module, n))]
    return [value for name, value in vars(module).items() if not name.startswith("_") and (
        isinstance(value, Tool) or (inspect.isfunction(value)
                                    and value.__module__ == module.__name__))]


class _Printer:
    """Prints each step to stdout as it comes; the model's text as it streams goes to
    stderr, dimmed, so stdout holds the steps alone."""

    def __init__(self, echo: Echo, style: Callable[..., str]) -> None:
        self._echo, self._style = echo, style
        self._streaming = False

    def __call__(self, event: Step | Delta) -> None:
        if isinstance(event, Delta):
            self._streaming = True
            self._echo(self._style(event.text, dim=True), nl=False, err=True)
            return
        if self._streaming:
            self._echo("", err=True)
            self._streaming = False
        label = self._style(f"{event.kind.capitalize()}:", bold=True)
        self._echo(f"{label} {event.content}")


def build_agent(registry: Registry, name: str, tool_sources: Sequence[str], *,
                call_model: str | None, max_iterations: int, mode: Mode,
                system: str | None) -> ReActAgent:
    """The agent the command asks for, its tools loaded from `tool_sources`."""
    tools: list[Any] = []
    for source in tool_sources:
        tools += load_tools(source)
    return ReActAgent(name, tools, max_iterations=max_iterations, call_model=call_model,
                      mode=mode, system_prompt=system, registry=registry)


def print_run(agent: ReActAgent, question: str, *, stream: bool, echo: Echo,
              style: Callable[..., str]) -> AgentResult:
    """Run the agent, printing each step as it happens; the result."""
    run = agent.stream(question, deltas=stream)
    show = _Printer(echo, style)
    for event in run:
        show(event)
    return run.result
