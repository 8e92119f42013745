"""The `modelhub serve` command itself: a real child process on 127.0.0.1 (its address
printed first, loopback by default, a key from MODELHUB_SERVE_KEY, a clean stop on
SIGTERM), and what it says when it cannot serve."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from modelhub.cli import main
from tests.serving import modelhub_command, run_command


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    path = tmp_path / "serve.yaml"
    path.write_text(yaml.safe_dump([
        {"config_name": "echo", "model_type": "echo_chat"},
        {"config_name": "painter", "model_type": "openai_dall_e",
         "base_url": "http://127.0.0.1:9/v1"}]))
    return path


def _address(line: str) -> str:
    assert line.startswith("modelhub serve: echo at "), line
    return line.split(" at ", 1)[1].split("/v1", 1)[0]


def test_serves_on_loopback_and_stops_on_sigterm(configs: Path) -> None:
    with run_command(modelhub_command("--config", str(configs), "serve", "--port", "0",
                                      "--log-level", "warning")) as child:
        url = _address(child.first_line())
        assert url.startswith("http://127.0.0.1:")
        client = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0)
        answer = client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "from a child"}])
        assert answer.choices[0].message.content == "echo: from a child"
        assert "not serving painter" in child.stderr() and "image" in child.stderr()
        child.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then exits by the signal it caught.
        assert child.process.wait(15) in (0, -signal.SIGTERM)


def test_key_from_the_environment(configs: Path) -> None:
    key = "serve-env-key-42"
    with run_command(modelhub_command("--config", str(configs), "serve", "echo", "--port", "0",
                                      "--log-level", "warning"),
                     env={"MODELHUB_SERVE_KEY": key}) as child:
        url = _address(child.first_line())
        chat = {"model": "echo", "messages": [{"role": "user", "content": "k"}]}
        assert httpx.post(url + "/v1/chat/completions", json=chat).status_code == 401
        ok = httpx.post(url + "/v1/chat/completions", json=chat,
                        headers={"authorization": f"Bearer {key}"})
        assert ok.status_code == 200
        # AgentScope's POST config carries it as a header.
        from modelhub.registry import Registry

        registry = Registry()
        registry.init([{"config_name": "as", "model_type": "post_api_chat",
                        "api_url": url + "/llm/",
                        "headers": {"Authorization": "Bearer ${MODELHUB_SERVE_KEY}"}}],
                      environ={"MODELHUB_SERVE_KEY": key})
        assert registry.get("as")("over POST").text == "echo: over POST"
        assert key not in child.stderr()


def test_warns_when_reachable_from_elsewhere_without_a_key(
        capsys: pytest.CaptureFixture[str], configs: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import modelhub.serve as server

    real_bind = server.bind
    served: list[Any] = []
    monkeypatch.setattr(server, "bind", lambda host, port: real_bind("127.0.0.1", 0))
    monkeypatch.setattr(server, "run", lambda app, sock, **kw: served.append(sock.close()))
    monkeypatch.delenv("MODELHUB_SERVE_KEY", raising=False)
    assert main(["--config", str(configs), "serve", "echo", "--host", "0.0.0.0"]) == 0
    assert "warning: serving on 0.0.0.0 with no API key" in capsys.readouterr().err
    assert main(["--config", str(configs), "serve", "echo", "--host", "0.0.0.0",
                 "--api-key", "k"]) == 0
    assert main(["--config", str(configs), "serve", "echo"]) == 0
    assert "warning" not in capsys.readouterr().err and len(served) == 3


def test_what_it_says_when_it_cannot_serve(capsys: pytest.CaptureFixture[str],
                                           configs: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["--config", str(configs), "serve", "painter"]) == 1
    assert "image" in capsys.readouterr().err
    assert main(["--config", str(configs), "serve", "nope"]) == 1
    assert "no model config named 'nope'" in capsys.readouterr().err

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert main(["--config", str(configs), "serve"]) == 1
    assert "pip install 'modelhub[serve]'" in capsys.readouterr().err
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("tqdm", "ray") else real(name, *a))
    assert main(["--config", str(configs), "batch", "echo", str(configs), "-o", "o"]) == 1
    assert "pip install 'modelhub[batch]'" in capsys.readouterr().err
    assert main(["--config", str(configs), "batch", "echo", str(configs), "-o", "o",
                 "--no-progress", "--ray", "auto"]) == 1
    assert "pip install 'modelhub[ray]'" in capsys.readouterr().err


def test_the_cli_imports_no_server_or_job_machinery() -> None:
    code = ("import sys, modelhub.cli; print(sorted(m for m in ('starlette', 'uvicorn', "
            "'anyio', 'tqdm', 'ray', 'httpx', 'modelhub.serve', 'modelhub.batch') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
