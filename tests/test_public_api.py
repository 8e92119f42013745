"""The public face: what `modelhub` and `modelhub.plugin` export, that import stays
light, and that the test suite's own plugins never reach the user's environment."""

from __future__ import annotations

import os
import subprocess
import sys

import modelhub
import modelhub.plugin

PLUGIN_API = {"ChatWrapperBase", "ChatRequest", "EmbeddingWrapperBase", "ImageWrapperBase",
              "ModelWrapperBase", "ModelConfig", "RemoteModelConfig", "ConfigModel",
              "ModelResponse", "ModelStream", "ToolCall", "Usage", "StreamAccumulator",
              "register", "unregister", "errors"}


def test_every_exported_name_resolves_and_is_documented() -> None:
    import inspect

    for module in (modelhub, modelhub.plugin):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) or inspect.isfunction(value) or inspect.ismodule(value):
                assert value.__doc__, f"{module.__name__}.{name} has no docstring"
    assert sorted(modelhub.__all__) == modelhub.__all__


def test_a_plugin_author_needs_nothing_deeper_than_modelhub() -> None:
    assert set(modelhub.__all__) >= PLUGIN_API
    assert set(modelhub.plugin.__all__) >= PLUGIN_API
    for name in PLUGIN_API:
        assert getattr(modelhub, name) is getattr(modelhub.plugin, name)


def test_import_loads_no_sdk_and_no_pydantic() -> None:
    code = ("import sys, modelhub; heavy = ('pydantic', 'httpx', 'yaml', 'openai', 'click'); "
            "print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_the_test_plugins_are_not_installed_in_the_users_environment() -> None:
    # Without the suite's temporary site folder, no test plugin is visible.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = ("from importlib.metadata import entry_points; "
            "print(sorted(e.name for e in entry_points(group='modelhub.model_types')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    names = eval(out.stdout)  # a list literal printed above
    assert "openai_chat" in names
    assert not {"echo_chat", "broken_chat", "not_a_wrapper", "dup_chat", "mismatch_chat",
                "broken_config_chat"} & set(names)
