"""modelhub: a config-driven model registry with wrapper plugins.

    import modelhub
    modelhub.init(model_configs="configs/models.yaml")
    model = modelhub.get("gpt")
    print(model("Hi").text)

`import modelhub` is cheap: it imports no provider SDK, and the names below are
loaded on first use. Plugin authors find everything they need here too (see
`modelhub.plugin`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, overload

__version__ = "0.1.0"

__all__ = [
    "ChatRequest",
    "ChatWrapperBase",
    "ConfigModel",
    "EmbeddingWrapperBase",
    "ImageWrapperBase",
    "ModelConfig",
    "ModelResponse",
    "ModelStream",
    "ModelWrapperBase",
    "RemoteModelConfig",
    "StreamAccumulator",
    "ToolCall",
    "Usage",
    "aclose",
    "add_hooks",
    "close",
    "errors",
    "export_configs",
    "get",
    "init",
    "list_configs",
    "load_model_by_config_name",
    "register",
    "register_callable",
    "unregister",
    "usage",
]

if TYPE_CHECKING:
    from modelhub import errors
    from modelhub.calls.hooks import Hook, HookHandle
    from modelhub.calls.ledger import UsageTotals
    from modelhub.config.sources import ConfigSource
    from modelhub.plugin import (
        ChatRequest,
        ChatWrapperBase,
        ConfigModel,
        EmbeddingWrapperBase,
        ImageWrapperBase,
        ModelConfig,
        ModelResponse,
        ModelStream,
        ModelWrapperBase,
        RemoteModelConfig,
        StreamAccumulator,
        ToolCall,
        Usage,
        register,
        unregister,
    )
    from modelhub.providers.callable import register_callable

    W = TypeVar("W", bound=ModelWrapperBase)

# name -> (module, attribute); None: the module itself.
_LAZY: dict[str, tuple[str, str | None]] = {
    "errors": ("modelhub.errors", None),
    "ModelResponse": ("modelhub.response", "ModelResponse"),
    "ToolCall": ("modelhub.response", "ToolCall"),
    "Usage": ("modelhub.response", "Usage"),
    "ModelConfig": ("modelhub.config.schema", "ModelConfig"),
    "ConfigModel": ("modelhub.config.schema", "ConfigModel"),
    "RemoteModelConfig": ("modelhub.config.schema", "RemoteModelConfig"),
    "ModelWrapperBase": ("modelhub.wrappers.base", "ModelWrapperBase"),
    "ChatWrapperBase": ("modelhub.wrappers.chat", "ChatWrapperBase"),
    "ChatRequest": ("modelhub.wrappers.chat", "ChatRequest"),
    "EmbeddingWrapperBase": ("modelhub.wrappers.embedding", "EmbeddingWrapperBase"),
    "ImageWrapperBase": ("modelhub.wrappers.images", "ImageWrapperBase"),
    "ModelStream": ("modelhub.wrappers.stream", "ModelStream"),
    "StreamAccumulator": ("modelhub.wrappers.accumulator", "StreamAccumulator"),
    "register": ("modelhub.plugins", "register"),
    "unregister": ("modelhub.plugins", "unregister"),
    "register_callable": ("modelhub.providers.callable", "register_callable"),
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
    `clear_existing=True` replaces what is loaded; otherwise configs are added (a file
    loaded again replaces its own earlier configs).
    Raises `errors.ConfigError` listing every problem, leaving the registry as it was.
    """
    from modelhub.registry import default_registry

    return default_registry.init(model_configs, clear_existing=clear_existing)


@overload
def get(config_name: str) -> ModelWrapperBase: ...


@overload
def get(config_name: str, kind: type[W]) -> W: ...


def get(config_name: str, kind: type[Any] | None = None) -> Any:
    """The wrapper for `config_name`, built once and cached (thread-safe).

    With `kind` (`modelhub.ChatWrapperBase`, `EmbeddingWrapperBase`, ...), the result is
    typed to it, and a TypeError says so when the config is of another kind. Raises
    `errors.ConfigNotFoundError` with the closest names when it is not loaded.
    """
    from modelhub.registry import default_registry

    return default_registry.get(config_name, kind) if kind is not None \
        else default_registry.get(config_name)


load_model_by_config_name = get


def list_configs() -> list[str]:
    """The names of the loaded configs, in load order."""
    from modelhub.registry import default_registry

    return default_registry.list_configs()


def export_configs(config_name: str | None = None) -> list[dict[str, Any]]:
    """The loaded configs (or one) as plain dicts, every secret masked."""
    from modelhub.registry import default_registry

    return default_registry.export(config_name)


def usage(config_name: str | None = None) -> dict[str, UsageTotals]:
    """Per-config totals of the calls made so far in this process (calls, errors, input
    and output tokens, latency, cost in USD; cost None where no price is known): of
    every config called, or of one."""
    from modelhub.registry import default_registry

    return default_registry.usage(config_name)


def add_hooks(*, before_call: Hook | None = None, after_call: Hook | None = None,
              on_error: Hook | None = None) -> HookHandle:
    """Run these functions around each call of the loaded configs (the default
    registry's), each given the call's `CallEvent`; returns a handle whose `remove()`
    takes them off. A `before_call` hook that raises refuses the call."""
    from modelhub.registry import default_registry

    return default_registry.add_hooks(before_call=before_call, after_call=after_call,
                                      on_error=on_error)


def close() -> None:
    """Close the shared HTTP connections (sync ones close at exit by themselves)."""
    import sys

    pool = sys.modules.get("modelhub.http.pool")
    if pool is not None:
        pool.close()


async def aclose() -> None:
    """Close the shared HTTP connections of the running event loop, and the sync ones."""
    import sys

    pool = sys.modules.get("modelhub.http.pool")
    if pool is not None:
        await pool.aclose()
