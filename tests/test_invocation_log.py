"""The invocation log: a row per call (streams when they finish, break or are closed),
secrets removed, each row committed alone; `modelhub logs` and `modelhub usage`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from modelhub import errors
from modelhub.calls.calllog import search
from modelhub.cli import main
from modelhub.registry import Registry
from tests.openai_server import (
    OpenAIServer,
    chat_chunks,
    delay_reply,
    error_reply,
    json_reply,
    sse_reply,
)

KEY = "sk-logcanary-9f8e7d6c5b4a"


def logged(server: OpenAIServer, path: Path, **extra: Any) -> Registry:
    reg = Registry()
    reg.init([{"config_name": "main", "model_type": "openai_chat", "model_name": "gpt-4o-mini",
               "api_key": KEY, "base_url": f"{server.url}/main/v1", "log": str(path),
               "max_retries": 0, **extra},
              {"config_name": "spare", "model_type": "openai_chat", "model_name": "gpt-4o",
               "api_key": KEY + "-spare", "base_url": f"{server.url}/spare/v1",
               "log": str(path), "max_retries": 0}])
    return reg


def rows(path: Path) -> list[dict[str, Any]]:
    return list(reversed(search(str(path), limit=None)))


def test_a_call_is_recorded_with_what_was_asked_and_answered(openai_server: OpenAIServer,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    reg = logged(openai_server, path)
    reg.get("main")([{"role": "system", "content": "be brief"},
                     {"role": "user", "content": "hello there"}], temperature=0.2)
    [row] = rows(path)
    assert (row["config_name"], row["requested"], row["model"], row["kind"]) == \
        ("main", "main", "gpt-4o-mini", "chat")
    assert row["status"] == "ok" and row["response_text"] == "echo: hello there"
    assert json.loads(row["input"])[1] == {"role": "user", "content": "hello there"}
    assert json.loads(row["params"]) == {"temperature": 0.2}
    assert (row["input_tokens"], row["output_tokens"]) == (9, 12)
    assert row["latency"] > 0 and row["attempts"] == 1 and row["cost"] > 0
    assert row["error"] is None and row["pid"] == os.getpid()


def test_tool_calls_and_errors_are_recorded(openai_server: OpenAIServer, tmp_path: Path) -> None:
    from tests.openai_server import chat_completion

    path = tmp_path / "calls.db"
    reg = logged(openai_server, path)
    call = {"id": "c1", "name": "get_weather", "arguments": '{"city": "Paris"}'}
    openai_server.enqueue(json_reply(chat_completion(None, tool_calls=[call])))
    reg.get("main")("weather?", tools=[{"type": "function", "function": {
        "name": "get_weather", "parameters": {"type": "object", "properties": {}}}}])
    openai_server.enqueue(error_reply(400, "bad things"))
    with pytest.raises(errors.BadRequestError):
        reg.get("main")("again")
    tool_row, error_row = rows(path)
    assert json.loads(tool_row["tool_calls"]) == [
        {"id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}]
    assert error_row["status"] == "error" and error_row["error_type"] == "BadRequestError"
    assert "bad things" in error_row["error"]


def test_streams_are_recorded_when_they_finish_break_or_close(openai_server: OpenAIServer,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    model = logged(openai_server, path).get("main")
    stream = model("one two three", stream=True)
    assert not path.exists()  # nothing recorded before it ends
    stream.consume()
    openai_server.enqueue(sse_reply(chat_chunks(["Hel", "lo"])[:3], done=False))
    with pytest.raises(errors.ModelConnectionError):
        list(model("x", stream=True))
    stream = model("four five six", stream=True)
    next(iter(stream))
    stream.close()
    done, broken, closed = rows(path)
    assert done["status"] == "ok" and done["response_text"] == "echo: one two three"
    assert done["stream"] == 1
    assert broken["status"] == "broken" and broken["response_text"] == "Hello"
    assert broken["error_type"] == "ModelConnectionError"
    assert closed["status"] == "closed" and closed["response_text"] == "echo: "


async def test_async_streams_are_recorded(openai_server: OpenAIServer, tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    model = logged(openai_server, path).get("main")
    stream = await model.acall("async words", stream=True)
    assert "".join([d async for d in stream]) == "echo: async words"
    [row] = rows(path)
    assert row["status"] == "ok" and row["response_text"] == "echo: async words"


def test_a_fallback_is_recorded_on_both_configs(openai_server: OpenAIServer,
                                                tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    reg = logged(openai_server, path, fallbacks=["spare"])
    openai_server.enqueue(error_reply(503, "busy"), path="/main/v1/chat/completions")
    assert reg.get("main")("hi").config_name == "spare"
    failed, answered = rows(path)
    assert (failed["config_name"], failed["status"]) == ("main", "error")
    assert (answered["config_name"], answered["requested"], answered["fallback_from"],
            answered["status"]) == ("spare", "main", "main", "ok")


def test_no_secret_reaches_the_log(openai_server: OpenAIServer, tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    reg = logged(openai_server, path)
    reg.get("main")(f"my key is {KEY}", user="u1", api_key=KEY)  # echoed back too
    openai_server.enqueue(error_reply(401, f"Incorrect API key provided: {KEY}"))
    with pytest.raises(errors.AuthenticationError):
        reg.get("main")("x")
    dump = "\n".join(sqlite3.connect(path).iterdump())
    assert "my key is" in dump and KEY not in dump and KEY[:12] not in dump


def test_each_record_survives_a_killed_process(openai_server: OpenAIServer,
                                               tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    openai_server.enqueue(delay_reply(30, json_reply({})), path="/slow/v1/chat/completions")
    code = f"""
