"""The registry: configs loaded by `init()`, wrappers handed out by `get()`.

`init()` reads, expands, resolves and validates every config before touching the
registry, and swaps the new table in whole or not at all. `get()` builds each wrapper
once (per-name lock, so many threads asking at once build it once) and then serves it
from a dict without locking.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from modelhub import plugins
from modelhub.errors import (
    ConfigError,
    ConfigIssue,
    ConfigNotFoundError,
    ModelhubError,
    UnknownModelTypeError,
)

if TYPE_CHECKING:
    from modelhub.config.receipts import Receipts
    from modelhub.config.schema import ModelConfig
    from modelhub.config.sources import ConfigSource, Location, RawConfig
    from modelhub.wrappers.base import ModelWrapperBase

__all__ = ["ConfigEntry", "Registry", "default_registry"]

CONFIG_ENV_VAR = "MODELHUB_CONFIG"


class ConfigEntry:
    """A loaded config: its name, model_type and where it came from, with its validated
    config and wrapper class.

    A config that a receipt vouched for at load (see `modelhub.config.receipts`) is
    validated, and its wrapper class imported, on first use of `config`; should that
    fail, the ConfigError names the file and line as init() would have.
    """

    __slots__ = ("_config", "_data", "_receipt", "_wrapper_class", "config_name", "location",
                 "model_type")

    def __init__(self, config_name: str, model_type: str, location: Location | None, *,
                 config: ModelConfig | None = None,
                 wrapper_class: type[ModelWrapperBase] | None = None,
                 data: Mapping[str, Any] | None = None, receipt: str | None = None) -> None:
        if config is None and data is None:
            raise ValueError("a ConfigEntry needs a validated config or the data to validate")
        self.config_name = config_name
        self.model_type = model_type
        self.location = location
        self._config = config
        self._wrapper_class = wrapper_class
        self._data = data
        self._receipt = receipt

    @property
    def wrapper_class(self) -> type[ModelWrapperBase]:
        """The wrapper class of the config's model_type."""
        cls = self._wrapper_class
        if cls is None:
            try:
                cls = self._wrapper_class = plugins.resolve(self.model_type)
            except ModelhubError:
                self._withdraw()
                raise
        return cls

    @property
    def config(self) -> ModelConfig:
        """The validated config."""
        config = self._config
        if config is None:
            from modelhub.config.validate import validate_config

            assert self._data is not None
            config, issues = validate_config(self.wrapper_class.config_class, self._data,
                                             self.location)
            if config is None:
                self._withdraw()
                raise ConfigError(issues)
            self._config, self._data, self._receipt = config, None, None
        return config

    @property
    def validated(self) -> bool:
        """Whether the config was validated in this process (False while a receipt
        stands in for it)."""
        return self._config is not None

    def _withdraw(self) -> None:
        """Forget the receipt that vouched for this config: it was wrong."""
        if self._receipt is not None:
            from modelhub.config.receipts import Receipts

            Receipts().withdraw(self._receipt)
            self._receipt = None

    def where(self) -> str:
        """`path:line`, or '<memory>' for a config given as a dict."""
        if self.location is None:
            return "<memory>"
        loc = self.location
        return f"{loc.path}:{loc.line}" if loc.line is not None else loc.path

    def __repr__(self) -> str:
        return (f"ConfigEntry(config_name={self.config_name!r}, "
                f"model_type={self.model_type!r}, source={self.where()!r})")


def _under(field: str | None, paths: list[str]) -> bool:
    """Whether a dotted field path is one of `paths` or lies inside one of them."""
    return field is not None and any(field == p or field.startswith(p + ".") for p in paths)


def _issue(raw: RawConfig, message: str, field: str | None = None,
           error: BaseException | None = None) -> ConfigIssue:
    name = raw.data.get("config_name")
    loc = raw.location
    return ConfigIssue(
        message, config_name=name if isinstance(name, str) else None, field=field,
        path=loc.path if loc else None,
        line=(loc.line_of((field,)) if field else loc.line) if loc else None, error=error)


