"""modelhub: a config-driven model registry with wrapper plugins.

    import modelhub
    modelhub.init(model_configs="configs/models.yaml")
    model = modelhub.get("gpt")
    print(model("Hi").text)

`import modelhub` is cheap: it imports no provider SDK, and the names below are
loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ChatWrapperBase",
    "ModelResponse",
    "ModelStream",
    "ModelWrapperBase",
    "ToolCall",
    "Usage",
    "errors",
    "export_configs",
    "get",
    "init",
    "list_configs",
    "load_model_by_config_name",
    "register",
    "unregister",
]

if TYPE_CHECKING:
    from modelhub import errors
    from modelhub.config.sources import ConfigSource
    from modelhub.plugins import register, unregister
    from modelhub.response import ModelResponse, ToolCall, Usage
    from modelhub.wrappers.base import ModelWrapperBase
    from modelhub.wrappers.chat import ChatWrapperBase
    from modelhub.wrappers.stream import ModelStream

_LAZY = {
    "errors": ("modelhub.errors", None),
    "ModelResponse": ("modelhub.response", "ModelResponse"),
    "ToolCall": ("modelhub.response", "ToolCall"),
    "Usage": ("modelhub.response", "Usage"),
    "ModelWrapperBase": ("modelhub.wrappers.base", "ModelWrapperBase"),
    "ChatWrapperBase": ("modelhub.wrappers.chat", "ChatWrapperBase"),
    "ModelStream": ("modelhub.wrappers.stream", "ModelStream"),
    "register": ("modelhub.plugins", "register"),
    "unregister": ("modelhub.plugins", "unregister"),
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'modelhub' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(target[0])
    value = module if target[1] is None else getattr(module, target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def init(model_configs: ConfigSource | None = None, *, clear_existing: bool = False) -> list[str]:
    """Load model configs; return the config names loaded.

    `model_configs` is a dict, a list of dicts, a path to a .json/.yaml/.yml file, a
    folder of them, or a list of paths; None reads the path in MODELHUB_CONFIG.
    `clear_existing=True` replaces what is loaded; otherwise configs are added.
    Raises `errors.ConfigError` listing every problem, leaving the registry as it was.
    """
    from modelhub.registry import default_registry

    return default_registry.init(model_configs, clear_existing=clear_existing)


def get(config_name: str) -> ModelWrapperBase:
    """The wrapper for `config_name`, built once and cached (thread-safe).

    Raises `errors.ConfigNotFoundError` with the closest names when it is not loaded.
    """
    from modelhub.registry import default_registry

    return default_registry.get(config_name)


load_model_by_config_name = get


def list_configs() -> list[str]:
    """The names of the loaded configs, in load order."""
    from modelhub.registry import default_registry

    return default_registry.list_configs()


def export_configs(config_name: str | None = None) -> list[dict[str, Any]]:
    """The loaded configs (or one) as plain dicts, every secret masked."""
    from modelhub.registry import default_registry

    return default_registry.export(config_name)
