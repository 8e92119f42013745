"""Entry-point plugins end to end, with the test distributions installed."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

import modelhub
from modelhub import errors, plugins
from modelhub.config.schema import ModelConfig
from modelhub.registry import Registry
from modelhub.wrappers.base import ModelWrapperBase


def test_builtins_are_entry_points_of_modelhub() -> None:
    infos = {i.model_type: i for i in plugins.list_plugins()}
    for name in ("openai_chat", "openai", "openai_embedding", "openai_dall_e",
                 "azure_openai_chat", "azure_openai_embedding"):
        assert infos[name].distribution == "modelhub"


def test_third_party_plugin_resolves_from_its_distribution() -> None:
    info = next(i for i in plugins.list_plugins() if i.model_type == "echo_chat")
    assert (info.distribution, info.version) == ("modelhub-testplugin", "1.2.3")
    assert plugins.resolve("echo_chat").__name__ == "EchoChatWrapper"


def test_broken_plugin_names_its_distribution_and_spares_the_others() -> None:
    with pytest.raises(errors.PluginLoadError) as info:
        plugins.resolve("broken_chat")
    assert info.value.distribution == "modelhub-testplugin"
    assert "modelhub_missing_dependency_for_tests" in str(info.value)
    reg = Registry()
    with pytest.raises(errors.ConfigError) as cfg_info:
        reg.init([{"config_name": "b", "model_type": "broken_chat"},
                  {"config_name": "e", "model_type": "echo_chat"}])
    [issue] = cfg_info.value.issues
    assert issue.config_name == "b" and isinstance(issue.error, errors.PluginLoadError)
    assert reg.init({"config_name": "e", "model_type": "echo_chat"}) == ["e"]


def test_entry_point_that_is_not_a_wrapper_class() -> None:
    with pytest.raises(errors.PluginLoadError, match="not a ModelWrapperBase subclass"):
        plugins.resolve("not_a_wrapper")


def test_two_distributions_claiming_one_type_names_both() -> None:
    with pytest.raises(errors.PluginLoadError) as info:
        plugins.resolve("dup_chat")
    assert "modelhub-testplugin" in str(info.value)
    assert "modelhub-testplugin-rival" in str(info.value)


class _Cfg(ModelConfig):
    size: int = 1


class _Runtime(ModelWrapperBase):
    model_type: ClassVar[str] = "runtime_thing"
    config_class: ClassVar[type[ModelConfig]] = _Cfg

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return modelhub.ModelResponse(text=str(self.config.size))  # type: ignore[attr-defined]


def test_register_at_run_time() -> None:
    modelhub.register("runtime_thing", _Runtime)
    try:
        reg = Registry()
        reg.init({"config_name": "r", "model_type": "runtime_thing", "size": 3})
        assert reg.get("r")().text == "3"
        with pytest.raises(ValueError, match="already registered"):
            modelhub.register("runtime_thing", type("Other", (_Runtime,), {}))
        with pytest.raises(TypeError):
            modelhub.register("x", object)  # type: ignore[arg-type]
    finally:
        modelhub.unregister("runtime_thing")
    with pytest.raises(errors.UnknownModelTypeError):
        plugins.resolve("runtime_thing")


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    class NeedsSDK(_Runtime):
        model_type: ClassVar[str] = "needs_sdk"
        required_modules: ClassVar[tuple[str, ...]] = ("modelhub_no_such_sdk",)
        extra: ClassVar[str | None] = "nosuch"

    modelhub.register("needs_sdk", NeedsSDK)
    try:
        reg = Registry()
        assert reg.init({"config_name": "n", "model_type": "needs_sdk"}) == ["n"]
        with pytest.raises(errors.MissingDependencyError) as info:
            reg.get("n")
        assert "pip install 'modelhub[nosuch]'" in str(info.value)
        assert info.value.extra == "nosuch"
    finally:
        modelhub.unregister("needs_sdk")


def test_a_plugin_names_its_own_distribution_to_install() -> None:
    class PluginNeedsSDK(_Runtime):
        model_type: ClassVar[str] = "plugin_needs_sdk"
        required_modules: ClassVar[tuple[str, ...]] = ("modelhub_no_such_sdk",)
        install_hint: ClassVar[str | None] = "pip install modelhub-someplugin"

    with pytest.raises(errors.MissingDependencyError,
                       match=r"'modelhub_no_such_sdk', which is not installed: "
                             r"pip install modelhub-someplugin$"):
        PluginNeedsSDK(config_name="p")


# Every provider SDK and heavy library a built-in wrapper may import when it is built.
HEAVY = ["httpx", "httpcore", "openai", "dashscope", "anthropic", "litellm", "ollama",
         "huggingface_hub", "google.genai", "zai", "zhipuai", "jwt", "torch", "transformers",
         "click", "numpy", "aiohttp", "requests", "smolagents", "langchain_core",
         "pydantic_ai", "agentscope"]


def test_import_and_init_load_no_provider_sdk() -> None:
    # The example configs hold one config (or more) of every built-in model type.
    root = Path(__file__).resolve().parent.parent
    code = (
        "import sys, modelhub\n"
        f"names = modelhub.init([{str(root / 'configs')!r}, {str(root / 'configs/agentscope')!r}])\n"
        "from modelhub.registry import default_registry as r\n"
        "print(sorted({r.entry(n).model_type for n in names}))\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    types_line, heavy_line = out.stdout.split("\n")[:2]
    builtin = {i.model_type for i in plugins.list_plugins() if i.distribution == "modelhub"}
    assert builtin - set(ast.literal_eval(types_line)) == set(), "a type without an example"
    assert heavy_line == ""


def _builtin_types() -> list[str]:
    return sorted(i.model_type for i in plugins.list_plugins() if i.distribution == "modelhub")


def test_every_builtin_type_declares_the_config_class_of_its_wrapper() -> None:
    for model_type in _builtin_types():
        declared = [i for i in plugins._config_points.get(model_type, [])
                    if i.distribution == "modelhub"]
        assert declared, f"{model_type} has no modelhub.config_classes entry"
        assert plugins.resolve_config(model_type) is plugins.resolve(model_type).config_class


def test_init_imports_config_modules_only_and_get_imports_the_wrapper() -> None:
    # A fresh process: what init() of every built-in type's example configs (and a
    # plugin's config) imports, and what get() then adds.
    root = Path(__file__).resolve().parent.parent
    code = f"""
