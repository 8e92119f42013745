"""Fixtures of the modelhub-transformers tests: tiny real models made once per session,
no hub (offline mode), and a modelhub cache folder of the test run's own."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before transformers is imported: never ask a hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch
from transformers_fixtures import build_gguf, build_llama, build_lora

# One thread: the suite runs on two workers (-n 2) of a 2-core machine, and the other
# worker runs tests that measure time.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def modelhub_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The modelhub cache of each test: a folder of its own, never the user's, removed
    afterwards (converted weights are large)."""
    folder = Path(tempfile.mkdtemp(prefix="modelhub-cache-"))
    monkeypatch.setenv("MODELHUB_CACHE_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def models() -> Iterator[Path]:
    """The folder the session's models are made in."""
    folder = Path(tempfile.mkdtemp(prefix="modelhub-transformers-models-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def tiny_llama(models: Path) -> Path:
    """A tiny random-weight Llama and its tokenizer."""
    return build_llama(models / "tiny-llama")


@pytest.fixture(scope="session")
def lora_q(models: Path, tiny_llama: Path) -> Path:
    """A LoRA adapter on the attention queries and values of the tiny Llama."""
    return build_lora(tiny_llama, models / "lora-q", seed=1, targets=["q_proj", "v_proj"])


@pytest.fixture(scope="session")
def lora_o(models: Path, tiny_llama: Path) -> Path:
    """Another adapter, on the attention outputs."""
    return build_lora(tiny_llama, models / "lora-o", seed=2, targets=["o_proj"])


@pytest.fixture(scope="session")
def larger_llama(models: Path) -> Path:
    """A random Llama of about 30 MB, for memory measurements."""
    return build_llama(models / "larger-llama", hidden=384, layers=4, intermediate=1024)


@pytest.fixture
def tiny_gguf(tmp_path: Path, tiny_llama: Path) -> Path:
    """The tiny Llama as a GGUF file (in a folder of the test's own, so it may change)."""
    return build_gguf(tiny_llama, tmp_path / "tiny.gguf")
