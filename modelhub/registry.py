"""The registry: configs loaded by `init()`, wrappers handed out by `get()`.

`init()` reads every source, expands `${VAR}` references, finds each model_type's
config class (importing only the module that defines it, see `modelhub.plugins`) and
validates each config against it, all before touching the registry; then, under the
registry's lock, it checks names against what is loaded and swaps the new table in
whole, or raises and changes nothing.
`get()` builds each wrapper once (a per-name lock, so many threads asking at once
build it once) and then serves it from a dict without locking.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from modelhub import plugins
from modelhub.errors import (
    ConfigError,
    ConfigIssue,
    ConfigNotFoundError,
    ModelhubError,
    UnknownModelTypeError,
    render_location,
)

if TYPE_CHECKING:
    from modelhub.calls.hooks import Hook, HookHandle
    from modelhub.calls.ledger import UsageTotals
    from modelhub.calls.runtime import CallRuntime
    from modelhub.config.expand import MissingVar
    from modelhub.config.schema import ModelConfig
    from modelhub.config.sources import ConfigSource, Location, RawConfig
    from modelhub.wrappers.base import ModelWrapperBase

__all__ = ["ConfigEntry", "Registry", "default_registry"]

CONFIG_ENV_VAR = "MODELHUB_CONFIG"
W = TypeVar("W", bound="ModelWrapperBase")


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """A loaded config: its validated model and where it came from (a record: reading it
    does no I/O). `data` is the config as expanded and `source` the real path of its
    file, to tell a reload from a clash."""

    config: ModelConfig
    location: Location | None
    data: Mapping[str, Any]
    source: str | None = None

    @property
    def config_name(self) -> str:
        """The config's name."""
        return self.config.config_name

    @property
    def model_type(self) -> str:
        """The config's model_type, as written (an alias stays an alias)."""
        return self.config.model_type

    def where(self) -> str:
        """`path:line`, or '<memory>' for a config given as a dict."""
        loc = self.location
        return render_location(loc.path, loc.line) if loc else "<memory>"

    def same_source(self, other: ConfigEntry) -> bool:
        """Whether `other` is this config loaded again: from the same file, or (given as
        a dict) with the same content."""
        if self.source is None or other.source is None:
            return self.source is other.source and dict(self.data) == dict(other.data)
        return self.source == other.source

    def __repr__(self) -> str:
        return (f"ConfigEntry(config_name={self.config_name!r}, "
                f"model_type={self.model_type!r}, source={self.where()!r})")


def _issue(raw: RawConfig, message: str, field: str | None = None,
           error: BaseException | None = None,
           field_path: tuple[str | int, ...] | None = None) -> ConfigIssue:
    """A ConfigIssue about `raw`, located at `field` (or `field_path`) when known."""
    name = raw.data.get("config_name")
    loc = raw.location
    path = field_path if field_path is not None else ((field,) if field else ())
    return ConfigIssue(
        message, config_name=name if isinstance(name, str) else None, field=field,
        path=loc.path if loc else None, line=loc.line_of(path) if loc else None, error=error)


def _under(field: str | None, paths: list[str]) -> bool:
    """Whether a dotted field path is one of `paths` or lies inside one of them."""
    return field is not None and any(field == p or field.startswith(p + ".") for p in paths)


def _variable_issue(raw: RawConfig, problem: MissingVar) -> ConfigIssue:
    field = ".".join(str(p) for p in problem.field_path)
    message = (f"${{pkg:{problem.name}}}: {problem.reason}" if problem.package else
               f"bad variable reference: {problem.reason}" if problem.reason else
               f"environment variable {problem.name} is not set and has no default "
               f"(write ${{{problem.name}:-default}} to give one)")
    return _issue(raw, message, field, field_path=tuple(problem.field_path))


def _naming_variables(issue: ConfigIssue,
                      variables: Mapping[tuple[str | int, ...], list[str]]) -> ConfigIssue:
    """`issue`, saying which variables the offending value came from, if any."""
    from dataclasses import replace

    if not issue.field:
        return issue
    names = [n for path, found in variables.items()
             if ".".join(map(str, path)) == issue.field
             or ".".join(map(str, path)).startswith(issue.field + ".") for n in found]
    if not names:
        return issue
    refs = ", ".join(f"${{{n}}}" for n in dict.fromkeys(names))
    return replace(issue, message=f"{issue.message} (the value comes from {refs})")


