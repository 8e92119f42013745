"""`modelhub agent NAME "question" --tools module.py`: tools from a file or module,
each step printed as it happens (the model's streamed text on stderr)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
import yaml

from modelhub.agents.console import build_agent, load_tools, print_run
from modelhub.cli import main
from modelhub.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
MATH_TOOLS = ROOT / "examples" / "agent" / "math_tools.py"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    path = tmp_path / "agents.yaml"
    path.write_text(yaml.safe_dump([
        {"config_name": "native", "model_type": "scripted", "responses": [
            {"text": "Adding.", "tool_calls": [{"name": "add_numbers",
                                                "arguments": {"a": 3, "b": 4}}]},
            {"tool_calls": [{"name": "square_number", "arguments": {"n": 7}}]},
            {"chunks": ["It is ", "49."]}]},
        {"config_name": "reasoner", "model_type": "scripted", "capabilities": ["streaming"],
         "responses": ["Thought: add.\nAction: add_numbers", "Final Answer: 7"]},
        {"config_name": "caller", "model_type": "scripted", "responses": [
            {"tool_calls": [{"name": "add_numbers", "arguments": {"a": 3, "b": 4}}]}]},
        {"config_name": "text", "model_type": "scripted", "capabilities": ["streaming"],
         "responses": ['Thought: square.\nAction: {"name": "square_number", "arguments": {"n": 3}}',
                       "Final Answer: 9"]},
    ]))
    return path


def test_each_step_is_printed(capsys: pytest.CaptureFixture[str], configs: Path) -> None:
    code, out, err = run(capsys, "--config", str(configs), "agent", "native",
                         "What is (3 + 4) squared?", "--tools", str(MATH_TOOLS))
    assert code == 0
    assert out.splitlines() == [
        "Thought: Adding.", 'Action: add_numbers({"a": 3, "b": 4})', "Observation: 7",
        'Action: square_number({"n": 7})', "Observation: 49", "Answer: It is 49."]
    assert "It is 49." in err  # streamed as it came, apart from the steps


def test_no_stream_split_and_text_modes(capsys: pytest.CaptureFixture[str],
                                        configs: Path) -> None:
    code, out, err = run(capsys, "--config", str(configs), "agent", "reasoner", "3+4?",
                         "--tools", f"{MATH_TOOLS}:add_numbers", "--call-model", "caller",
                         "--no-stream")
    assert code == 0 and err == ""
    assert out.splitlines() == ["Thought: add.", 'Action: add_numbers({"a": 3, "b": 4})',
                                "Observation: 7", "Answer: 7"]
    code, out, _ = run(capsys, "--config", str(configs), "agent", "text", "3^2?", "--tools",
                       str(MATH_TOOLS), "--mode", "text", "--max-iterations", "3")
    assert code == 0 and out.splitlines()[-2:] == ["Observation: 9", "Answer: 9"]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--tools", "no/such/file.py"], 2, "no such file"),
    (["--tools", f"{MATH_TOOLS}:cube"], 2, "cube not found"),
    (["--tools", "no_such_module_xyz"], 2, "No module named 'no_such_module_xyz'"),
    (["--max-iterations", "0"], 2, "0 is not in the range"),
    (["--call-model", "nope"], 1, "no model config named 'nope'"),
])
def test_errors(capsys: pytest.CaptureFixture[str], configs: Path, args: list[str], code: int,
                message: str) -> None:
    got, _, err = run(capsys, "--config", str(configs), "agent", "native", "?", *args)
    assert got == code and message in err


def test_tools_from_a_module_a_tools_list_and_all(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert [t.__name__ for t in load_tools(str(MATH_TOOLS))] == ["add_numbers", "square_number"]
    listed = tmp_path / "listed.py"
    listed.write_text("from math import floor\n\ndef a(x: int) -> int:\n    return x\n\n"
                      "def b(x: int) -> int:\n    return x\n\nTOOLS = [b]\n")
    assert [t.__name__ for t in load_tools(str(listed))] == ["b"]
    named = tmp_path / "named_tools.py"
    named.write_text("from modelhub.tools import tool\nfrom math import floor\n\n"
                     "@tool\ndef t(x: int) -> int:\n    '''T.'''\n    return x\n\n"
                     "def helper(x: int) -> int:\n    return x\n\n"
                     "def _private() -> None:\n    pass\n\n__all__ = ['t', 'floor']\n")
    assert [getattr(t, "name", getattr(t, "__name__", None)) for t in load_tools(str(named))] \
        == ["t", "floor"]
    monkeypatch.syspath_prepend(str(tmp_path))
    found = load_tools("named_tools")
    assert [getattr(t, "name", getattr(t, "__name__", None)) for t in found] == ["t", "floor"]
    assert [t.__name__ for t in load_tools("named_tools:helper")] == ["helper"]


def test_steps_are_printed_before_the_run_goes_on(configs: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import modelhub.agents.console as console

    printed: list[str] = []

    def add_numbers(a: int, b: int) -> int:
        """Add."""
        assert printed[-1].startswith("Action: add_numbers")  # shown before it runs
        return a + b

    def square_number(n: int) -> int:
        """Square."""
        assert printed[-1] == "Observation: 7"
        return n * n

    def echo(text: str = "", *, nl: bool = True, err: bool = False) -> None:
        if not err:
            printed.append(text)

    monkeypatch.setattr(console, "load_tools", lambda source: [add_numbers, square_number])
    registry = Registry()
    registry.init(str(configs))
    agent = build_agent(registry, "native", ["tools.py"], call_model=None, max_iterations=5,
                        mode="auto", system=None)
    result = print_run(agent, "?", stream=True, echo=echo,
                       style=lambda text, **_: click.unstyle(text))
    assert result.answer == "It is 49." and printed[-1] == "Answer: It is 49."
    assert len(result.of_kind("observation")) == 2
