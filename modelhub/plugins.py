"""Finding wrapper classes: entry points of group `modelhub.model_types`, plus run-time
registrations; and their config classes, without importing the wrappers.

An entry point's name is a model_type and its value `module:Class`. Entry points are
listed once (no plugin is imported; the table is cached on disk while the installed
distributions are unchanged, see `modelhub.cache`) and each is imported the first time
its model_type is asked for, so a broken plugin affects only its own model types.

A distribution may also declare, in group `modelhub.config_classes`, where the config
class of each of its model types lives (`openai_chat =
"modelhub.providers.openai.config:OpenAIChatConfig"`). `init()` then imports only that
light module to validate a config; the wrapper's own module is imported when a wrapper
is first built, and its `config_class` must be that very class. A model type with no
such entry has its config class read from its wrapper class, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from modelhub.errors import ConfigIssue, PluginLoadError, UnknownModelTypeError

if TYPE_CHECKING:
    from modelhub.config.schema import ModelConfig
    from modelhub.wrappers.base import ModelWrapperBase

__all__ = [
    "CONFIG_GROUP",
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "check_config_class",
    "known_model_types",
    "list_plugins",
    "refresh",
    "register",
    "resolve",
    "resolve_config",
    "unregister",
]

ENTRY_POINT_GROUP = "modelhub.model_types"
CONFIG_GROUP = "modelhub.config_classes"


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One entry point claiming a model_type."""

    model_type: str
    value: str  # "module:Class"
    distribution: str | None
    version: str | None


Table = dict[str, list[PluginInfo]]
T = TypeVar("T")

_lock = threading.RLock()
_entry_points: Table | None = None
_config_points: Table = {}
_runtime: dict[str, type[ModelWrapperBase]] = {}
_loaded: dict[str, type[ModelWrapperBase]] = {}
_loaded_configs: dict[str, type[ModelConfig]] = {}

_CACHE_NAME = "entry-points.json"


def _scan_metadata() -> tuple[Table, Table]:
    """The entry points of both groups (wrappers, config classes), read through
    importlib.metadata."""
    from importlib.metadata import entry_points

    # Reading METADATA is slow: once per distribution object. The memo holds each object
    # it names: keyed by id() alone, a distribution freed after the first group's loop
    # could lend its id (and so its name) to another distribution of the second group.
    dists: dict[int, tuple[Any, str | None, str | None]] = {}
    tables: tuple[Table, Table] = ({}, {})
    for group, found in zip((ENTRY_POINT_GROUP, CONFIG_GROUP), tables):
        for ep in entry_points(group=group):
            dist = getattr(ep, "dist", None)
            if id(dist) not in dists:
                dists[id(dist)] = (dist, *((dist.metadata["Name"], dist.version) if dist
                                           else (None, None)))
            _, name, version = dists[id(dist)]
            infos = found.setdefault(ep.name, [])
            # The same distribution can be visible twice (e.g. two sys.path entries).
            if all(i.distribution != name for i in infos):
                infos.append(PluginInfo(ep.name, ep.value, name, version))
    return tables


def _rows_ok(table: Any) -> bool:
    """Whether a cached table has exactly the shape `_scan` writes."""
    def optional_str(v: Any) -> bool:
        return v is None or isinstance(v, str)

    return isinstance(table, dict) and all(
        isinstance(name, str) and isinstance(rows, list) and rows and all(
            isinstance(row, list) and len(row) == 3 and isinstance(row[0], str)
            and optional_str(row[1]) and optional_str(row[2]) for row in rows)
        for name, rows in table.items())


def _scan() -> tuple[Table, Table]:
    """The entry-point tables: from the cache while the installed distributions are
    unchanged, else scanned (and cached)."""
    import time

    from modelhub import cache

    started = time.time_ns()
    key, newest = cache.distributions_state()
    stored = cache.read(_CACHE_NAME)
    if isinstance(stored, dict) and stored.get("key") == key \
            and _rows_ok(stored.get("table")) and _rows_ok(stored.get("configs")):
        wrappers, configs = ({name: [PluginInfo(name, *row) for row in rows]
                              for name, rows in stored[part].items()}
                             for part in ("table", "configs"))
        return wrappers, configs
    tables = _scan_metadata()
    # Store only what was read from distributions settled before the key was taken and
    # unchanged since: else the table may miss what an install wrote meanwhile.
    if newest > started - int(cache.SETTLE_SECONDS * 1e9) \
            or cache.distributions_state()[0] != key:
        return tables
    cache.write(_CACHE_NAME, {"key": key, **{part: {
        name: [[i.value, i.distribution, i.version] for i in infos]
        for name, infos in table.items()} for part, table in zip(("table", "configs"), tables)}})
    return tables


def _entry_point_table() -> Table:
    global _entry_points, _config_points
    table = _entry_points
    if table is None:
        with _lock:
            if _entry_points is None:
                _entry_points, _config_points = _scan()
            table = _entry_points
    return table


