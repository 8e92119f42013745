"""The on-disk cache: a warm init() imports neither pydantic's model machinery nor
importlib.metadata nor any wrapper module; nothing stored holds a config value; and
whatever could change a verdict (a value, a variable, a plugin's files, an installed
distribution) makes init() validate in full again."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelhub import cache, errors, plugins
from modelhub.config.receipts import Receipts
from modelhub.registry import Registry

CANARY = "sk-canary-cache-51d0c2"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A cache folder of the test's own, with the process's discoveries forgotten."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_ENV_VAR, str(folder))
    plugins.refresh()
    yield folder
    plugins.refresh()


def echo(name: str = "e", **extra: Any) -> dict[str, Any]:
    return {"config_name": name, "model_type": "echo_chat", **extra}


CONFIG_FILE = """\
- config_name: chat
  model_type: openai_chat
  base_url: http://127.0.0.1:9/v1
  api_key: {key}
- config_name: emb
  model_type: openai_embedding
  base_url: http://127.0.0.1:9/unique-path-3f9a
  dimensions: 8
- config_name: azure
  model_type: azure_openai_chat
  azure_endpoint: https://example.invalid
  api_version: "2024-10-21"
- config_name: echo
  model_type: echo_chat
  prefix: "> "
"""

PROBE = """
import json, sys, modelhub
modelhub.init(sys.argv[1])
heavy = ["pydantic.main", "importlib.metadata", "modelhub.providers.openai.chat",
         "modelhub_testplugin.echo", "httpx"]