import sys, modelhub
modelhub.init([{{"config_name": "fast", "model_type": "openai_chat", "model_name": "m",
                 "base_url": "{openai_server.url}/fast/v1", "log": {str(path)!r}}},
               {{"config_name": "slow", "model_type": "openai_chat", "model_name": "m",
                 "base_url": "{openai_server.url}/slow/v1", "log": {str(path)!r},
                 "max_retries": 0}}])
modelhub.get("fast")("first")
modelhub.get("fast")("second")
print("ready", flush=True)
modelhub.get("slow")("never answered")
"""
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # the slow call is in flight
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    recorded = rows(path)
    assert [r["response_text"] for r in recorded] == ["echo: first", "echo: second"]


def test_a_relative_log_path_and_a_folder_that_does_not_exist(openai_server: OpenAIServer,
                                                              tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.chdir(tmp_path)
    reg = logged(openai_server, Path("logs/deep/calls.db"))
    reg.get("main")("hi")
    assert len(rows(tmp_path / "logs/deep/calls.db")) == 1


def test_a_config_file_s_log_path_is_beside_the_file(openai_server: OpenAIServer,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`log: calls.db` in a config file is the file next to it, from any working
    directory (the same process started elsewhere writes to the same file); `${VAR}`
    and `~` are expanded first; an absolute path stays as it is."""
    folder = tmp_path / "project" / "configs"
    folder.mkdir(parents=True)
    (folder / "models.yaml").write_text(
        f"- config_name: near\n  model_type: openai_chat\n  model_name: m\n"
        f"  base_url: {openai_server.base_url}\n  log: calls.db\n"
        f"- config_name: by-var\n  model_type: openai_chat\n  model_name: m\n"
        f"  base_url: {openai_server.base_url}\n  log: ${{LOG_DIR}}/vars.db\n"
        f"- config_name: home\n  model_type: openai_chat\n  model_name: m\n"
        f"  base_url: {openai_server.base_url}\n  log: ~/home.db\n"
        f"- config_name: up\n  model_type: openai_chat\n  model_name: m\n"
        f"  base_url: {openai_server.base_url}\n  log: ../logs/up.db\n", encoding="utf-8")
    monkeypatch.setenv("LOG_DIR", "var-logs")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    elsewhere = [tmp_path, tmp_path / "other", folder]
    for index, cwd in enumerate(elsewhere):
        cwd.mkdir(exist_ok=True)
        monkeypatch.chdir(cwd)
        reg = Registry()
        # The file named relative to the working directory, as a user would.
        reg.init(os.path.relpath(folder / "models.yaml"))
        assert reg.entry("near").config.log == str(folder / "calls.db")
        for name in ("near", "by-var", "home", "up"):
            reg.get(name)(f"call {index}")
        reg.calls.close()
    for db in (folder / "calls.db", folder / "var-logs" / "vars.db",
               tmp_path / "home" / "home.db", tmp_path / "project" / "logs" / "up.db"):
        assert [r["input"].count("call") for r in rows(db)] == [1, 1, 1], db
    assert not (tmp_path / "calls.db").exists() and not (tmp_path / "other" / "calls.db").exists()