def refresh() -> None:
    """Forget what was discovered, so newly installed or edited plugins are seen."""
    global _entry_points
    with _lock:
        _entry_points = None
        _loaded.clear()
        _loaded_configs.clear()


def known_model_types() -> list[str]:
    """Every model_type that can be asked for, sorted."""
    return sorted(set(_entry_point_table()) | set(_runtime))


def list_plugins() -> list[PluginInfo]:
    """Every entry point of the group, including run-time registrations."""
    infos = [info for infos in _entry_point_table().values() for info in infos]
    infos += [PluginInfo(name, f"{cls.__module__}:{cls.__qualname__}", None, None)
              for name, cls in _runtime.items()]
    return sorted(infos, key=lambda i: (i.model_type, i.distribution or ""))


def _is_wrapper_class(obj: Any) -> bool:
    from modelhub.wrappers.base import ModelWrapperBase

    return isinstance(obj, type) and issubclass(obj, ModelWrapperBase)


def _claim(model_type: str) -> PluginInfo:
    """The one entry point claiming `model_type`; raises UnknownModelTypeError (with the
    known types and the closest spelling), or PluginLoadError when two distributions
    claim it."""
    infos = _entry_point_table().get(model_type)
    if not infos:
        from modelhub.config.suggest import did_you_mean

        known = known_model_types()
        msg = f"unknown model_type {model_type!r}{did_you_mean(model_type, known)}"
        msg += f" Known model types: {', '.join(known) or '(none installed)'}"
        raise UnknownModelTypeError(ConfigIssue(msg, field="model_type"), model_type, known)
    if len(infos) > 1:
        claims = ", ".join(f"{i.distribution} ({i.value})" for i in infos)
        raise PluginLoadError(
            f"model_type {model_type!r} is claimed by more than one distribution: {claims}; "
            "uninstall one of them",
            distribution=infos[0].distribution, model_type=model_type)
    return infos[0]


def resolve(model_type: str) -> type[ModelWrapperBase]:
    """The wrapper class for `model_type`, importing its plugin on first use.

    Raises UnknownModelTypeError (with the known types and the closest spelling),
    or PluginLoadError when the entry point fails to import or is claimed by two
    distributions.
    """
    cls = _runtime.get(model_type) or _loaded.get(model_type)
    if cls is not None:
        return cls
    return _import_once(_loaded, _claim(model_type), "a ModelWrapperBase subclass",
                        _is_wrapper_class)


def resolve_config(model_type: str) -> type[ModelConfig]:
    """The config class configs of `model_type` are validated against, importing as
    little as it can: the module the wrapper's distribution names for it in
    `modelhub.config_classes`, else the wrapper's own (its `config_class`).

    Raises what `resolve` raises.
    """
    runtime = _runtime.get(model_type)
    if runtime is not None:
        return runtime.config_class
    found = _loaded_configs.get(model_type)
    if found is not None:
        return found
    info = _claim(model_type)
    declared = next((c for c in _config_points.get(model_type, ())
                     if c.distribution == info.distribution), None)
    if declared is None:
        return resolve(model_type).config_class
    return _import_once(_loaded_configs, declared, "a ModelConfig subclass",
                        _is_config_class)


def _import_once(loaded: dict[str, T], info: PluginInfo, what: str,
                 check: Callable[[Any], bool]) -> T:
    """What `info` names, imported once (under the lock) and kept in `loaded`."""
    with _lock:
        found = loaded.get(info.model_type)
        if found is None:
            found = loaded[info.model_type] = _import(info, what, check)
    return found


def check_config_class(model_type: str, wrapper: type[ModelWrapperBase],
                       config: ModelConfig) -> None:
    """Raise PluginLoadError when `config` (validated against the config class declared
    for `model_type`) is not what `wrapper` takes: the two entry points disagree."""
    if not isinstance(config, wrapper.config_class):
        declared = next((c for c in _config_points.get(model_type, ())), None)
        raise PluginLoadError(
            f"model_type {model_type!r}: entry point {CONFIG_GROUP} names "
            f"{type(config).__qualname__}, but {wrapper.__qualname__}.config_class is "
            f"{wrapper.config_class.__qualname__}; the distribution must declare the "
            "wrapper's own config class",
            distribution=declared.distribution if declared else None, model_type=model_type)


def _is_config_class(obj: Any) -> bool:
    from modelhub.config.schema import ModelConfig

    return isinstance(obj, type) and issubclass(obj, ModelConfig)


def _import(info: PluginInfo, what: str, check: Callable[[Any], bool]) -> Any:
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
    if not check(obj):
        raise PluginLoadError(f"{where} names {obj!r}, which is not {what}",
                              distribution=info.distribution, model_type=info.model_type)
    return obj


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