def _prepare(raw: RawConfig, env: Mapping[str, str], source: str | None = None
             ) -> tuple[ConfigEntry | None, list[ConfigIssue]]:
    """One config expanded, its config class found and the config validated: its entry,
    or every issue found. `source` is the real path of its file."""
    expanded, variable_issues, variables = _expand(raw, env)
    if expanded is None:
        return None, variable_issues
    config_class, issues = _config_class(raw, expanded, variable_issues)
    if config_class is None:
        return None, issues
    from modelhub.config.sources import beside_file
    from modelhub.config.validate import validate_config

    expanded = beside_file(expanded, raw.location)

    config, found = validate_config(config_class, expanded, raw.location)
    # A field whose variable is missing holds the reference itself: report the
    # variable, not what its placeholder fails to be.
    unset = [issue.field for issue in variable_issues if issue.field]
    issues = variable_issues + [_naming_variables(i, variables) for i in found
                                if not _under(i.field, unset)]
    if config is None or issues:
        return None, issues
    return ConfigEntry(config, raw.location, expanded, source), []


def _expand(raw: RawConfig, env: Mapping[str, str]
            ) -> tuple[dict[str, Any] | None, list[ConfigIssue],
                       Mapping[tuple[str | int, ...], list[str]]]:
    """`${VAR}` references expanded: the config (None when it cannot be read at all),
    an issue per variable that is unset or malformed, and the variables of each field."""
    from modelhub._json import NestingError
    from modelhub.config.expand import expand_env

    try:
        expanded, problems, variables = expand_env(raw.data, env)
    except NestingError as exc:
        field = ".".join(str(p) for p in exc.path) or None
        return None, [_issue(raw, f"the config cannot be read: {exc}", field,
                             field_path=exc.path)], {}
    issues = [_variable_issue(raw, problem) for problem in problems]
    if any(issue.field == "model_type" for issue in issues):
        return None, issues, {}  # nothing to validate the rest against
    return expanded, issues, variables


def _config_class(raw: RawConfig, expanded: Mapping[str, Any], issues: list[ConfigIssue]
                  ) -> tuple[type[ModelConfig] | None, list[ConfigIssue]]:
    """The config class of the config's model_type, or None and the issues so far plus
    why there is none."""
    model_type = expanded.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        known = ", ".join(plugins.known_model_types())
        return None, [*issues, _issue(
            raw, f"model_type is required; known model types: {known}", "model_type")]
    try:
        return plugins.resolve_config(model_type), issues
    except ModelhubError as error:
        message = error.issues[0].message if isinstance(error, ConfigError) else str(error)
        return None, [*issues, _issue(raw, message, "model_type", error)]


def _raise_all(issues: list[ConfigIssue]) -> None:
    """Raise every issue at once, in file and line order (configs given as dicts first,
    in the order given)."""
    issues = sorted(issues, key=lambda i: (i.path or "", i.line or 0))
    if all(isinstance(i.error, UnknownModelTypeError) for i in issues):
        first = issues[0].error
        assert isinstance(first, UnknownModelTypeError)
        raise UnknownModelTypeError(issues, first.model_type, first.known_types)
    raise ConfigError(issues)


