"""`modelhub batch` on this machine: one request per input line against a loopback
OpenAI server, answers in input order with usage and errors per line, a progress bar,
resumable, every answer flushed as it lands."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelhub.batch import BatchJob, OutputFile, run_local
from modelhub.batch.ray_job import worker_config
from modelhub.cli import main
from modelhub.registry import Registry
from tests.batch_fixtures import BatchServer, write_configs, write_lines

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object",
                                          "properties": {"city": {"type": "string"}}}}}


@pytest.fixture
def server() -> Iterator[BatchServer]:
    with BatchServer() as s:
        yield s


@pytest.fixture
def configs(tmp_path: Path, server: BatchServer) -> Path:
    return write_configs(tmp_path / "models.yaml", server)


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def batch(capsys: pytest.CaptureFixture[str], configs: Path, *args: str) -> tuple[int, str]:
    code = main(["--config", str(configs), "batch", *args])
    return code, capsys.readouterr().err


def test_chat_job(capsys: pytest.CaptureFixture[str], tmp_path: Path, configs: Path,
                  server: BatchServer) -> None:
    source = write_lines(tmp_path / "in.jsonl", [
        {"id": "a", "prompt": "hello"},
        "",
        {"messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "hi"}], "temperature": 0.3, "max_tokens": 5},
        "{not json",
        {"id": "b", "prompt": "please FAIL"},
        {"custom_id": "req-6", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "gpt-x", "messages": [{"role": "user", "content": "batch api"}],
                  "temperature": 0}},
        {"prompt": "weather?", "tools": [WEATHER], "stop": ["END"]},
        {"prompt": 5},
        {"prompt": "typo", "temprature": 1},
    ])
    out = tmp_path / "out.jsonl"
    code, err = batch(capsys, configs, "up", str(source), "-o", str(out), "-c", "4",
                      "--no-progress")
    assert code == 1
    assert "4 of 8 lines answered" in err and "4 lines failed" in err and str(out) in err
    got = records(out)
    assert [r["line"] for r in got] == [1, 3, 4, 5, 6, 7, 8, 9]
    by_line = {r["line"]: r for r in got}
    assert by_line[1]["id"] == "a" and by_line[1]["text"] == "echo: hello"
    assert by_line[1]["usage"] == {"input_tokens": 9, "output_tokens": 12, "total_tokens": 21}
    assert by_line[1]["finish_reason"] == "stop" and by_line[1]["error"] is None
    assert by_line[3]["text"] == "echo: hi"
    assert by_line[4]["error"]["type"] == "LineError" and "not JSON" in by_line[4]["error"][
        "message"]
    assert by_line[5]["id"] == "b" and by_line[5]["error"]["type"] == "ServerError"
    assert by_line[5]["error"]["status_code"] == 500
    assert by_line[6]["id"] == "req-6" and by_line[6]["text"] == "echo: batch api"
    assert by_line[7]["error"] is None
    assert by_line[8]["error"]["type"] == "LineError"
    assert by_line[9]["error"]["type"] == "InvalidArgumentError"
    assert "temperature" in by_line[9]["error"]["message"]
    sent = {m["content"]: req.json for req in server.requests
            for m in req.json["messages"][-1:]}
    assert sent["hi"]["temperature"] == 0.3 and sent["hi"]["max_tokens"] == 5
    assert sent["hi"]["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["batch api"]["model"] == "gpt-up" and sent["batch api"]["temperature"] == 0
    assert sent["weather?"]["tools"][0]["function"]["name"] == "get_weather"
    assert sent["weather?"]["stop"] == ["END"] and "stream" not in sent["weather?"]
    assert len(server.requests) == 5  # the lines that could not be read were never sent


def test_tool_calls_and_usage_in_records(tmp_path: Path, server: BatchServer) -> None:
    from tests.openai_server import chat_completion, json_reply

    server.enqueue(json_reply(chat_completion(None, tool_calls=[
        {"id": "c1", "name": "get_weather", "arguments": '{"city": "Oslo"}'}])))
    registry = Registry()
    registry.init(str(write_configs(tmp_path / "m.yaml", server)))
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": "weather?", "tools": [WEATHER]}])
    out = tmp_path / "out.jsonl"
    result = run_local(registry.get("up"), BatchJob(source, out, 2, progress=False))
    assert (result.total, result.answered, result.failed) == (1, 1, 0)
    [record] = records(out)
    assert record["tool_calls"] == [{"id": "c1", "name": "get_weather",
                                     "arguments": {"city": "Oslo"}}]
    assert record["finish_reason"] == "tool_calls" and record["usage"]["total_tokens"] == 21


def test_progress_bar(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                      configs: Path) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": f"p{i}"} for i in range(12)]
                         + [{"prompt": "FAIL"}])
    code, err = batch(capsys, configs, "up", str(source), "-o", str(tmp_path / "o.jsonl"))
    assert code == 1
    bar = err.replace("\r", "\n").splitlines()
    final = [line for line in bar if "13/13" in line][-1]
    assert final.startswith("up: 100%") and "line/s" in final  # the rate
    assert "<00:00" in final and "failed=1" in final  # the time left, the failures


def test_rerun_retries_only_what_failed(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                        configs: Path, server: BatchServer) -> None:
    prompts = [f"q{i}" + (" FLAKY" if i % 3 == 0 else "") for i in range(10)]
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": p} for p in prompts])
    out = tmp_path / "out.jsonl"
    server.failing = {"FLAKY"}
    code, err = batch(capsys, configs, "up", str(source), "-o", str(out), "--no-progress")
    assert code == 1 and "4 lines failed" in err
    assert [r["error"] is None for r in records(out)] == [i % 3 != 0 for i in range(10)]

    server.failing = set()
    server.reset()
    code, err = batch(capsys, configs, "up", str(source), "-o", str(out), "--no-progress")
    assert code == 0 and "10 of 10 lines answered (6 by an earlier run)" in err
    assert sorted(server.asked()) == sorted(p for p in prompts if "FLAKY" in p)
    got = records(out)
    assert [r["line"] for r in got] == list(range(1, 11))
    assert [r["text"] for r in got] == [f"echo: {p}" for p in prompts]

    server.reset()  # a third run has nothing left to do
    code, err = batch(capsys, configs, "up", str(source), "-o", str(out), "--no-progress")
    assert code == 0 and server.requests == [] and len(records(out)) == 10


def test_resume_after_a_killed_run(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   configs: Path, server: BatchServer) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": f"r{i}"} for i in range(1, 6)])
    out = tmp_path / "out.jsonl"
    # What a run killed mid-write leaves: answers in arrival order, the last cut short.
    out.write_text(json.dumps({"line": 4, "id": None, "text": "earlier 4", "error": None})
                   + "\n" + json.dumps({"line": 2, "id": None, "text": "earlier 2",
                                        "error": None})
                   + "\n" + '{"line": 5, "id": null, "te')
    code, _ = batch(capsys, configs, "up", str(source), "-o", str(out), "--no-progress")
    assert code == 0
    assert sorted(server.asked()) == ["r1", "r3", "r5"]
    assert [r["text"] for r in records(out)] == ["echo: r1", "earlier 2", "echo: r3",
                                                 "earlier 4", "echo: r5"]


def test_answers_are_written_as_they_land(tmp_path: Path, server: BatchServer) -> None:
    registry = Registry()
    registry.init(str(write_configs(tmp_path / "m.yaml", server)))
    source = write_lines(tmp_path / "in.jsonl",
                         [{"prompt": "HELD back"}] + [{"prompt": f"f{i}"} for i in range(6)])
    out = tmp_path / "out.jsonl"
    job = BatchJob(source, out, concurrency=3, progress=False)
    worker = threading.Thread(target=run_local, args=(registry.get("up"), job))
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while not (out.exists() and len(out.read_text().splitlines()) == 6):
            assert time.monotonic() < deadline, "the answers that arrived were not written"
            time.sleep(0.02)
        # Line 1 is still waiting, and every answer after it is on disk already.
        assert sorted(r["line"] for r in records(out)) == [2, 3, 4, 5, 6, 7]
    finally:
        server.release.set()
        worker.join(20)
    assert [r["line"] for r in records(out)] == list(range(1, 8))
    assert records(out)[0]["text"] == "echo: HELD back"


def test_embedding_job(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                       configs: Path) -> None:
    source = write_lines(tmp_path / "in.jsonl", [
        {"id": 1, "input": "one text"}, {"input": ["two", "texts"], "dimensions": 3},
        {"prompt": "as a prompt"}, {"input": 7}])
    out = tmp_path / "out.jsonl"
    code, _ = batch(capsys, configs, "emb", str(source), "-o", str(out), "--no-progress")
    got = records(out)
    assert code == 1 and [len(r.get("embedding") or []) for r in got] == [1, 2, 1, 0]
    assert len(got[1]["embedding"][0]) == 3 and got[0]["usage"]["input_tokens"] == 3
    assert got[3]["error"]["type"] == "LineError"


def test_what_a_job_refuses(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                            configs: Path) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": "x"}])
    code, err = batch(capsys, configs, "painter", str(source), "-o", str(tmp_path / "o"))
    assert code == 1 and "kind 'image'" in err
    code, err = batch(capsys, configs, "up", str(source), "-o", str(source), "--no-progress")
    assert code == 2 and "must not be the input" in err
    code, err = batch(capsys, configs, "up", str(tmp_path / "missing.jsonl"), "-o", "o")
    assert code == 2 and "does not exist" in err
    code, err = batch(capsys, configs, "upp", str(source), "-o", str(tmp_path / "o"))
    assert code == 1 and "did you mean 'up'" in err


def test_output_reading_keeps_the_best_record(tmp_path: Path) -> None:
    out = OutputFile(tmp_path / "o.jsonl")
    lines = [{"line": 2, "error": {"type": "X"}}, {"line": 1, "error": None, "text": "a"},
             {"line": 2, "error": None, "text": "b"}, {"line": 2, "error": {"type": "Y"}},
             {"line": 3, "error": {"type": "Z"}}, {"line": 3, "error": {"type": "W"}},
             {"no": "line"}, ["not", "a", "record"], {"line": True, "error": None}]
    write_lines(out.path, lines)
    assert out.answered() == {1, 2}
    assert out.put_in_order() == (2, 1)
    assert [(r["line"], r.get("text") or r["error"]["type"]) for r in records(out.path)] == [
        (1, "a"), (2, "b"), (3, "W")]


def test_workers_get_the_config_as_written(tmp_path: Path, server: BatchServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCH_TEST_KEY", "sk-from-this-machine")
    registry = Registry()
    registry.init(str(write_configs(tmp_path / "m.yaml", server)))
    assert registry.entry("up").config.api_key is not None
    config = worker_config(registry.entry("up"))
    assert config["api_key"] == "${BATCH_TEST_KEY:-sk-batch}"
    assert "sk-from-this-machine" not in json.dumps(config)
    memory = Registry()
    memory.init([{"config_name": "m", "model_type": "echo_chat"}])
    with pytest.raises(Exception, match="config file"):
        worker_config(memory.entry("m"))


def test_no_ray_cluster_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         configs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0",
                        "RAY_ADDRESS": "", "RAY_TMPDIR": str(tmp_path),
                        "TMPDIR": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    pytest.importorskip("ray", reason="Ray is not installed: pip install 'modelhub[ray]'")
    source = write_lines(tmp_path / "in.jsonl", [{"prompt": "x"}])
    code, err = batch(capsys, configs, "up", str(source), "-o", str(tmp_path / "o.jsonl"),
                      "--no-progress", "--ray", "auto")
    assert code == 1 and "no Ray cluster at 'auto'" in err
