"""LoRA adapters on and off, configs sharing one base model, and the GGUF cache."""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path
from typing import Any

import psutil
import pytest
import torch
from transformers import AutoModelForCausalLM
from transformers_fixtures import build_gguf, build_llama

from modelhub import errors
from modelhub.registry import Registry
from modelhub_transformers.chat import TransformersChatWrapper
from modelhub_transformers.gguf_cache import CACHE_NAME

PROMPT = [{"role": "user", "content": "What is the capital of France?"}]


def chat(model_id: Path | str, name: str = "tiny", **config: Any) -> TransformersChatWrapper:
    """A transformers_chat wrapper built from keyword arguments."""
    config.setdefault("max_new_tokens", 12)
    return TransformersChatWrapper(config_name=name, model_id=str(model_id), **config)


def reference_logits(folder: Path, model: TransformersChatWrapper) -> torch.Tensor:
    """The next-token logits of the model in `folder`, loaded apart with no adapter."""
    base = AutoModelForCausalLM.from_pretrained(folder)
    inputs = model.encode(PROMPT)
    with torch.inference_mode():
        return base(**inputs).logits[0, -1].float()


def test_adapter_off_is_exactly_the_base_and_on_differs(tiny_llama: Path, lora_q: Path,
                                                        lora_o: Path) -> None:
    model = chat(tiny_llama, adapters={"fc": str(lora_q), "think": str(lora_o)})
    base = reference_logits(tiny_llama, model)
    assert model.adapters == ["fc", "think"]
    on = model.logits(PROMPT)  # the config's default: the first adapter
    assert torch.equal(model.logits(PROMPT, adapter="fc"), on)
    think = model.logits(PROMPT, adapter="think")
    assert not torch.allclose(on, base) and not torch.allclose(think, base)
    assert not torch.allclose(on, think)
    for off in ({"adapter": None}, {"use_adapter": False}):
        assert torch.equal(model.logits(PROMPT, **off), base)
    assert torch.equal(model.logits(PROMPT, use_adapter=True), on)
    # generation follows: off answers as the base model does
    plain = chat(tiny_llama, name="plain")
    assert model(PROMPT, adapter=None).text == plain(PROMPT).text
    assert model(PROMPT).raw["output_ids"] != model(PROMPT, adapter=None).raw["output_ids"]


def test_config_defaults_and_unknown_adapters(tiny_llama: Path, lora_q: Path,
                                              lora_o: Path) -> None:
    off_by_default = chat(tiny_llama, adapter=str(lora_q), use_adapter=False)
    on = chat(tiny_llama, name="on", adapters={"a": str(lora_q), "b": str(lora_o)},
              default_adapter="b")
    base = reference_logits(tiny_llama, on)
    assert torch.equal(off_by_default.logits(PROMPT), base)
    assert off_by_default.adapters == ["default"]
    assert not torch.equal(off_by_default.logits(PROMPT, use_adapter=True), base)
    assert torch.equal(on.logits(PROMPT), on.logits(PROMPT, adapter="b"))
    with pytest.raises(errors.UnsupportedFeatureError,
                       match=r"has no adapter 'c' loaded \(its adapters: a, b\)"):
        on(PROMPT, adapter="c")
    with pytest.raises(errors.UnsupportedFeatureError, match="contradict"):
        on(PROMPT, adapter="a", use_adapter=False)
    with pytest.raises(errors.UnsupportedFeatureError, match="has no adapter"):
        chat(tiny_llama, name="none")(PROMPT, use_adapter=True)
    with pytest.raises(errors.InvalidArgumentError, match="did you mean 'adapter'"):
        on(PROMPT, adaptor="a")
    with pytest.raises(errors.ConfigError, match="cannot load the adapter") as caught:
        chat(tiny_llama, name="broken", adapters={"x": str(tiny_llama / "nope")})
    assert caught.value.field == "adapters.x"


def test_two_configs_share_one_base_model(larger_llama: Path, tmp_path: Path) -> None:
    from transformers_fixtures import build_lora

    lora = build_lora(larger_llama, tmp_path / "lora", seed=3, targets=["q_proj"])
    registry = Registry()
    registry.init([
        {"config_name": "agent", "model_type": "transformers_chat",
         "model_id": str(larger_llama), "adapter": str(lora), "max_new_tokens": 4},
        {"config_name": "reasoner", "model_type": "transformers_chat",
         "model_id": str(larger_llama) + "/", "max_new_tokens": 4}])  # spelled otherwise
    process = psutil.Process()
    agent = registry.get("agent", TransformersChatWrapper)
    agent(PROMPT)  # every weight read once: resident now, however it was loaded
    one = process.memory_info().rss
    reasoner = registry.get("reasoner", TransformersChatWrapper)
    reasoner(PROMPT)
    two = process.memory_info().rss
    assert agent.base_model is reasoner.base_model and agent.tokenizer is reasoner.tokenizer

    def storages(*models: Any) -> dict[int, int]:
        return {p.untyped_storage().data_ptr(): p.untyped_storage().nbytes()
                for m in models for p in m.base_model.parameters()}

    weights = sum(storages(agent).values())
    assert weights > 20_000_000 and storages(agent, reasoner) == storages(agent)
    assert two - one < 0.2 * weights  # the second config read no second copy
    assert torch.equal(reasoner.logits(PROMPT), reference_logits(larger_llama, reasoner))
    assert not torch.equal(agent.logits(PROMPT), reasoner.logits(PROMPT))
    other_dtype = chat(larger_llama, name="bf16", torch_dtype="bfloat16")
    assert other_dtype.base_model is not agent.base_model  # other weights in memory


def _converted(caplog: pytest.LogCaptureFixture) -> bool:
    return any("converting" in r.getMessage() for r in caplog.records)


def test_gguf_is_converted_once_and_reconverted_when_it_changes(
        tiny_gguf: Path, tiny_llama: Path, modelhub_cache: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "modelhub.transformers")
    first = chat(tiny_gguf)  # model_id names the .gguf file itself
    assert _converted(caplog)
    [entry] = os.listdir(modelhub_cache / CACHE_NAME)
    text = first(PROMPT).text
    del first
    gc.collect()
    caplog.clear()
    second = chat(tiny_gguf.parent, gguf_file=tiny_gguf.name)
    assert not _converted(caplog) and second(PROMPT).text == text
    assert os.listdir(modelhub_cache / CACHE_NAME) == [entry]
    del second
    gc.collect()
    other = build_llama(tmp_path / "other", seed=7)
    build_gguf(other, tiny_gguf)  # the same file, new weights
    changed = chat(tiny_gguf)
    assert _converted(caplog)
    [new_entry] = os.listdir(modelhub_cache / CACHE_NAME)  # the old one is gone
    assert new_entry != entry
    reference = AutoModelForCausalLM.from_pretrained(tiny_gguf.parent, gguf_file=tiny_gguf.name)
    inputs = changed.encode(PROMPT)
    with torch.inference_mode():
        assert torch.equal(changed.logits(PROMPT), reference(**inputs).logits[0, -1].float())


def test_gguf_without_the_cache(tiny_gguf: Path, modelhub_cache: Path,
                                monkeypatch: pytest.MonkeyPatch,
                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "modelhub.transformers")
    chat(tiny_gguf, gguf_cache=False)
    assert _converted(caplog) and not (modelhub_cache / CACHE_NAME).exists()
    monkeypatch.setenv("MODELHUB_CACHE_DIR", "")
    caplog.clear()
    chat(tiny_gguf, name="again")(PROMPT)
    assert any("the cache is off" in r.getMessage() for r in caplog.records)