def test_a_config_given_as_a_dict_keeps_its_log_path_relative_to_the_cwd(
        openai_server: OpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    reg = Registry()
    reg.init({"config_name": "d", "model_type": "openai_chat", "model_name": "m",
              "base_url": openai_server.base_url, "log": "here.db"})
    assert reg.entry("d").config.log == "here.db"
    reg.get("d")("hi")
    assert len(rows(tmp_path / "here.db")) == 1


# -- the command line ------------------------------------------------------------------
def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_modelhub_logs_lists_and_searches(openai_server: OpenAIServer, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "calls.db"
    reg = logged(openai_server, path, fallbacks=["spare"])
    reg.get("main")("apples please")
    reg.get("spare")("pears please")
    openai_server.enqueue(error_reply(503, "busy"), path="/main/v1/chat/completions")
    reg.get("main")("cherries")
    code, out, _ = run(capsys, "logs", "--log", str(path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "STARTED", "CONFIG", "STATUS"] and len(lines) == 5
    assert "main->spare" in lines[1] and "cherries" in lines[1]
    code, out, _ = run(capsys, "logs", "--log", str(path), "--search", "APPLES")
    assert code == 0 and len(out.splitlines()) == 2 and "apples please" in out
    code, out, _ = run(capsys, "logs", "--log", str(path), "--status", "error", "--json")
    [row] = json.loads(out)
    assert row["config_name"] == "main" and row["error_type"] == "ServerError"
    code, out, _ = run(capsys, "logs", "--log", str(path), "--model", "spare", "-n", "1")
    assert len(out.splitlines()) == 2 and "cherries" in out
    code, out, _ = run(capsys, "logs", "--log", str(path), "--search", "100%_\\")
    assert code == 0 and out.strip() == "no calls recorded match"


def test_modelhub_usage_totals_the_logs(openai_server: OpenAIServer, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "calls.db"
    config = tmp_path / "models.yaml"
    import yaml

    config.write_text(yaml.safe_dump([
        {"config_name": "main", "model_type": "openai_chat", "model_name": "gpt-4o-mini",
         "base_url": f"{openai_server.url}/main/v1", "log": str(path), "max_retries": 0}]))
    reg = Registry()
    reg.init(str(config))
    reg.get("main")("a")
    reg.get("main")("b")
    openai_server.enqueue(error_reply(500, "x"))
    with pytest.raises(errors.ServerError):
        reg.get("main")("c")
    code, out, _ = run(capsys, "usage", "--config", str(config))
    assert code == 0
    header, line = out.splitlines()
    assert header.split() == ["CONFIG", "CALLS", "ERRORS", "INPUT", "OUTPUT", "MEAN", "COST"]
    assert line.split()[:5] == ["main", "3", "1", "18", "24"] and "$" in line
    code, out, _ = run(capsys, "usage", "--log", str(path), "--json")
    assert json.loads(out)["main"]["calls"] == 3
    code, _, err = run(capsys, "usage", "--log", str(tmp_path / "none.db"))
    assert code == 1 and "no such log file" in err


def test_a_log_that_cannot_be_written_does_not_fail_the_call(
        openai_server: OpenAIServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    (tmp_path / "not-a-folder").write_text("x")
    reg = logged(openai_server, tmp_path / "not-a-folder" / "calls.db")
    with caplog.at_level(logging.ERROR, logger="modelhub"):
        assert reg.get("main")("hi").text == "echo: hi"
    assert "could not record a call of 'main'" in caplog.text and KEY not in caplog.text


def test_a_file_that_is_not_a_log_is_a_clear_cli_error(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    text = tmp_path / "notes.db"
    text.write_text("not a database")
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE things (a)")
    connection.close()
    for path, why in ((text, "file is not a database"), (other, "no such table: calls")):
        for command in ("logs", "usage"):
            code, _out, err = run(capsys, command, "--log", str(path))
            assert code == 1 and "Traceback" not in err
            assert f"{path} is not a modelhub invocation log ({why})" in err


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_writes_through_a_connection_of_its_own(
        openai_server: OpenAIServer, tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    reg = logged(openai_server, path)
    reg.get("main")("parent before")
    [store] = list(reg.calls._logs.values())
    inherited = store._connection
    assert inherited is not None
    pid = os.fork()
    if pid == 0:  # the child: record one call, say whether it used a new connection
        code = 1
        try:
            reg.get("main")("child")
            code = 0 if store._connection is not inherited else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    reg.get("main")("parent after")
    assert store._connection is inherited
    assert [r["input"] for r in rows(path)] == [
        json.dumps([{"role": "user", "content": text}])
        for text in ("parent before", "child", "parent after")]