loaded = [m for m in heavy if m in sys.modules]
wrapper = type(modelhub.get("chat")).__name__
print(json.dumps({"loaded": loaded, "wrapper": wrapper, "echo": modelhub.get("echo")("x").text}))
"""


def probe(config: Path, folder: Path) -> dict[str, Any]:
    env = {**os.environ, cache.CACHE_ENV_VAR: str(folder)}
    out = subprocess.run([sys.executable, "-c", PROBE, str(config)], env=env,
                         capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_warm_init_imports_no_wrapper_module_and_no_pydantic_models(tmp_path: Path) -> None:
    config = tmp_path / "models.yaml"
    config.write_text(CONFIG_FILE.format(key=CANARY))
    folder = tmp_path / "cache"
    cold = probe(config, folder)
    assert "pydantic.main" in cold["loaded"] and "importlib.metadata" in cold["loaded"]
    warm = probe(config, folder)
    assert warm["loaded"] == []  # measured right after init(), before get()
    assert warm["wrapper"] == "OpenAIChatWrapper" and warm["echo"] == "> x"


def test_the_cache_holds_no_config_value(tmp_path: Path) -> None:
    config = tmp_path / "models.yaml"
    config.write_text(CONFIG_FILE.format(key=CANARY))
    folder = tmp_path / "cache"
    probe(config, folder)
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == ["entry-points.json", "receipts.json"]
    for f in files:
        text = f.read_text()
        assert CANARY not in text and "unique-path-3f9a" not in text and "127.0.0.1" not in text
    receipts = json.loads((folder / "receipts.json").read_text())["data"]
    assert len(receipts) == 4 and all(re.fullmatch(r"[0-9a-f]{64}", d) for d in receipts)
    if os.name == "posix":
        assert folder.stat().st_mode & 0o777 == 0o700


def test_a_receipt_stands_in_for_validation_until_something_changes(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MH_TIMEOUT", "5")
    config = {"config_name": "c", "model_type": "openai_chat", "timeout": "${MH_TIMEOUT}",
              "base_url": "http://127.0.0.1:9/v1", "api_key": "k1"}
    first = Registry()
    first.init(config)
    assert first.entry("c").validated
    warm = Registry()
    warm.init(config)
    entry = warm.entry("c")
    assert not entry.validated  # the receipt stood in
    assert entry.config.timeout == 5.0 and entry.validated  # validated on first use
    # Another key of the same type shares the receipt: no digest is derived from a key.
    again = Registry()
    again.init({**config, "api_key": "k2"})
    assert not again.entry("c").validated
    # A changed variable, or a secret of another type, is validated in full at init().
    monkeypatch.setenv("MH_TIMEOUT", "soon")
    with pytest.raises(errors.ConfigError, match="timeout"):
        Registry().init(config)
    monkeypatch.setenv("MH_TIMEOUT", "5")
    with pytest.raises(errors.ConfigError, match="api_key"):
        Registry().init({**config, "api_key": ["k1"]})


def test_a_receipt_that_turns_out_wrong_fails_at_get_and_is_withdrawn(
        cache_dir: Path, tmp_path: Path) -> None:
    from modelhub.cli import main

    f = tmp_path / "m.yaml"
    f.write_text("- config_name: c\n  model_type: echo_chat\n  prefx: x\n")
    forged = Receipts()
    digest = forged.digest("echo_chat", {"config_name": "c", "model_type": "echo_chat",
                                         "prefx": "x"})
    assert digest is not None
    forged.add(digest)
    forged.save()
    assert main(["validate", str(f)]) == 1  # `modelhub validate` trusts no receipt
    reg = Registry()
    assert reg.init(f) == ["c"]  # vouched for by the (wrong) receipt
    with pytest.raises(errors.ConfigError) as info:
        reg.get("c")
    [issue] = info.value.issues
    assert (issue.path, issue.line, issue.field) == (str(f), 3, "prefx")
    assert "did you mean 'prefix'" in issue.message
    with pytest.raises(errors.ConfigError):  # withdrawn: init() validates in full again
        Registry().init(f)


def test_a_receipt_covers_the_plugin_and_modelhub_files(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = echo("c")
    before = Receipts().digest("echo_chat", data)
    real = cache.tree_fingerprint
    for edited in ("modelhub_testplugin", "modelhub"):
        monkeypatch.setattr(cache, "tree_fingerprint",
                            lambda package, edited=edited: "edited" if package == edited
                            else real(package))
        assert Receipts().digest("echo_chat", data) not in (before, None)
    monkeypatch.setattr(cache, "tree_fingerprint", real)
    assert Receipts().digest("echo_chat", data) == before
    assert Receipts().digest("no_such_type", data) is None


def test_run_time_registrations_get_no_receipt(cache_dir: Path) -> None:
    from tests.test_plugins import _Runtime

    plugins.register("runtime_receipt", _Runtime)
    try:
        assert Receipts().digest("runtime_receipt", {"config_name": "r"}) is None
        for _ in range(2):  # the second init() finds no receipt either
            reg = Registry()
            reg.init({"config_name": "r", "model_type": "runtime_receipt"})
            assert reg.entry("r").validated
    finally:
        plugins.unregister("runtime_receipt")


def test_tree_fingerprint_follows_edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "mh_fingerprint_pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    module = pkg / "sub" / "m.py"
    module.write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cache.refresh()
    before = cache.tree_fingerprint("mh_fingerprint_pkg")
    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.tree_fingerprint("mh_fingerprint_pkg") == before  # memoised per process
    cache.refresh()
    after = cache.tree_fingerprint("mh_fingerprint_pkg")
    assert before is not None and after is not None and before != after
    assert cache.tree_fingerprint("mh_no_such_package_here") is None
    monkeypatch.setattr(cache, "MAX_TREE_FILES", 1)
    cache.refresh()
    assert cache.tree_fingerprint("mh_fingerprint_pkg") is None  # too large to walk
    cache.refresh()


def test_path_fingerprint_follows_distributions_not_other_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    before = cache.path_fingerprint()
    (site / "notes.txt").write_text("a script writing next to itself")
    (site / "output").mkdir()
    assert cache.path_fingerprint() == before
    (site / "newdist-1.0.dist-info").mkdir()
    installed = cache.path_fingerprint()
    assert installed != before
    (site / "newdist-1.0.dist-info").rmdir()
    (site / "newdist-1.0.dist-info").mkdir()  # reinstalled, same version
    os.utime(site / "newdist-1.0.dist-info", ns=(0, 10**9))
    assert cache.path_fingerprint() not in (before, installed)


def test_entry_point_table_is_cached_until_a_distribution_changes(
        cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = plugins.list_plugins()
    assert (cache_dir / "entry-points.json").is_file()

    def no_scan() -> None:
        raise AssertionError("importlib.metadata was scanned")

    monkeypatch.setattr(plugins, "_scan_metadata", no_scan)
    plugins.refresh()
    assert plugins.list_plugins() == table  # from the cache
    site = tmp_path / "site"
    (site / "newdist-1.0.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(site))
    plugins.refresh()
    with pytest.raises(AssertionError, match="scanned"):
        plugins.list_plugins()


def test_a_broken_unwritable_or_disabled_cache_is_ignored(
        cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache_dir.mkdir()
    (cache_dir / "entry-points.json").write_text("{not json")
    (cache_dir / "receipts.json").write_text('{"format": 1, "data": {"a": 1}}')
    for _ in range(2):
        plugins.refresh()
        reg = Registry()
        reg.init(echo("a"))
        assert reg.get("a")("x").text == "echo: x"
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(cache.CACHE_ENV_VAR, str(blocker / "cache"))
    plugins.refresh()
    assert Registry().init(echo("b")) == ["b"]
    monkeypatch.setenv(cache.CACHE_ENV_VAR, "")
    assert cache.cache_dir() is None
    plugins.refresh()
    assert Registry().init(echo("c")) == ["c"] and Receipts().digest("echo_chat", echo()) is None


def test_default_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(cache.CACHE_ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == str(tmp_path / "modelhub")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.cache_dir() == os.path.join(os.path.expanduser("~"), ".cache", "modelhub")
