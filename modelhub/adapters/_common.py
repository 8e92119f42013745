"""What every framework adapter shares: finding the chat wrapper, importing the
framework with a clear error, and the answer's parts in neutral terms."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from modelhub.errors import MissingDependencyError

if TYPE_CHECKING:
    from modelhub.wrappers.chat import ChatWrapperBase

__all__ = ["chat_wrapper", "require"]


def require(module: str, extra: str) -> ModuleType:
    """Import `module`, or raise MissingDependencyError naming the extra to install
    when it is not installed (a module that is installed but fails to import raises
    its own error)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module == exc.name or module.startswith(exc.name + ".")):
            raise
        raise MissingDependencyError(
            f"modelhub.adapters.{extra} needs {module!r}, which is not installed: "
            f"pip install 'modelhub[{extra}]'", extra=extra) from exc


def chat_wrapper(model: Any) -> ChatWrapperBase:
    """The chat wrapper `model` names (a config name) or is (a wrapper)."""
    from modelhub.wrappers.chat import ChatWrapperBase

    if isinstance(model, ChatWrapperBase):
        return model
    if isinstance(model, str):
        from modelhub.registry import default_registry

        return default_registry.get(model, ChatWrapperBase)
    raise TypeError(f"expected a config name or a modelhub chat wrapper, "
                    f"got {type(model).__name__}")