import json, sys, modelhub
names = modelhub.init([{str(root / 'configs')!r}, {str(root / 'configs/agentscope')!r},
                       {{'config_name': 'echo', 'model_type': 'echo_chat'}}])
after_init = sorted(m for m in sys.modules if m.startswith(('modelhub', 'httpx')))
modelhub.get('echo')
modelhub.get('gpt-4o-mini')
print(json.dumps([after_init, sorted(sys.modules)]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    after_init, after_get = json.loads(out.stdout)
    # what init() may import of modelhub: its core, and the providers' config modules
    # (with the light data they read), never a wrapper's module or the HTTP layer
    wrapper_modules = {i.value.split(":")[0] for i in plugins.list_plugins()}
    wrapper_code = [m for m in after_init if m in wrapper_modules or m.startswith((
                    "modelhub.wrappers", "modelhub.http", "modelhub.retry",
                    "modelhub.adapters", "httpx"))]
    assert wrapper_code == []
    assert "modelhub.providers.openai.config" in after_init
    assert {"modelhub.providers.openai.chat", "modelhub_testplugin.echo"} <= set(after_get)


def test_a_config_class_declared_by_another_distribution_is_not_used() -> None:
    assert plugins.resolve_config("echo_chat").__name__ == "EchoConfig"


def test_a_config_class_that_is_not_the_wrappers_fails_at_build() -> None:
    reg = Registry()
    assert reg.init({"config_name": "m", "model_type": "mismatch_chat"}) == ["m"]
    with pytest.raises(errors.PluginLoadError,
                       match=r"modelhub\.config_classes names OtherConfig") as info:
        reg.get("m")
    assert info.value.distribution == "modelhub-testplugin"


def test_a_config_module_that_fails_to_import_is_an_init_error() -> None:
    with pytest.raises(errors.ConfigError) as info:
        Registry().init({"config_name": "b", "model_type": "broken_config_chat"})
    [issue] = info.value.issues
    assert isinstance(issue.error, errors.PluginLoadError)
    assert "modelhub_missing_dependency_for_tests" in issue.message


class _Dist:
    """A distribution as importlib.metadata gives one: a new object at every scan."""

    def __init__(self, name: str) -> None:
        self.metadata = {"Name": name}
        self.version = "1.0"


def test_each_entry_point_is_credited_to_its_own_distribution(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Each group is read with new distribution objects. One of the config group that
    # lands where a wrapper group's distribution lived (freed by then) must not inherit
    # that one's name: init() would find no config class of the wrapper's distribution
    # and import the wrapper instead (the plugin's echo_chat, in a long test run).
    import weakref
    from types import SimpleNamespace

    first_group: dict[int, weakref.ref[_Dist]] = {}

    def entry_points(*, group: str) -> list[SimpleNamespace]:
        if group == plugins.ENTRY_POINT_GROUP:
            dists = [_Dist("wrapper-dist"), _Dist("other-dist")]
            first_group.update((id(d), weakref.ref(d)) for d in dists)
            return [SimpleNamespace(name=f"t{i}", value="w:W", dist=d)
                    for i, d in enumerate(dists)]
        # As in a long-lived process, the new object gets a freed one's address (when
        # one was freed): allocate until it does, keeping the misses alive meanwhile.
        freed = {i for i, ref in first_group.items() if ref() is None}
        made = [_Dist("config-dist")]
        while freed and id(made[-1]) not in freed and len(made) < 100_000:
            made.append(_Dist("config-dist"))
        return [SimpleNamespace(name="t0", value="c:C", dist=made[-1])]

    monkeypatch.setattr("importlib.metadata.entry_points", entry_points)
    wrappers, configs = plugins._scan_metadata()
    assert [i.distribution for i in wrappers["t0"]] == ["wrapper-dist"]
    assert [i.distribution for i in configs["t0"]] == ["config-dist"]
