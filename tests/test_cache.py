"""The entry-point cache: reused across processes and script folders, rescanned when a
distribution is installed, never trusted when it could have been tampered with, never
holding a config value, and never standing in for validation."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from modelhub import cache, errors, plugins
from modelhub.registry import Registry

CANARY = "sk-canary-cache-51d0c2"

PROBE = """
import json, sys
import modelhub.plugins as p
scans = []
scan = p._scan_metadata
p._scan_metadata = lambda: (scans.append(1), scan())[1]
import modelhub
try:
    names = modelhub.init(sys.argv[1])
    error = None
except modelhub.errors.ConfigError as exc:
    names, error = [], str(exc)
print(json.dumps({"scanned": bool(scans), "names": names, "error": error,
                  "types": p.known_model_types()}))
"""


def probe(config: Path, folder: Path, *, cwd: Path | None = None,
          pythonpath: str | None = None) -> dict[str, Any]:
    """Run init() of `config` in a fresh process (from a script in `cwd`)."""
    env = {**os.environ, cache.CACHE_ENV_VAR: str(folder)}
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([pythonpath, env.get("PYTHONPATH", "")])
    script_dir = cwd or config.parent
    script = script_dir / "probe.py"
    script.write_text(PROBE)
    out = subprocess.run([sys.executable, str(script), str(config)], env=env, cwd=script_dir,
                         capture_output=True, text=True, check=True, timeout=60)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def config_file(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(text or (f"- config_name: chat\n  model_type: openai_chat\n"
                             f"  base_url: http://127.0.0.1:9/v1\n  api_key: {CANARY}\n"))
    return path


def test_a_second_process_reuses_the_table_even_from_another_folder(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    config = config_file(tmp_path)
    first = probe(config, folder)
    (tmp_path / "elsewhere").mkdir()
    second = probe(config, folder, cwd=tmp_path / "elsewhere")
    assert first["scanned"] and not second["scanned"]
    assert first["types"] == second["types"] and "openai_chat" in second["types"]


def _wheel(tmp_path: Path) -> Path:
    """A real wheel of a new plugin distribution, made by hand."""
    path = tmp_path / "late_plugin-1.0-py3-none-any.whl"
    files = {
        "late_plugin/__init__.py": "from modelhub_testplugin.echo import EchoChatWrapper\n",
        "late_plugin-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: late-plugin\n"
                                              "Version: 1.0\n",
        "late_plugin-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\n"
                                           "Root-Is-Purelib: true\nTag: py3-none-any\n",
        "late_plugin-1.0.dist-info/entry_points.txt":
            "[modelhub.model_types]\nlate_chat = late_plugin:EchoChatWrapper\n",
    }
    record = [f"{name},," for name in files] + ["late_plugin-1.0.dist-info/RECORD,,"]
    files["late_plugin-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def test_installing_a_distribution_makes_the_next_process_rescan(tmp_path: Path) -> None:
    folder, site = tmp_path / "cache", tmp_path / "site"
    site.mkdir()
    config = config_file(tmp_path, "- config_name: late\n  model_type: late_chat\n")
    before = probe(config, folder, pythonpath=str(site))
    assert before["error"] and "unknown model_type 'late_chat'" in before["error"]
    assert not probe(config, folder, pythonpath=str(site))["scanned"]  # cached now
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", "--target", str(site), str(_wheel(tmp_path))],
                   check=True, capture_output=True, timeout=120)
    after = probe(config, folder, pythonpath=str(site))
    assert after["scanned"] and after["names"] == ["late"] and after["error"] is None


@pytest.mark.parametrize(("good", "bad", "field"), [
    ("timeout: 5", "timeout: -5", "timeout"),
    # the old receipts hid values under names holding "key" or "token" from their digest
    ('api_key: "sk-good-1234"', 'api_key: "sk-good-1234\\n"', "api_key"),
    ("client_args: {max_retries: 1}", "client_args: {max_retries: -1}", "max_retries"),
])
def test_init_validates_every_time(tmp_path: Path, good: str, bad: str, field: str) -> None:
    folder = tmp_path / "cache"
    head = "- config_name: a\n  model_type: openai_chat\n  generate_args: {max_tokens: 100}\n"
    path = config_file(tmp_path, f"{head}  {good}\n")
    assert probe(path, folder)["names"] == ["a"]
    assert probe(path, folder)["names"] == ["a"]  # a warm run
    path.write_text(f"{head}  {bad}\n")
    rejected = probe(path, folder)
    assert rejected["names"] == [] and field in rejected["error"]


def test_the_cache_holds_no_config_value(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    probe(config_file(tmp_path, f"- config_name: name-3f9a\n  model_type: openai_chat\n"
                                f"  base_url: http://127.0.0.1:9/path-3f9a\n  api_key: {CANARY}\n"),
          folder)
    [stored] = list(folder.iterdir())
    text = stored.read_text()
    assert CANARY not in text and "3f9a" not in text and "openai_chat" in text
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600


# -- in-process: what is read, what is refused ---------------------------------------------
@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV_VAR, str(path))
    plugins.refresh()
    yield path  # type: ignore[misc]
    plugins.refresh()


def scanned_after(action: Any = None) -> bool:
    """Whether looking plugins up scans distribution metadata, after `action`."""
    if action is not None:
        action()
    plugins.refresh()
    calls: list[int] = []
    original = plugins._scan_metadata
    plugins._scan_metadata = lambda: (calls.append(1), original())[1]  # type: ignore[assignment]
    try:
        plugins.known_model_types()
    finally:
        plugins._scan_metadata = original  # type: ignore[assignment]
    return bool(calls)


def test_a_good_cache_is_read(folder: Path) -> None:
    assert scanned_after()
    assert not scanned_after()


@pytest.mark.parametrize("forgery", [
    {"table": {"echo_chat": [["x:Y", None]]}},  # a row too short
    {"table": {"echo_chat": [[1, None, None]]}},
    {"table": {"echo_chat": []}},
    {"table": ["echo_chat"]},
    {"configs": {"echo_chat": [["x:Y", None]]}},
    {"configs": None},
    "not a dict",
])
def test_a_table_of_the_wrong_shape_is_ignored(folder: Path, forgery: Any) -> None:
    scanned_after()
    entry = folder / "entry-points.json"
    stored = json.loads(entry.read_text())
    if isinstance(forgery, dict):  # the rest of the stored table stays as it was written
        forgery = {**stored["data"], **forgery}
    entry.write_text(json.dumps({"format": stored["format"], "data": forgery}))
    os.chmod(entry, 0o600)
    assert scanned_after() and "echo_chat" in plugins.known_model_types()
    # rewritten whole: the next process reads it again
    assert not scanned_after()


def _distribution(site: Path, name: str, *, age: float = 0) -> Path:
    """A distribution `name` with a model type `<name>_chat`, installed `age` seconds
    ago."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        f"[modelhub.model_types]\n{name}_chat = modelhub_testplugin.echo:EchoChatWrapper\n")
    if age:
        when = time.time() - age
        os.utime(info, (when, when))
    return info


