"""Bad config input: a located ConfigError, quickly and in bounded memory, for alias
bombs, deep nesting, cycles, unreadable sources, settings that would fail later,
misspelled generation arguments and unexpected file shapes; and init() re-run on the
same file, or from two threads at once."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from modelhub import errors
from modelhub.registry import Registry

BOMB = "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9 if p else ['lol'] * 9)}]\n"
               for p, c in zip(["", *"abcdefgh"], "abcdefghi"))


def init(source: Any) -> errors.ConfigError:
    with pytest.raises(errors.ConfigError) as info:
        Registry().init(source)
    return info.value


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    f = tmp_path / "bomb.yaml"
    f.write_text(BOMB + "config_name: x\nmodel_type: openai_chat\n")
    assert len(f.read_bytes()) < 1024
    start = time.monotonic()
    error = init(f)
    assert time.monotonic() - start < 1.0
    assert "too large" in str(error) and error.path == str(f)


@pytest.mark.parametrize("depth", [100, 300_000])
def test_deep_yaml_and_json_are_refused_not_crashed(tmp_path: Path, depth: int) -> None:
    deep = "[" * depth + "]" * depth
    (tmp_path / "deep.yaml").write_text(
        f"config_name: x\nmodel_type: openai_chat\ngenerate_args: {{k: {deep}}}\n")
    (tmp_path / "deep.json").write_text(
        f'{{"config_name": "x", "model_type": "openai_chat", "generate_args": {{"k": {deep}}}}}')
    for name in ("deep.yaml", "deep.json"):
        assert "levels" in str(init(tmp_path / name))


def test_a_dict_that_contains_itself_is_reported() -> None:
    config: dict[str, Any] = {"config_name": "x", "model_type": "openai_chat",
                              "generate_args": {}}
    config["generate_args"]["again"] = config
    error = init(config)
    assert "contains itself" in str(error) and error.config_name == "x"


def test_the_error_list_is_capped_in_the_message(tmp_path: Path) -> None:
    f = tmp_path / "many.yaml"
    f.write_text("".join(f"- config_name: c{i}\n  model_type: nope\n" for i in range(150)))
    error = init(f)
    assert len(error.issues) == 150
    assert str(error).count("\n  - ") == 100 and "... and 50 more" in str(error)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_unreadable_sources_are_config_errors_naming_the_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done: list[str] = []
    thread = threading.Thread(target=lambda: done.append(str(init(fifo))), daemon=True)
    thread.start()
    thread.join(10)
    assert done and "FIFO" in done[0] and str(fifo) in done[0]
    assert "device" in str(init("/dev/null"))
    long = "/" + "x" * 5000 + ".yaml"
    assert "cannot read this path" in str(init(long)) and "xxxx" in str(init(long))
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "a.yaml").write_text("config_name: a\nmodel_type: openai_chat\n")

    def refuse(self: Path) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", refuse)
    error = init(folder)
    assert "cannot list the folder: Permission denied" in str(error) and error.path == str(folder)


def test_a_folder_with_one_broken_file_still_reports_the_others(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("- config_name: a\n  model_type: openai_chat\n  [broken\n")
    (tmp_path / "b.yaml").write_text("- config_name: b\n  model_type: openai_chat\n  timout: 1\n")
    (tmp_path / "c.yaml").write_text("- config_name: c\n  model_type: openai_chatt\n")
    error = init(tmp_path)
    assert [(Path(i.path or "").name, i.line) for i in error.issues] == [
        ("a.yaml", 4), ("b.yaml", 3), ("c.yaml", 2)]  # a.yaml: where the parser noticed


def test_an_error_about_a_value_from_a_variable_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_TIMEOUT", "soon")
    error = init({"config_name": "x", "model_type": "openai_chat",
                  "timeout": "${MODEL_TIMEOUT}"})
    assert error.field == "timeout" and "${MODEL_TIMEOUT}" in str(error)


def test_an_infinite_timeout_in_yaml_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("config_name: x\nmodel_type: openai_chat\ntimeout: .inf\n")
    assert "finite" in str(init(f))


@pytest.mark.parametrize(("extra", "message"), [
    ({"timeout": float("inf")}, "finite"),
    ({"timeout": float("nan")}, "finite"),
    ({"timeout": 0}, "greater than 0"),
    ({"proxy": "ftp://p:21"}, "scheme"),
    ({"proxy": "127.0.0.1:3128"}, "scheme"),
    ({"base_url": "http://"}, "no host"),
    ({"base_url": "http://h:99999/v1"}, "not a valid URL"),
    ({"base_url": "http://h/v 1"}, "whitespace"),
    ({"base_url": "http://h/v1?key=x"}, "default_query"),
    ({"headers": {"X Bad": "v"}}, "not a valid header name"),
    ({"headers": {"X-Ok": "a\nb"}}, "control character"),
    ({"headers": {"X-Ok": "naïve"}}, "non-ASCII"),
])
def test_settings_that_could_only_fail_later_fail_at_load(extra: dict[str, Any],
                                                          message: str) -> None:
    error = init({"config_name": "x", "model_type": "openai_chat", **extra})
    assert message in str(error)


def test_a_socks_proxy_without_its_extra_says_what_to_install() -> None:
    import importlib.util

    if importlib.util.find_spec("socksio") is not None:
        pytest.skip("socksio is installed here")
    assert "httpx[socks]" in str(init({"config_name": "x", "model_type": "openai_chat",
                                       "proxy": "socks5://127.0.0.1:1080"}))


def test_misspelled_generation_arguments_are_caught_and_others_pass(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("- config_name: x\n  model_type: openai_chat\n  generate_args:\n"
                 "    temprature: 0.2\n    top_k: 40\n    repetition_penalty: 1.1\n"
                 "    Max_Tokens: 5\n")
    error = init(f)
    assert [(i.field, i.line) for i in error.issues] == [
        ("generate_args.temprature", 4), ("generate_args.Max_Tokens", 7)]
    assert "did you mean 'temperature'" in str(error) and "did you mean 'max_tokens'" in str(error)
    top = init({"config_name": "x", "model_type": "openai_chat", "temperatur": 0.3})
    assert "did you mean 'generate_args.temperature'" in str(top)
    reg = Registry()
    reg.init({"config_name": "x", "model_type": "openai_chat", "base_url": "http://127.0.0.1:9/v1",
              "generate_args": {"top_k": 40, "mirostat": 2, "my_server_flag": True}})
    with pytest.raises(errors.InvalidArgumentError, match="did you mean 'temperature'"):
        reg.get("x")("hi", temprature=0.1)


@pytest.mark.parametrize(("text", "message"), [
    ("model_list:\n  - model_name: gpt\n    litellm_params: {model: gpt-4o}\n", "LiteLLM"),
    ("gpt:\n  - x\n", "belongs under `models:`"),
    ("name: x\nmodel: y\n", "no config_name or model_type"),
])
def test_other_file_shapes_get_the_expected_shape(tmp_path: Path, text: str,
                                                  message: str) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(text)
    error = init(f)
    assert message in str(error) and "config_name is required" not in str(error)


def test_a_models_key_holds_a_list_of_configs(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("models:\n  - config_name: a\n    model_type: openai_chat\n"
                 "  - config_name: b\n    model_type: openai_chat\n    timout: 2\n")
    error = init(f)
    assert error.line == 6 and error.config_name == "b"


def test_init_of_the_same_file_again_reloads_it(tmp_path: Path) -> None:
    f = tmp_path / "good.yaml"
    f.write_text("- config_name: a\n  model_type: openai_chat\n  model_name: one\n")
    reg = Registry()
    assert reg.init(f) == ["a"]
    f.write_text("- config_name: a\n  model_type: openai_chat\n  model_name: two\n")
    assert reg.init(f) == ["a"]  # a notebook cell run twice
    assert reg.entry("a").config.model_name == "two"
    other = tmp_path / "other.yaml"
    other.write_text("- config_name: a\n  model_type: openai_chat\n")
    with pytest.raises(errors.ConfigError, match=r"already loaded from .*good\.yaml.*clear_existing"):
        reg.init(other)


def _race(reg: Registry, barrier: threading.Barrier, prefix: str, outcomes: list[str]) -> None:
    barrier.wait()
    try:
        reg.init({"config_name": "same", "model_type": "openai_chat", "model_name": prefix})
        outcomes.append("ok")
    except errors.ConfigError:
        outcomes.append("error")


def test_two_threads_adding_one_name_never_both_succeed() -> None:
    for round_ in range(300):
        reg = Registry()
        outcomes: list[str] = []
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=_race, args=(reg, barrier, p, outcomes))
                   for p in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["error", "ok"], f"round {round_}"


@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"client_args": {"timeout": float("inf")}}, "client_args.timeout", "finite"),
    ({"organization": "org\n"}, "organization", "control character"),
    ({"project": "pré"}, "project", "non-ASCII"),
    ({"client_args": {"organization": "o\r\nX-Injected: y"}}, "client_args.organization",
     "control character"),
    ({"client_args": {"default_headers": {"X Bad": "v"}}}, "client_args.default_headers",
     "not a valid header name"),
])
def test_settings_given_in_client_args_or_sent_as_headers_are_checked_at_load(
        extra: dict[str, Any], field: str, message: str) -> None:
    error = init({"config_name": "x", "model_type": "openai_chat", **extra})
    assert error.field == field and message in str(error)


def test_an_azure_endpoint_that_is_not_a_url_fails_at_load() -> None:
    error = init({"config_name": "x", "model_type": "azure_openai_chat", "api_version": "v",
                  "azure_endpoint": "my-resource"})
    assert error.field == "azure_endpoint" and "http" in str(error)


def test_deep_nesting_given_in_memory_is_refused() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(10_000):
        node["k"] = {}
        node = node["k"]
    error = init({"config_name": "x", "model_type": "openai_chat", "generate_args": deep})
    assert "levels" in str(error) and error.config_name == "x"