class Registry:
    """A table of model configs and the wrappers built from them."""

    def __init__(self, *, use_receipts: bool = True) -> None:
        """`use_receipts=False` validates every config in full at load, even one that
        validated before (what `modelhub validate` does)."""
        self._use_receipts = use_receipts
        self._lock = threading.RLock()
        self._entries: dict[str, ConfigEntry] = {}
        self._instances: dict[str, ModelWrapperBase] = {}
        self._build_locks: dict[str, threading.Lock] = {}
        self._initialised = False

    # -- loading ---------------------------------------------------------------------
    def init(self, model_configs: ConfigSource | None = None, *,
             clear_existing: bool = False,
             environ: Mapping[str, str] | None = None) -> list[str]:
        """Load configs; return the config names loaded, in source order.

        `model_configs` is a dict, a list of dicts, a path to a .json/.yaml/.yml file or
        a folder of them, or a list of paths; `None` reads the path in
        MODELHUB_CONFIG. With `clear_existing=True` the loaded configs replace the
        registry; otherwise they are added to it. Raises ConfigError listing every
        problem; on any error the registry keeps exactly what it had.
        """
        from modelhub.config.sources import read_configs

        env = os.environ if environ is None else environ
        if model_configs is None:
            model_configs = env.get(CONFIG_ENV_VAR)
            if not model_configs:
                raise ConfigError(
                    f"no model_configs given and {CONFIG_ENV_VAR} is not set: pass a dict, "
                    "a list, or a path to a JSON/YAML file or folder")
        raws = read_configs(model_configs)
        receipts = None
        if self._use_receipts:
            from modelhub.config.receipts import Receipts

            receipts = Receipts()
        prepared: dict[str, ConfigEntry] = {}
        issues: list[ConfigIssue] = []
        for raw in raws:
            entry, found = self._prepare(raw, env, receipts)
            issues += found
            if entry is None:
                continue
            name = entry.config_name
            earlier = prepared.get(name)
            if earlier is None and not clear_existing:
                earlier = self._entries.get(name)
            if earlier is not None:
                issues.append(_issue(raw, f"duplicate config_name {name!r}: already defined "
                                          f"at {earlier.where()}", "config_name"))
                continue
            prepared[name] = entry
        if issues:
            if all(isinstance(i.error, UnknownModelTypeError) for i in issues):
                first = issues[0].error
                assert isinstance(first, UnknownModelTypeError)
                raise UnknownModelTypeError(issues, first.model_type, first.known_types)
            raise ConfigError(issues)
        with self._lock:
            if clear_existing:
                self._entries = prepared
                self._instances = {}
            else:
                self._entries = {**self._entries, **prepared}
            self._initialised = True
        if receipts is not None:
            receipts.save()
        return list(prepared)

    def _prepare(self, raw: RawConfig, env: Mapping[str, str], receipts: Receipts | None
                 ) -> tuple[ConfigEntry | None, list[ConfigIssue]]:
        from modelhub.config.expand import expand_env

        expanded, problems = expand_env(raw.data, env)
        env_issues = [self._env_issue(raw, problem) for problem in problems]
        # Fields whose variable is missing hold the reference itself: report the variable,
        # not what its placeholder fails to be.
        missing = [issue.field for issue in env_issues if issue.field]
        if "model_type" in missing:
            return None, env_issues  # nothing to validate the rest against
        name = expanded.get("config_name")
        if not isinstance(name, str) or not name:
            return None, [*env_issues, _issue(
                raw, "config_name is required: a non-empty string naming this config",
                "config_name")]
        model_type = expanded.get("model_type")
        if not isinstance(model_type, str) or not model_type:
            known = ", ".join(plugins.known_model_types())
            return None, [*env_issues, _issue(
                raw, f"model_type is required; known model types: {known}", "model_type")]
        receipt = None
        if receipts is not None and not env_issues:
            receipt = receipts.digest(model_type, expanded)
            if receipt is not None and receipt in receipts:
                return ConfigEntry(name, model_type, raw.location, data=expanded,
                                   receipt=receipt), []
        try:
            wrapper_class = plugins.resolve(model_type)
        except ModelhubError as error:
            message = error.issues[0].message if isinstance(error, ConfigError) else str(error)
            return None, [*env_issues, _issue(raw, message, "model_type", error)]
        from modelhub.config.validate import validate_config

        config, issues = validate_config(wrapper_class.config_class, expanded, raw.location)
        if env_issues:
            return None, env_issues + [i for i in issues if not _under(i.field, missing)]
        if config is None:
            return None, issues
        if receipts is not None and receipt is not None:
            receipts.add(receipt)
        return ConfigEntry(name, model_type, raw.location, config=config,
                           wrapper_class=wrapper_class), []

    @staticmethod
    def _env_issue(raw: RawConfig, problem: Any) -> ConfigIssue:
        path = tuple(problem.field_path)
        field = ".".join(str(p) for p in path)
        reason = getattr(problem, "reason", None)
        message = (f"bad variable reference: {reason}" if reason else
                   f"environment variable {problem.name} is not set and has no default "
                   f"(write ${{{problem.name}:-default}} to give one)")
        issue = _issue(raw, message, field)
        line = raw.location.line_of(path) if raw.location else None
        return replace(issue, line=line)

    # -- lookup ----------------------------------------------------------------------
    def get(self, config_name: str) -> ModelWrapperBase:
        """The wrapper for `config_name`, built on first use and cached."""
        wrapper = self._instances.get(config_name)
        if wrapper is not None:
            return wrapper
        return self._build(config_name)

    def _build(self, config_name: str) -> ModelWrapperBase:
        entry = self._entry(config_name)
        lock = self._build_locks.get(config_name)
        if lock is None:
            with self._lock:
                lock = self._build_locks.setdefault(config_name, threading.Lock())
        with lock:
            wrapper = self._instances.get(config_name)
            if wrapper is not None:
                return wrapper
            wrapper = entry.wrapper_class(entry.config)
            with self._lock:
                # init() may have replaced this config while we were building.
                if self._entries.get(config_name) is entry:
                    self._instances[config_name] = wrapper
            return wrapper

    def _entry(self, config_name: str) -> ConfigEntry:
        entry = self._entries.get(config_name)
        if entry is None and not self._initialised and os.environ.get(CONFIG_ENV_VAR):
            self.init()
            entry = self._entries.get(config_name)
        if entry is None:
            if not isinstance(config_name, str):
                raise TypeError(f"config_name must be a str, got {type(config_name).__name__}")
            import difflib

            loaded = list(self._entries)
            close = difflib.get_close_matches(config_name, loaded, n=3, cutoff=0.5)
            raise ConfigNotFoundError(config_name, close, loaded)
        return entry

    def entry(self, config_name: str) -> ConfigEntry:
        """The loaded entry (config, wrapper class, location) for `config_name`."""
        return self._entry(config_name)

    def list_configs(self) -> list[str]:
        """The names of the loaded configs, in load order."""
        return list(self._entries)

    def export(self, config_name: str | None = None) -> list[dict[str, Any]]:
        """Loaded configs as plain dicts with every secret masked."""
        from modelhub._secrets import mask_secrets

        names = [config_name] if config_name is not None else self.list_configs()
        return [mask_secrets(self._entry(n).config.model_dump(exclude_defaults=True))
                for n in names]

    def clear(self) -> None:
        """Forget every config and wrapper."""
        with self._lock:
            self._entries = {}
            self._instances = {}
            self._initialised = False


default_registry = Registry()