class Registry:
    """A table of model configs and the wrappers built from them."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: dict[str, ConfigEntry] = {}
        self._instances: dict[str, ModelWrapperBase] = {}
        self._build_locks: dict[str, threading.Lock] = {}
        self._initialised = False
        self._calls: CallRuntime | None = None

    @property
    def calls(self) -> CallRuntime:
        """What this registry keeps for its configs' calls: hooks, usage totals and
        budgets, rate limiters, log files (made on first use)."""
        runtime = self._calls
        if runtime is None:
            with self._lock:
                if self._calls is None:
                    from modelhub.calls.runtime import CallRuntime

                    self._calls = CallRuntime()
                runtime = self._calls
        return runtime

    # -- loading ---------------------------------------------------------------------
    def init(self, model_configs: ConfigSource | None = None, *,
             clear_existing: bool = False,
             environ: Mapping[str, str] | None = None) -> list[str]:
        """Load configs; return the config names loaded, in source order.

        `model_configs` is a dict, a list of dicts, a path to a .json/.yaml/.yml file or
        a folder of them, or a list of paths; `None` reads the path in
        MODELHUB_CONFIG. With `clear_existing=True` the loaded configs replace the
        registry; otherwise they are added to it, and a config loaded again from the
        same file replaces its earlier self. Raises ConfigError listing every problem;
        on any error the registry keeps exactly what it had.
        """
        env = os.environ if environ is None else environ
        prepared, issues = self._read(self._source(model_configs, env), env)
        if issues:
            _raise_all(issues)
        with self._lock:
            issues = self._clashes(prepared, clear_existing)
            issues += self._fallback_issues(prepared, clear_existing)
            if issues:
                _raise_all(issues)
            self._swap(prepared, clear_existing)
        return list(prepared)

    def _fallback_issues(self, prepared: dict[str, ConfigEntry],
                         clear_existing: bool) -> list[ConfigIssue]:
        """Fallbacks of the new configs naming no config, or making a cycle, in the
        table as it would be (the caller holds the lock)."""
        table = prepared if clear_existing else {**self._entries, **prepared}
        if not any(entry.config.fallbacks for entry in table.values()):
            return []
        from modelhub.calls.fallbacks import check

        return check(table, prepared)

    @staticmethod
    def _source(model_configs: ConfigSource | None, env: Mapping[str, str]) -> ConfigSource:
        if model_configs is not None:
            return model_configs
        path = env.get(CONFIG_ENV_VAR)
        if not path:
            raise ConfigError(
                f"no model_configs given and {CONFIG_ENV_VAR} is not set: pass a dict, "
                "a list, or a path to a JSON/YAML file or folder")
        return path

    @staticmethod
    def _read(source: ConfigSource, env: Mapping[str, str]
              ) -> tuple[dict[str, ConfigEntry], list[ConfigIssue]]:
        """Every config of `source` prepared, and every issue: names clashing within
        the source among them."""
        from modelhub.config.sources import read_sources

        raws, issues = read_sources(source)
        prepared: dict[str, ConfigEntry] = {}
        real_paths: dict[str, str] = {}  # one lookup per file
        for raw in raws:
            path = raw.location.path if raw.location else None
            if path is not None and path not in real_paths:
                real_paths[path] = os.path.realpath(path)
            entry, found = _prepare(raw, env, real_paths.get(path) if path else None)
            issues += found
            if entry is None:
                continue
            earlier = prepared.get(entry.config_name)
            if earlier is not None:
                issues.append(_issue(raw, f"duplicate config_name {entry.config_name!r}: "
                                          f"already defined at {earlier.where()}",
                                     "config_name"))
                continue
            prepared[entry.config_name] = entry
        return prepared, issues

    def _clashes(self, prepared: dict[str, ConfigEntry],
                 clear_existing: bool) -> list[ConfigIssue]:
        """Names already loaded from elsewhere (the caller holds the lock)."""
        if clear_existing:
            return []
        issues = []
        for name, entry in prepared.items():
            loaded = self._entries.get(name)
            if loaded is not None and not loaded.same_source(entry):
                loc = entry.location
                issues.append(ConfigIssue(
                    f"duplicate config_name {name!r}: already loaded from {loaded.where()} "
                    "(pass clear_existing=True to replace what is loaded)",
                    config_name=name, field="config_name", path=loc.path if loc else None,
                    line=loc.line_of(("config_name",)) if loc else None))
        return issues

    def _swap(self, prepared: dict[str, ConfigEntry], clear_existing: bool) -> None:
        """Put the prepared entries in (the caller holds the lock)."""
        if clear_existing:
            self._entries, self._instances = dict(prepared), {}
        else:
            self._entries = {**self._entries, **prepared}
            self._instances = {n: w for n, w in self._instances.items() if n not in prepared}
        self._initialised = True

    # -- lookup ----------------------------------------------------------------------
    @overload
    def get(self, config_name: str) -> ModelWrapperBase: ...

    @overload
    def get(self, config_name: str, kind: type[W]) -> W: ...

    def get(self, config_name: str, kind: type[Any] | None = None) -> Any:
        """The wrapper for `config_name`, built on first use and cached. With `kind`
        (a base class such as ChatWrapperBase), a TypeError unless it is one."""
        wrapper = self._instances.get(config_name)
        if wrapper is None:
            wrapper = self._build(config_name)
        if kind is not None and not isinstance(wrapper, kind):
            raise TypeError(f"config {config_name!r} is a {wrapper.kind} model "
                            f"({type(wrapper).__name__}), not a {kind.__name__}")
        return wrapper

    def _build(self, config_name: str) -> ModelWrapperBase:
        entry = self.entry(config_name)
        lock = self._build_locks.get(config_name)
        if lock is None:
            with self._lock:
                lock = self._build_locks.setdefault(config_name, threading.Lock())
        with lock:
            wrapper = self._instances.get(config_name)
            if wrapper is not None:
                return wrapper
            wrapper = self.wrapper_class(config_name)(entry.config)
            wrapper._registry = self
            with self._lock:
                # init() may have replaced this config while we were building.
                if self._entries.get(config_name) is entry:
                    self._instances[config_name] = wrapper
            return wrapper

    def entry(self, config_name: str) -> ConfigEntry:
        """The loaded entry (config, wrapper class, location) for `config_name`."""
        entry = self._entries.get(config_name)
        if entry is None and not self._initialised and os.environ.get(CONFIG_ENV_VAR):
            self.init()
            entry = self._entries.get(config_name)
        if entry is None:
            if not isinstance(config_name, str):
                raise TypeError(f"config_name must be a str, got {type(config_name).__name__}")
            from modelhub.config.suggest import closest

            loaded = list(self._entries)
            raise ConfigNotFoundError(config_name, closest(config_name, loaded, n=3, cutoff=0.5),
                                      loaded)
        return entry

    def wrapper_class(self, config_name: str) -> type[ModelWrapperBase]:
        """The wrapper class of a loaded config (its plugin imported on first use).
        Raises PluginLoadError when it fails to import, or when its config class is not
        the one the config was validated against."""
        entry = self.entry(config_name)
        cls = plugins.resolve(entry.model_type)
        plugins.check_config_class(entry.model_type, cls, entry.config)
        return cls

    # -- calls -----------------------------------------------------------------------
    def usage(self, config_name: str | None = None) -> dict[str, UsageTotals]:
        """Per-config totals of the calls made through this registry (calls, errors,
        input and output tokens, latency, cost in USD): of every config called, or of
        one."""
        return self.calls.ledger.snapshot(config_name)

    def reset_usage(self, config_name: str | None = None) -> None:
        """Start the totals (and what budgets count as spent) again from zero."""
        self.calls.ledger.reset(config_name)

    def add_hooks(self, *, before_call: Hook | None = None, after_call: Hook | None = None,
                  on_error: Hook | None = None) -> HookHandle:
        """Run these functions around each call of this registry's configs, each given
        the call's `CallEvent` (see `modelhub.calls.hooks`); `remove()` on the handle
        returned takes them off."""
        return self.calls.hooks.add(before_call=before_call, after_call=after_call,
                                    on_error=on_error)

    def list_configs(self) -> list[str]:
        """The names of the loaded configs, in load order."""
        return list(self._entries)

    def export(self, config_name: str | None = None) -> list[dict[str, Any]]:
        """Loaded configs as plain dicts with every secret masked."""
        from modelhub._secrets import mask_secrets

        names = [config_name] if config_name is not None else self.list_configs()
        return [mask_secrets(self.entry(n).config.model_dump(exclude_defaults=True))
                for n in names]

    def remove(self, config_name: str) -> bool:
        """Forget one config and its wrapper; whether it was loaded."""
        with self._lock:
            if config_name not in self._entries:
                return False
            self._entries = {n: e for n, e in self._entries.items() if n != config_name}
            self._instances = {n: w for n, w in self._instances.items() if n != config_name}
            return True

    def clear(self) -> None:
        """Forget every config and wrapper."""
        with self._lock:
            self._entries = {}
            self._instances = {}
            self._initialised = False


default_registry = Registry()
