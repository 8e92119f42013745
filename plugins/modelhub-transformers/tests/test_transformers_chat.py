"""transformers_chat on a tiny random-weight Llama: text, streams (sync and async),
stop strings, usage, structured output, tools, errors."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field
from transformers_fixtures import TOOLS_TEMPLATE

from modelhub import errors
from modelhub.registry import Registry
from modelhub_transformers.chat import TransformersChatWrapper

PROMPT = [{"role": "user", "content": "What is the capital of France?"}]


def chat(model_id: Path | str, **config: Any) -> TransformersChatWrapper:
    """A transformers_chat wrapper built from keyword arguments."""
    config.setdefault("max_new_tokens", 24)
    return TransformersChatWrapper(config_name="tiny", model_id=str(model_id), **config)


def test_text_usage_and_finish_reason(tiny_llama: Path) -> None:
    model = chat(tiny_llama)
    response = model(PROMPT)
    prompt_ids = model.tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True,
                                                     tokenize=True, return_dict=True)
    output_ids = response.raw["output_ids"]
    assert response.text and response.text == model.tokenizer.decode(
        output_ids, skip_special_tokens=True)
    assert response.usage is not None
    assert response.usage.input_tokens == len(prompt_ids["input_ids"])
    assert response.usage.output_tokens == len(output_ids) > 0
    assert response.usage.total_tokens == response.usage.input_tokens + len(output_ids)
    assert response.finish_reason == ("stop" if output_ids[-1] == model.tokenizer.eos_token_id
                                      else "length")
    assert response.config_name == "tiny" and response.tool_calls == []
    short = model(PROMPT, max_tokens=3)
    assert short.usage is not None and short.usage.output_tokens == 3
    assert short.finish_reason == "length" and response.text.startswith(short.text or "-")


def test_stream_equals_the_greedy_text_sync_and_async(tiny_llama: Path) -> None:
    model = chat(tiny_llama)
    whole = model(PROMPT)
    stream = model(PROMPT, stream=True)
    deltas = list(stream)
    assert len(deltas) > 1 and "".join(deltas) == whole.text == stream.text
    assert stream.usage == whole.usage and stream.finish_reason == whole.finish_reason

    async def read() -> tuple[list[str], Any]:
        astream = await model.acall(PROMPT, stream=True)
        return [d async for d in astream], astream

    adeltas, astream = asyncio.run(read())
    assert adeltas == deltas and astream.text == whole.text and astream.usage == whole.usage
    assert asyncio.run(model.acall(PROMPT)).text == whole.text


def test_many_async_calls_at_once_each_get_their_answer(tiny_llama: Path) -> None:
    model = chat(tiny_llama)
    expected = [model(p).text for p in ("Hello", "The quick brown fox")]

    async def many() -> list[str | None]:
        streams = [await model.acall(p, stream=True) for p in ("Hello", "The quick brown fox")]
        texts = await asyncio.gather(*(s.aconsume() for s in streams))
        plain = await asyncio.gather(*(model.acall(p) for p in ("Hello", "The quick brown fox")))
        return [t.text for t in texts] + [p.text for p in plain]

    assert asyncio.run(many()) == expected * 2


def _mid_token_stop(model: TransformersChatWrapper) -> tuple[str, str, int]:
    """A stop string of the greedy answer that ends inside one of its tokens: (full
    text, stop string, tokens generated without it)."""
    full = model(PROMPT, max_tokens=40)
    ids = full.raw["output_ids"]
    text = full.text or ""
    ends = set()  # where token boundaries fall in the text
    for n in range(1, len(ids) + 1):
        ends.add(len(model.tokenizer.decode(ids[:n], skip_special_tokens=True)))
    for start in range(1, len(text) - 4):
        stop = text[start:start + 3]
        if start + 3 not in ends and text.find(stop) == start and stop.strip() == stop \
                and "\ufffd" not in stop:
            return text, stop, len(ids)
    raise AssertionError(f"no stop string inside a token in {text!r}")


def test_a_stop_string_inside_a_token_ends_generation_and_is_cut(tiny_llama: Path) -> None:
    model = chat(tiny_llama, max_new_tokens=40)
    text, stop, full_length = _mid_token_stop(model)
    response = model(PROMPT, stop=[stop, "never appears"])
    assert response.text == text[:text.index(stop)]
    assert stop not in (response.text or "") and response.finish_reason == "stop"
    assert response.usage is not None and response.usage.output_tokens < full_length
    stream = model(PROMPT, stream=True, stop=stop)
    assert "".join(stream) == response.text == stream.text
    assert stream.usage == response.usage


class City(BaseModel):
    """What the structured-output test asks for."""

    city: str = Field(max_length=12)
    population: int = Field(ge=0, le=10**9)
    capital: bool


SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string", "maxLength": 10},
    "tags": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "maxItems": 3},
    "score": {"type": "number", "minimum": 0, "maximum": 1}},
    "required": ["name", "tags", "score"], "additionalProperties": False}


def test_response_format_constrains_even_random_weights_to_the_schema(tiny_llama: Path) -> None:
    model = chat(tiny_llama, max_new_tokens=80)
    free = model(PROMPT).text or ""
    with pytest.raises(ValueError):
        jsonschema.validate(json.loads(free), SCHEMA)  # not JSON by itself
    response = model(PROMPT, response_format=SCHEMA)
    jsonschema.validate(response.parsed, SCHEMA)
    parsed = model(PROMPT, response_format=City).parsed
    assert isinstance(parsed, City)
    raw = json.loads(model(PROMPT, response_format=City).text or "")
    assert set(raw) == {"city", "population", "capital"}  # a pydantic model's objects are closed
    stream = model(PROMPT, response_format=City, stream=True)
    assert "".join(stream) == stream.text and stream.parsed == parsed


# Bounded arguments: random weights would otherwise write a string until the token limit.
def get_weather(city: Literal["Paris", "Oslo"], unit: Literal["c", "f"] = "c") -> str:
    """Current weather.

    Args:
        city: The city name.
    """
    return city


def add(a: Annotated[int, Field(ge=0, le=99)], b: Annotated[int, Field(ge=0, le=99)]) -> int:
    """Add two numbers."""
    return a + b


def _prompt_text(model: TransformersChatWrapper, **kwargs: Any) -> str:
    request = model.build_request(PROMPT, **kwargs)
    inputs = model.encode(request.messages, request.tools, request.tool_choice)
    return str(model.tokenizer.decode(inputs["input_ids"][0]))


def test_tools_as_text_with_smolagents_keys(tiny_llama: Path) -> None:
    model = chat(tiny_llama, tool_name_key="tool", tool_arguments_key="args",
                 max_new_tokens=40)
    prompt = _prompt_text(model, tools=[get_weather, add])
    assert "You can call these tools" in prompt and '{"tool": "<tool name>", "args":' in prompt
    assert "You can call" not in _prompt_text(model, tools=[add], tool_choice="none")
    response = model(PROMPT, tools=[get_weather, add], tool_choice="required")
    [call] = response.tool_calls
    assert call.name in ("get_weather", "add") and response.finish_reason == "tool_calls"
    assert response.text is None
    jsonschema.validate(call.arguments, {"get_weather": {"type": "object", "required": ["city"]},
                                         "add": {"type": "object", "required": ["a", "b"]}
                                         }[call.name])
    named = model(PROMPT, tools=[get_weather, add], tool_choice="add")
    assert [c.name for c in named.tool_calls] == ["add"]
    assert set(named.tool_calls[0].arguments) == {"a", "b"}
    stream = model(PROMPT, tools=[get_weather, add], tool_choice="add", stream=True)
    assert list(stream) == [] and [c.name for c in stream.tool_calls] == ["add"]
    assert stream.tool_calls[0].arguments == named.tool_calls[0].arguments
    follow_up = model.build_request([*PROMPT, named.as_message(),
                                     {"role": "tool", "tool_call_id": named.tool_calls[0].id,
                                      "content": "42"}], tools=[add])
    text = str(model.tokenizer.decode(model.encode(follow_up.messages, follow_up.tools)[
        "input_ids"][0]))
    assert '{"tool": "add", "args": {' in text and "Result of add (call call_" in text


def test_tools_through_a_chat_template_that_takes_them(tiny_llama: Path) -> None:
    model = chat(tiny_llama, apply_chat_template_kwargs={"chat_template": TOOLS_TEMPLATE},
                 max_new_tokens=40)
    prompt = _prompt_text(model, tools=[add])
    assert prompt.startswith("<|im_start|>system\nTools: [{") and '"name": "add"' in prompt
    assert "You can call these tools" not in prompt
    response = model(PROMPT, tools=[add], tool_choice="required")
    assert [c.name for c in response.tool_calls] == ["add"]
    history = model.build_request([*PROMPT, response.as_message()])
    text = str(model.tokenizer.decode(model.encode(history.messages)["input_ids"][0]))
    assert '<tool_call>{"name": "add", "arguments": {"a": ' in text
    text_mode = chat(tiny_llama, apply_chat_template_kwargs={"chat_template": TOOLS_TEMPLATE},
                     tool_protocol="text")
    assert "You can call these tools" in _prompt_text(text_mode, tools=[add])


def test_closing_a_stream_stops_generating_and_frees_the_model(tiny_llama: Path) -> None:
    model = chat(tiny_llama, max_new_tokens=1000)
    stream = model(PROMPT, stream=True, temperature=1.0, top_k=300)
    next(iter(stream))
    started = time.monotonic()
    stream.close()
    threads = [t for t in threading.enumerate() if t.name == "modelhub-transformers-generate"]
    assert not any(t.is_alive() for t in threads)
    assert time.monotonic() - started < 5
    assert model(PROMPT, max_tokens=2).usage is not None  # the lock was released


def test_errors(tiny_llama: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = chat(tiny_llama)
    with pytest.raises(errors.BadRequestError, match="no_such_generate_argument") as caught:
        model(PROMPT, no_such_generate_argument=1)
    assert caught.value.config_name == "tiny" and caught.value.provider == "transformers"
    with pytest.raises(errors.BadRequestError):
        list(model(PROMPT, stream=True, no_such_generate_argument=1))
    with pytest.raises(errors.InvalidArgumentError, match="temperature"):
        model(PROMPT, temprature=0.5)
    with pytest.raises(errors.UnsupportedFeatureError, match="image_url"):
        model([{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}])
    with pytest.raises(errors.ConfigError, match="cannot load the model at") as missing:
        chat(tmp_path / "nowhere")
    assert missing.value.config_name == "tiny" and missing.value.field == "model_id"
    bare = tmp_path / "no-template"
    bare.mkdir()
    for item in tiny_llama.iterdir():
        if item.name != "chat_template.jinja":
            (bare / item.name).write_bytes(item.read_bytes())
    with pytest.raises(errors.ConfigError, match="has no chat template"):
        chat(bare)
    assert chat(bare, apply_chat_template_kwargs={"chat_template": TOOLS_TEMPLATE})(
        PROMPT, max_tokens=2).usage is not None

    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llguidance" else real(name, *a))
    TransformersChatWrapper.check_dependencies.__func__.cache_clear()  # type: ignore[attr-defined]
    with pytest.raises(errors.MissingDependencyError,
                       match=r"'llguidance'.*pip install modelhub-transformers"):
        chat(tiny_llama)


def test_configs_validate_without_loading_anything(tiny_llama: Path) -> None:
    registry = Registry()
    names = registry.init([
        {"config_name": "a", "model_type": "transformers_chat", "model_id": "x/model.Q4.gguf",
         "dtype": "bfloat16", "max_tokens": 7, "generate_args": {"temperature": 0.2}},
        {"config_name": "b", "model_type": "transformers_chat", "model_id": str(tiny_llama),
         "adapters": {"fc": "/a", "math": "/b"}, "default_adapter": "math",
         "device_map": "cpu", "trust_remote_code": False, "model_kwargs": {"revision": "x"},
         "apply_chat_template_kwargs": {"enable_thinking": False}, "tool_name_key": "tool",
         "tool_arguments_key": "args", "stream": True}])
    assert names == ["a", "b"]
    a = registry.entry("a").config
    assert (a.model_id, a.gguf_file, a.torch_dtype, a.max_new_tokens) == (  # type: ignore[attr-defined]
        "x", "model.Q4.gguf", "bfloat16", 7)
    assert registry.entry("b").config.default_adapter_name() == "math"  # type: ignore[attr-defined]
    bad = [
        ({"adapter": "/a", "adapters": {"b": "/b"}}, "not both"),
        ({"adapters": {"fc": "/a"}, "default_adapter": "math"}, "'math' is not among"),
        ({"generate_args": {"max_new_token": 3}}, "did you mean 'max_new_tokens'"),
        ({"temperature": 0.3}, "did you mean 'generate_args.temperature'"),
        ({"torch_dtype": "float8"}, "torch_dtype"),
        ({"tool_protocol": "xml"}, "tool_protocol"),
    ]
    for extra, message in bad:
        with pytest.raises(errors.ConfigError, match=message):
            Registry().init({"config_name": "c", "model_type": "transformers_chat",
                             "model_id": "m", **extra})
    with pytest.raises(errors.ConfigError, match="model_id"):
        Registry().init({"config_name": "c", "model_type": "transformers_chat"})


def test_a_budget_limits_an_answer_that_names_no_limit(tiny_llama: Path) -> None:
    from modelhub.calls.estimate import input_tokens

    reg = Registry()
    reg.init({"config_name": "tiny-budget", "model_type": "transformers_chat",
              "model_id": str(tiny_llama), "max_new_tokens": 24,
              "budget": {"tokens": input_tokens(PROMPT) + 4}})
    model = reg.get("tiny-budget")
    response = model(PROMPT, temperature=0)
    assert response.usage is not None and 1 <= response.usage.output_tokens <= 4
    assert response.raw["output_ids"] and len(response.raw["output_ids"]) <= 4
    reg = Registry()
    reg.init({"config_name": "tiny-budget", "model_type": "transformers_chat",
              "model_id": str(tiny_llama), "max_new_tokens": 6,
              "budget": {"tokens": 100_000}})
    response = reg.get("tiny-budget")(PROMPT, temperature=0)  # the config's own limit
    assert response.usage is not None and response.usage.output_tokens <= 6
