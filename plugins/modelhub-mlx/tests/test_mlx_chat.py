"""mlx_chat: configs validate and the parts that need no MLX work on any machine; the
wrapper itself runs on Apple silicon only (those tests skip elsewhere, saying so)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from modelhub import errors
from modelhub.plugin import ToolTextProtocol
from modelhub.registry import Registry
from modelhub_mlx.chat import MLXChatWrapper, on_apple_silicon
from modelhub_mlx.generation import Generation, sampling_options

APPLE = on_apple_silicon()
needs_apple = pytest.mark.skipif(not APPLE, reason="mlx_chat runs only on Apple silicon "
                                                   "(macOS on arm64)")
SMOLAGENTS_OPTIONS = {
    "model_id": "mlx-community/Qwen2.5-0.5B-Instruct-4bit", "trust_remote_code": True,
    "load_kwargs": {"adapter_path": "adapters/fc"},
    "apply_chat_template_kwargs": {"enable_thinking": False}, "tool_name_key": "tool",
    "tool_arguments_key": "args", "max_tokens": 64, "stream": True,
    "generate_args": {"temperature": 0.2, "top_p": 0.9}}


def test_configs_with_every_option_validate_anywhere() -> None:
    registry = Registry()
    assert registry.init({"config_name": "q", "model_type": "mlx_chat",
                          **SMOLAGENTS_OPTIONS}) == ["q"]
    config = registry.entry("q").config
    assert config.max_tokens == 64 and config.tool_name_key == "tool"  # type: ignore[attr-defined]
    alias = Registry()
    alias.init({"config_name": "q", "model_type": "mlx_chat", "model_id": "m",
                "max_new_tokens": 9})
    assert alias.entry("q").config.max_tokens == 9  # type: ignore[attr-defined]
    for extra, message in (({"generate_args": {"temprature": 1}}, "did you mean 'temperature'"),
                           ({"top_p": 0.5}, "generate_args.top_p"),
                           ({"load_kwarg": {}}, "did you mean 'load_kwargs'"),
                           ({"max_tokens": 0}, "max_tokens")):
        with pytest.raises(errors.ConfigError, match=message):
            Registry().init({"config_name": "q", "model_type": "mlx_chat", "model_id": "m",
                             **extra})


@pytest.mark.skipif(APPLE, reason="on Apple silicon mlx_chat builds")
def test_building_off_apple_silicon_says_why_it_cannot() -> None:
    registry = Registry()
    registry.init({"config_name": "q", "model_type": "mlx_chat", "model_id": "m"})
    with pytest.raises(errors.PluginLoadError,
                       match=r"runs only on Apple silicon \(macOS on arm64\); this machine is "
                             r".*use 'transformers_chat'") as caught:
        registry.get("q")
    assert caught.value.model_type == "mlx_chat"
    assert caught.value.distribution == "modelhub-mlx"


def test_sampling_options_split_for_mlx_lm() -> None:
    assert sampling_options({"temperature": 0.3, "top_k": 5, "repetition_penalty": 1.1,
                             "max_new_tokens": 7, "seed": 1}, 512) == (
        7, {"temp": 0.3, "top_k": 5}, {"repetition_penalty": 1.1}, {"seed": 1})
    assert sampling_options({}, 512)[0] == 512
    assert sampling_options({"max_tokens": 3, "max_new_tokens": 9}, 512)[0] == 3


@dataclass
class Event:
    """What mlx_lm.stream_generate yields per token (the fields read here)."""

    text: str
    prompt_tokens: int
    generation_tokens: int
    finish_reason: str | None = None


def events(pieces: list[str], *, prompt: int = 11, finish: str | None = "stop",
           log: list[str] | None = None) -> Iterator[Event]:
    """Events as mlx-lm makes them; `log` records how far they were read."""
    for i, piece in enumerate(pieces, 1):
        if log is not None:
            log.append(piece)
        yield Event(piece, prompt, i, finish if i == len(pieces) else None)


def generation(pieces: list[str], **kwargs: Any) -> Generation:
    return Generation(events(pieces, finish=kwargs.pop("finish", "stop"),
                             log=kwargs.pop("log", None)),
                      protocol=kwargs.pop("protocol", ToolTextProtocol()),
                      stops=kwargs.pop("stops", None), tools=kwargs.pop("tools", None),
                      model="m")


def test_text_usage_and_finish_from_events() -> None:
    run = generation(["The capital", " of France", " is Paris."])
    assert "".join(run.deltas()) == "The capital of France is Paris."
    response = run.response()
    assert response.text == "The capital of France is Paris." and response.finish_reason == "stop"
    assert response.usage is not None and (response.usage.input_tokens,
                                           response.usage.output_tokens) == (11, 3)
    run = generation(["a", "b"], finish="length")
    list(run.deltas())
    assert run.response().finish_reason == "length"


def test_a_stop_string_ends_generation_and_is_cut() -> None:
    log: list[str] = []
    run = generation(["Paris", " is nice.", "\nUs", "er: more", " never read"], stops=["\nUser:"],
                     log=log)
    assert "".join(run.deltas()) == "Paris is nice."
    response = run.response()
    assert response.text == "Paris is nice." and response.finish_reason == "stop"
    assert log[-1] == "er: more"  # nothing was generated after the stop string appeared
    assert response.usage is not None and response.usage.output_tokens == 4


def test_tool_calls_with_smolagents_keys() -> None:
    tools = [{"type": "function", "function": {"name": "search", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}}}}]
    pieces = ['Searching. {"tool": "sea', 'rch", "args": {"q": "Paris"}}']
    run = generation(pieces, tools=tools, protocol=ToolTextProtocol("tool", "args"))
    assert "".join(run.deltas()) == "Searching. "
    response = run.response()
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("search", {"q": "Paris"})]
    assert response.finish_reason == "tool_calls" and response.text == "Searching."


@needs_apple
def test_a_real_mlx_model_answers_streams_and_stops() -> None:  # pragma: no cover - Apple
    model_id = os.environ.get("MODELHUB_MLX_TEST_MODEL")
    if not model_id:
        pytest.skip("set MODELHUB_MLX_TEST_MODEL to a local MLX model folder")
    model = MLXChatWrapper(config_name="m", model_id=model_id, max_tokens=32)
    answer = model("What is the capital of France?")
    assert "Paris" in (answer.text or "") and answer.usage is not None
    stream = model("What is the capital of France?", stream=True)
    assert "".join(stream) == stream.text

    async def read() -> str:
        astream = await model.acall("Count: one, two,", stream=True, stop=["four"])
        return "".join([d async for d in astream])

    assert "four" not in asyncio.run(read())
    with pytest.raises(errors.UnsupportedFeatureError):
        model("hi", response_format={"type": "json_object"})
