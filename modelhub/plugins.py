"""Finding wrapper classes: entry points of group `modelhub.model_types`, plus run-time
registrations.

An entry point's name is a model_type and its value `module:Class`. Entry points are
listed once (cheap: no plugin is imported) and each is imported the first time its
model_type is asked for, so a broken plugin affects only its own model types.
"""

from __future__ import annotations

import difflib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelhub.errors import ConfigIssue, PluginLoadError, UnknownModelTypeError

if TYPE_CHECKING:
    from modelhub.wrappers.base import ModelWrapperBase

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "known_model_types",
    "list_plugins",
    "refresh",
    "register",
    "resolve",
    "unregister",
]

ENTRY_POINT_GROUP = "modelhub.model_types"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One entry point claiming a model_type."""

    model_type: str
    value: str  # "module:Class"
    distribution: str | None
    version: str | None


_lock = threading.RLock()
_entry_points: dict[str, list[Any]] | None = None
_runtime: dict[str, type[ModelWrapperBase]] = {}
_loaded: dict[str, type[ModelWrapperBase]] = {}


def _dist_name(ep: Any) -> str | None:
    dist = getattr(ep, "dist", None)
    return dist.metadata["Name"] if dist is not None else None


def _info(ep: Any) -> PluginInfo:
    dist = getattr(ep, "dist", None)
    return PluginInfo(ep.name, ep.value, _dist_name(ep), dist.version if dist else None)


def _scan() -> dict[str, list[Any]]:
    from importlib.metadata import entry_points

    by_name: dict[str, list[Any]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        by_name.setdefault(ep.name, []).append(ep)
    found: dict[str, list[Any]] = {}  # PluginInfo, or _LazyInfo for unclaimed names
    for name, eps in by_name.items():
        if len(eps) == 1:
            # Reading a distribution's metadata is slow: defer it for the common case.
            found[name] = [_LazyInfo(eps[0])]
            continue
        # The same distribution can be visible twice (e.g. two sys.path entries).
        infos: dict[str | None, PluginInfo] = {}
        for ep in eps:
            infos.setdefault(_dist_name(ep), _info(ep))
        found[name] = list(infos.values())
    return found


class _LazyInfo:
    """A PluginInfo whose distribution name and version are read on first use."""

    __slots__ = ("_ep", "_info", "model_type", "value")

    def __init__(self, ep: Any) -> None:
        self._ep = ep
        self._info: PluginInfo | None = None
        self.model_type: str = ep.name
        self.value: str = ep.value

    def _full(self) -> PluginInfo:
        if self._info is None:
            self._info = _info(self._ep)
        return self._info

    @property
    def distribution(self) -> str | None:
        """The distribution that declares the entry point."""
        return self._full().distribution

    @property
    def version(self) -> str | None:
        """That distribution's version."""
        return self._full().version


def _entry_point_table() -> dict[str, list[Any]]:
    global _entry_points
    table = _entry_points
    if table is None:
        with _lock:
            if _entry_points is None:
                _entry_points = _scan()
            table = _entry_points
    return table


def refresh() -> None:
    """Forget what was discovered, so newly installed plugins are seen."""
    global _entry_points
    with _lock:
        _entry_points = None
        _loaded.clear()


def known_model_types() -> list[str]:
    """Every model_type that can be asked for, sorted."""
    return sorted(set(_entry_point_table()) | set(_runtime))


def list_plugins() -> list[PluginInfo]:
    """Every entry point of the group, including run-time registrations."""
    infos = [info if isinstance(info, PluginInfo) else info._full()
             for infos in _entry_point_table().values() for info in infos]
    infos += [PluginInfo(name, f"{cls.__module__}:{cls.__qualname__}", None, None)
              for name, cls in _runtime.items()]
    return sorted(infos, key=lambda i: (i.model_type, i.distribution or ""))


def _is_wrapper_class(obj: Any) -> bool:
    from modelhub.wrappers.base import ModelWrapperBase

    return isinstance(obj, type) and issubclass(obj, ModelWrapperBase)


def resolve(model_type: str) -> type[ModelWrapperBase]:
    """The wrapper class for `model_type`, importing its plugin on first use.

    Raises UnknownModelTypeError (with the known types and the closest spelling),
    or PluginLoadError when the entry point fails to import or is claimed by two
    distributions.
    """
    cls = _runtime.get(model_type) or _loaded.get(model_type)
    if cls is not None:
        return cls
    infos = _entry_point_table().get(model_type)
    if not infos:
        known = known_model_types()
        close = difflib.get_close_matches(model_type, known, n=1, cutoff=0.6)
        msg = f"unknown model_type {model_type!r}"
        if close:
            msg += f"; did you mean {close[0]!r}?"
        msg += f" Known model types: {', '.join(known) or '(none installed)'}"
        raise UnknownModelTypeError(ConfigIssue(msg, field="model_type"), model_type, known)
    if len(infos) > 1:
        claims = ", ".join(f"{i.distribution} ({i.value})" for i in infos)
        raise PluginLoadError(
            f"model_type {model_type!r} is claimed by more than one distribution: {claims}; "
            "uninstall one of them",
            distribution=infos[0].distribution, model_type=model_type)
    info = infos[0]
    with _lock:
        cls = _loaded.get(model_type)
        if cls is None:
            cls = _import(info)
            _loaded[model_type] = cls
    return cls


def _import(info: PluginInfo) -> type[ModelWrapperBase]:
    import importlib

    module_name, _, attr = info.value.partition(":")
    where = f"entry point {info.model_type!r} = {info.value!r} of distribution " \
            f"{info.distribution!r}"
    try:
        obj: Any = importlib.import_module(module_name.strip())
        for part in attr.strip().split(".") if attr else ():
            obj = getattr(obj, part)
    except Exception as exc:
        raise PluginLoadError(
            f"{where} failed to load: {type(exc).__name__}: {exc}",
            distribution=info.distribution, model_type=info.model_type) from exc
    if not _is_wrapper_class(obj):
        raise PluginLoadError(f"{where} names {obj!r}, which is not a ModelWrapperBase subclass",
                              distribution=info.distribution, model_type=info.model_type)
    return obj  # type: ignore[no-any-return]


def register(model_type: str, cls: type[ModelWrapperBase], *, replace: bool = False) -> None:
    """Register a wrapper class for `model_type` at run time.

    It takes precedence over an entry point of the same name. Registering a name
    already registered at run time raises ValueError unless `replace=True`.
    """
    if not _is_wrapper_class(cls):
        raise TypeError(f"register({model_type!r}, ...) needs a ModelWrapperBase subclass, "
                        f"got {cls!r}")
    if not model_type or not isinstance(model_type, str):
        raise ValueError("model_type must be a non-empty string")
    with _lock:
        if model_type in _runtime and _runtime[model_type] is not cls and not replace:
            raise ValueError(
                f"model_type {model_type!r} is already registered to "
                f"{_runtime[model_type].__qualname__}; pass replace=True to replace it")
        _runtime[model_type] = cls


def unregister(model_type: str) -> None:
    """Remove a run-time registration (entry points are untouched)."""
    with _lock:
        _runtime.pop(model_type, None)
