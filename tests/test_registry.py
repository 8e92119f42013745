"""init() / get(): loading, validation errors, atomic swaps, caching, thread safety."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import modelhub
from modelhub import errors
from modelhub.registry import Registry


def echo(name: str = "e", **extra: Any) -> dict[str, Any]:
    return {"config_name": name, "model_type": "echo_chat", **extra}


def test_init_from_dict_list_and_returns_names() -> None:
    reg = Registry()
    assert reg.init(echo("a")) == ["a"]
    assert reg.init([echo("b"), echo("c")]) == ["b", "c"]
    assert reg.list_configs() == ["a", "b", "c"]
    assert reg.get("b")("hi").text == "echo: hi"


def test_init_from_yaml_json_folder_and_list_of_paths(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("- config_name: y1\n  model_type: echo_chat\n")
    (tmp_path / "b.json").write_text('{"config_name": "j1", "model_type": "echo_chat"}')
    other = tmp_path / "more"
    other.mkdir()
    (other / "c.yml").write_text("config_name: y2\nmodel_type: echo_chat\nprefix: '> '\n")
    reg = Registry()
    assert reg.init(tmp_path) == ["y1", "j1"]
    assert reg.init([str(other / "c.yml")]) == ["y2"]
    assert reg.get("y2")("x").text == "> x"


def test_clear_existing_replaces_and_drops_cached_wrappers() -> None:
    reg = Registry()
    reg.init(echo("a"))
    first = reg.get("a")
    reg.init([echo("a", prefix="new: ")], clear_existing=True)
    assert reg.get("a") is not first and reg.get("a")("x").text == "new: x"


def test_duplicate_name_names_both_places(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("- config_name: a\n  model_type: echo_chat\n"
                 "- config_name: a\n  model_type: echo_chat\n")
    with pytest.raises(errors.ConfigError) as info:
        Registry().init(f)
    msg = str(info.value)
    assert f"{f}:1" in msg and f"{f}:3" in msg and "duplicate" in msg


def test_duplicate_against_already_loaded_config() -> None:
    reg = Registry()
    reg.init(echo("a"))
    with pytest.raises(errors.ConfigError, match=r"duplicate config_name 'a'.*clear_existing=True"):
        reg.init(echo("a", prefix="other: "))
    assert reg.init(echo("a", prefix="other: "), clear_existing=True) == ["a"]


def test_every_error_reported_at_once_and_registry_untouched(tmp_path: Path) -> None:
    reg = Registry()
    reg.init(echo("keep"))
    f = tmp_path / "bad.yaml"
    f.write_text(
        "- config_name: t1\n"            # 1
        "  model_type: opneai_chat\n"     # 2
        "- config_name: t2\n"             # 3
        "  model_type: echo_chat\n"       # 4
        "  prefx: x\n"                    # 5
        "- config_name: t3\n"             # 6
        "  model_type: openai_chat\n"     # 7
        "  timeout: soon\n"               # 8
        "- config_name: ok\n"             # 9
        "  model_type: echo_chat\n")
    with pytest.raises(errors.ConfigError) as info:
        reg.init(f)
    issues = info.value.issues
    assert [(i.config_name, i.field, i.line) for i in issues] == [
        ("t1", "model_type", 2), ("t2", "prefx", 5), ("t3", "timeout", 8)]
    assert "did you mean 'openai_chat'" in issues[0].message
    assert "did you mean 'prefix'" in issues[1].message
    assert all(i.path == str(f) for i in issues)
    assert reg.list_configs() == ["keep"]


def test_unknown_model_type_error_type_and_known_types() -> None:
    with pytest.raises(errors.UnknownModelTypeError) as info:
        Registry().init(echo("x") | {"model_type": "nope_chat"})
    assert "openai_chat" in info.value.known_types
    assert "Known model types" in str(info.value)


def test_missing_config_name_and_model_type() -> None:
    with pytest.raises(errors.ConfigError) as info:
        Registry().init([{"model_type": "echo_chat"}, {"config_name": "n"}])
    assert [i.field for i in info.value.issues] == ["config_name", "model_type"]


def test_env_expansion_and_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MH_PREFIX", "env: ")
    reg = Registry()
    reg.init([echo("a", prefix="${MH_PREFIX}"), echo("b", prefix="${MH_UNSET_VAR:-dflt: }")])
    assert reg.get("a")("x").text == "env: x"
    assert reg.get("b")("x").text == "dflt: x"
    with pytest.raises(errors.ConfigError) as info:
        reg.init(echo("c", prefix="${MH_UNSET_VAR}"))
    issue = info.value.issues[0]
    assert (issue.config_name, issue.field) == ("c", "prefix")
    assert "MH_UNSET_VAR" in issue.message


def test_missing_variable_does_not_hide_the_configs_other_errors(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("- config_name: c\n"              # 1
                 "  model_type: openai_chat\n"     # 2
                 "  timeout: fast\n"               # 3
                 "  api_key: ${MH_UNSET_VAR}\n"    # 4
                 "  base_url: ${MH_UNSET_URL}\n"   # 5
                 "  generate_args: [1, 2]\n")      # 6
    with pytest.raises(errors.ConfigError) as info:
        Registry().init(f)
    found = sorted((i.field, i.line) for i in info.value.issues)
    # base_url's placeholder is not a URL: that is not reported, its variable is.
    assert found == [("api_key", 4), ("base_url", 5), ("generate_args", 6), ("timeout", 3)]


def test_model_type_and_config_name_may_come_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MH_TYPE", "echo_chat")
    monkeypatch.setenv("MH_NAME", "from-env")
    reg = Registry()
    assert reg.init({"config_name": "${MH_NAME}", "model_type": "${MH_TYPE}"}) == ["from-env"]
    assert reg.get("from-env")("x").text == "echo: x"
    with pytest.raises(errors.ConfigError) as info:
        reg.init({"config_name": "x", "model_type": "${MH_UNSET_TYPE}"})
    assert [i.field for i in info.value.issues] == ["model_type"]
    assert "MH_UNSET_TYPE" in info.value.issues[0].message


def test_modelhub_config_env_is_the_default_source(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("config_name: from-env\nmodel_type: echo_chat\n")
    monkeypatch.setenv("MODELHUB_CONFIG", str(f))
    assert Registry().init() == ["from-env"]
    reg = Registry()  # get() loads MODELHUB_CONFIG when nothing was loaded yet
    assert reg.get("from-env")("x").text == "echo: x"
    monkeypatch.delenv("MODELHUB_CONFIG")
    with pytest.raises(errors.ConfigError, match="MODELHUB_CONFIG"):
        Registry().init()


def test_get_unknown_name_suggests_closest() -> None:
    reg = Registry()
    reg.init([echo("gpt-4o"), echo("qwen")])
    with pytest.raises(errors.ConfigNotFoundError) as info:
        reg.get("gpt4o")
    assert info.value.suggestions == ["gpt-4o"]
    assert "did you mean 'gpt-4o'" in str(info.value)
    assert isinstance(info.value, KeyError)
    with pytest.raises(errors.ConfigNotFoundError, match=r"loaded: gpt-4o, qwen$"):
        reg.get("completely-else")


def test_get_is_cached_and_built_once_under_32_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from modelhub_testplugin.echo import EchoChatWrapper

    builds = []
    original = EchoChatWrapper.setup

    def slow_setup(self: Any) -> None:
        builds.append(1)
        threading.Event().wait(0.05)
        original(self)

    monkeypatch.setattr(EchoChatWrapper, "setup", slow_setup)
    reg = Registry()
    reg.init(echo("shared"))
    barrier = threading.Barrier(32)
    got: list[Any] = []

    def worker() -> None:
        barrier.wait()
        got.append(reg.get("shared"))

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1 and len(got) == 32 and all(g is got[0] for g in got)


def test_module_level_api_and_alias(tmp_path: Path) -> None:
    from modelhub.registry import default_registry

    default_registry.clear()
    try:
        assert modelhub.init([echo("m1")], clear_existing=True) == ["m1"]
        assert modelhub.list_configs() == ["m1"]
        assert modelhub.get("m1") is modelhub.load_model_by_config_name("m1")
    finally:
        default_registry.clear()


def test_agentscope_config_file_loads_unchanged() -> None:
    root = Path(__file__).resolve().parent.parent
    reg = Registry()
    names = reg.init(root / "configs" / "agentscope" / "model_configs.json")
    assert names == ["gpt-4", "my_openai_compatible_server", "openai_embedding_config",
                     "dall-e-3"]
    compat = reg.entry("my_openai_compatible_server").config
    assert compat.base_url == "http://127.0.0.1:8000/v1/"  # type: ignore[attr-defined]
    assert compat.stream is True  # type: ignore[attr-defined]


def test_every_example_config_validates() -> None:
    root = Path(__file__).resolve().parent.parent / "configs"
    reg = Registry()
    names = reg.init([root, root / "agentscope"])
    types = {reg.entry(n).config.model_type for n in names}
    assert {"openai_chat", "openai_embedding", "openai_dall_e", "azure_openai_chat",
            "azure_openai_embedding", "openai"} <= types
