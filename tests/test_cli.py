"""The modelhub CLI: list, validate, show, plugins, schema, chat."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from modelhub.cli import main
from tests.openai_server import OpenAIServer

CANARY = "sk-canary-0dd5eed"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def configs(tmp_path: Path, openai_server: OpenAIServer) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump([
        {"config_name": "local", "model_type": "openai_chat", "model_name": "m",
         "base_url": openai_server.base_url, "api_key": CANARY},
        {"config_name": "emb", "model_type": "openai_embedding", "model_name": "e",
         "base_url": openai_server.base_url}]))
    return path


def test_list_table_and_json(capsys: pytest.CaptureFixture[str], configs: Path) -> None:
    code, out, _ = run(capsys, "--config", str(configs), "list")
    assert code == 0 and "local" in out and "openai_embedding" in out and f"{configs}:1" in out
    assert "streaming, tools, vision" in out
    code, out, _ = run(capsys, "--config", str(configs), "list", "--json")
    rows = json.loads(out)
    assert [r["config_name"] for r in rows] == ["local", "emb"]
    assert rows[0]["kind"] == "chat" and "tools" in rows[0]["capabilities"]
    assert rows[1]["kind"] == "embedding" and rows[1]["capabilities"] == ["embeddings"]


def test_config_from_environment(capsys: pytest.CaptureFixture[str], configs: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELHUB_CONFIG", str(configs))
    code, out, _ = run(capsys, "list")
    assert code == 0 and "local" in out
    monkeypatch.delenv("MODELHUB_CONFIG")
    code, _, err = run(capsys, "list")
    assert code == 2 and "MODELHUB_CONFIG" in err


def test_validate_reports_every_error(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      configs: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- config_name: a\n  model_type: openai_chatt\n"
                   "- config_name: b\n  model_type: openai_chat\n  timout: 3\n")
    code, out, err = run(capsys, "validate", str(configs), str(bad))
    assert code == 1 and "2 configs OK" in out
    assert f"{bad}:2" in err and "did you mean 'openai_chat'" in err
    assert f"{bad}:5" in err and "did you mean 'timeout'" in err


def test_show_masks_the_key(capsys: pytest.CaptureFixture[str], configs: Path) -> None:
    code, out, _ = run(capsys, "--config", str(configs), "show", "local")
    assert code == 0 and CANARY not in out and "**********" in out
    assert "OpenAIChatWrapper" in out and yaml.safe_load(out)["model_name"] == "m"
    code, _, err = run(capsys, "--config", str(configs), "show", "lokal")
    assert code == 1 and "did you mean 'local'" in err


def test_plugins_lists_distributions_and_failures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plugins", "--json")
    rows = {r["model_type"]: r for r in json.loads(out)}
    assert code == 0 and rows["openai_chat"]["distribution"] == "modelhub"
    assert rows["openai_chat"]["status"] == "ok" and rows["openai_chat"]["kind"] == "chat"
    assert "response_format" in rows["openai_chat"]["capabilities"]
    assert rows["openai_dall_e"]["capabilities"] == ["images"]
    code, out, _ = run(capsys, "plugins")
    assert "chat: streaming, tools, vision, audio, video, stop, response_format" in out
    assert rows["broken_chat"]["status"].startswith("error:")
    assert "modelhub-testplugin-rival" in rows["dup_chat"]["status"]


def test_schema_validates_config_files(capsys: pytest.CaptureFixture[str], configs: Path,
                                       tmp_path: Path) -> None:
    code, out, err = run(capsys, "schema", "-o", str(tmp_path / "s.json"))
    assert code == 0 and "broken_chat" in err
    document = json.loads((tmp_path / "s.json").read_text())
    jsonschema.validate(yaml.safe_load(configs.read_text()), document)
    for bad in ([{"config_name": "a", "model_type": "nope"}],
                [{"config_name": "a", "model_type": "openai_chat", "tiemout": 1}]):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, document)
    code, out, _ = run(capsys, "schema", "openai_embedding")
    assert "dimensions" in json.loads(out)["properties"]


def test_chat_streams_and_reads_stdin(capsys: pytest.CaptureFixture[str], configs: Path,
                                      openai_server: OpenAIServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(capsys, "--config", str(configs), "chat", "local", "hello world",
                         "--system", "be nice", "--temperature", "0.3", "--usage")
    assert code == 0 and out == "echo: hello world\n" and "usage:" in err
    body = openai_server.last.json
    assert body["stream"] is True and body["temperature"] == 0.3
    assert body["messages"][0] == {"role": "system", "content": "be nice"}
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin"))
    code, out, _ = run(capsys, "--config", str(configs), "chat", "local", "--no-stream")
    assert code == 0 and out == "echo: from stdin\n"


def test_console_script_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"config_name": "x"')
    done = subprocess.run([sys.executable, "-m", "modelhub.cli", "validate", str(bad)],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "JSON syntax error" in done.stderr
    assert "Traceback" not in done.stderr


def test_python_dash_m_modelhub_runs_the_cli(configs: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "modelhub", "--config", str(configs), "list"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "local" in out.stdout


def test_config_is_accepted_after_the_subcommand(capsys: pytest.CaptureFixture[str],
                                                 configs: Path) -> None:
    code, out, _ = run(capsys, "show", "local", "--config", str(configs))
    assert code == 0 and yaml.safe_load(out)["model_name"] == "m"
    code, out, _ = run(capsys, "list", "--config", str(configs), "--json")
    assert code == 0 and len(json.loads(out)) == 2


def test_chat_on_an_embedding_config_says_what_to_use(capsys: pytest.CaptureFixture[str],
                                                      configs: Path) -> None:
    code, _, err = run(capsys, "--config", str(configs), "chat", "emb", "hello")
    assert code == 2 and "embedding model" in err and ".embedding" in err
    assert "Traceback" not in err and "TypeError" not in err


def test_a_prompt_from_stdin_loses_its_trailing_newline(
        capsys: pytest.CaptureFixture[str], configs: Path, openai_server: OpenAIServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("two lines\nof text\n"))
    code, _, _ = run(capsys, "--config", str(configs), "chat", "local", "--no-stream")
    assert code == 0
    assert openai_server.last.json["messages"][-1]["content"] == "two lines\nof text"


def test_chat_streams_even_when_the_config_does_not(capsys: pytest.CaptureFixture[str],
                                                    configs: Path,
                                                    openai_server: OpenAIServer) -> None:
    code, out, _ = run(capsys, "--config", str(configs), "chat", "local", "hi there")
    assert code == 0 and out.strip() == "echo: hi there"
    assert openai_server.last.json["stream"] is True


def test_validate_checks_names_across_every_path_it_is_given(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("- config_name: same\n  model_type: openai_chat\n")
    b.write_text("- config_name: same\n  model_type: openai_chat\n")
    code, _out, err = run(capsys, "validate", str(a), str(b))
    assert code == 1 and "duplicate config_name 'same'" in err and f"{a}:1" in err
    assert f"{b}:1" in err