def test_a_table_read_just_after_an_install_is_not_stored(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An install may still be writing the metadata folder within one tick of the file
    # system's clock, which its modification time would not show: not stored...
    info = _distribution(tmp_path / "site", "fresh")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert scanned_after() and "fresh_chat" in plugins.known_model_types()
    assert not (folder / "entry-points.json").exists()
    # ...until it has settled
    when = time.time() - 2 * cache.SETTLE_SECONDS
    os.utime(info, (when, when))
    assert scanned_after() and not scanned_after()
    assert "fresh_chat" in plugins.known_model_types()


def test_a_table_read_while_a_distribution_is_installed_is_not_stored(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    _distribution(site, "early", age=60)
    monkeypatch.syspath_prepend(str(site))
    scan = plugins._scan_metadata

    def install_meanwhile() -> tuple[plugins.Table, plugins.Table]:
        tables = scan()
        if not (site / "late-1.0.dist-info").exists():
            _distribution(site, "late", age=60)  # dated as if long settled
        return tables

    monkeypatch.setattr(plugins, "_scan_metadata", install_meanwhile)
    assert scanned_after() and "late_chat" not in plugins.known_model_types()
    assert not (folder / "entry-points.json").exists()
    assert scanned_after() and "late_chat" in plugins.known_model_types()
    assert not scanned_after()


def test_a_file_or_folder_others_may_write_is_not_trusted(folder: Path) -> None:
    scanned_after()
    entry = folder / "entry-points.json"
    os.chmod(entry, 0o622)
    assert scanned_after()  # ignored...
    os.chmod(entry, 0o600)
    assert not scanned_after()
    os.chmod(folder, 0o777)
    assert scanned_after(lambda: entry.unlink())
    assert not entry.exists()  # ...and nothing is written into an untrusted folder


def test_a_fifo_or_a_device_in_place_of_the_file_never_blocks(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    entry = folder / "entry-points.json"
    os.mkfifo(entry, 0o600)
    result: list[bool] = []
    thread = threading.Thread(target=lambda: result.append(scanned_after()), daemon=True)
    thread.start()
    thread.join(10)
    assert result == [True]
    entry.unlink()
    entry.symlink_to("/dev/zero")
    assert scanned_after()  # a link is not followed


def test_the_new_file_is_created_exclusively_not_through_a_planted_link(
        folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    monkeypatch.setattr(os, "getpid", lambda: 4242)
    data = {"x": 1}
    (folder / f"entry-points.json.4242.{id(data):x}.tmp").symlink_to(victim)
    cache.write("entry-points.json", data)
    assert victim.read_text() == "precious" and not (folder / "entry-points.json").exists()


def test_an_empty_cache_variable_turns_the_cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_ENV_VAR, "")
    assert cache.cache_dir() is None and cache.read("entry-points.json") is None
    assert scanned_after() and scanned_after()


def test_a_config_is_validated_at_every_init_in_one_process(folder: Path) -> None:
    reg = Registry()
    reg.init({"config_name": "a", "model_type": "echo_chat"})
    with pytest.raises(errors.ConfigError, match="prefix"):
        reg.init({"config_name": "b", "model_type": "echo_chat", "prefix": 5})


def test_cache_folder_for_a_plugins_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_ENV_VAR, str(tmp_path / "c"))
    folder = cache.cache_folder("weights")
    assert folder == str(tmp_path / "c" / "weights") and os.path.isdir(folder)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    os.chmod(folder, 0o777)
    assert cache.cache_folder("weights") is None  # others could have written in it
    for bad in ("", "..", "a/b"):
        with pytest.raises(ValueError):
            cache.cache_folder(bad)
    monkeypatch.setenv(cache.CACHE_ENV_VAR, "")
    assert cache.cache_folder("weights") is None  # the cache is off
