"""Reading config sources: dicts, lists, JSON/YAML files, folders, lists of paths.

Each config comes back as a `RawConfig` with the file and line of the config and of
every key in it, so a later error can point at the exact line. Every problem in every
file is collected and raised together as one `ConfigError`. No value of a config is
ever put into a message: values may be secrets.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from modelhub._json import MAX_DEPTH, MAX_VALUES, NestingError
from modelhub.errors import ConfigError, ConfigIssue

__all__ = ["FILE_FIELDS", "ConfigSource", "Location", "RawConfig", "beside_file",
           "read_configs", "read_sources"]

ConfigSource = Union[Mapping[str, Any], Sequence[Union[Mapping[str, Any], str, "os.PathLike[str]"]],
                     str, "os.PathLike[str]"]
FieldPath = tuple[str | int, ...]
SUFFIXES = (".json", ".yaml", ".yml")

# json's pure-Python parsing pieces (not in typeshed).
_PY_MAKE_SCANNER: Any = getattr(json.scanner, "py_make_scanner")  # noqa: B009
_JSON_OBJECT: Any = getattr(json.decoder, "JSONObject")  # noqa: B009
_JSON_ARRAY: Any = getattr(json.decoder, "JSONArray")  # noqa: B009


@dataclass(frozen=True, slots=True)
class Location:
    """Where a config came from: its file, its line, and the line of every key."""

    path: str
    line: int | None
    key_lines: Mapping[FieldPath, int] = field(default_factory=dict)

    def line_of(self, field_path: Sequence[str | int]) -> int | None:
        """Line of the field, else of its nearest known parent, else the config's."""
        path = tuple(field_path)
        while path:
            line = self.key_lines.get(path)
            if line is not None:
                return line
            path = path[:-1]
        return self.line


@dataclass(slots=True)
class RawConfig:
    """One config as read, before expansion and validation."""

    data: dict[str, Any]
    location: Location | None


# Fields naming a file, which a config file means relative to itself.
FILE_FIELDS = ("log",)


def beside_file(data: dict[str, Any], location: Location | None) -> dict[str, Any]:
    """`data` (a config, its `${VAR}` references expanded) with each file field given
    as a relative path taken as relative to the folder of the config file it was read
    from, so the same config means the same file whatever the working directory; `~`
    is expanded. A config given as a dict (no file) is left as it is: its relative
    paths are the working directory's."""
    if location is None:
        return data
    changed = None
    for name in FILE_FIELDS:
        value = data.get(name)
        if not isinstance(value, str) or not value:
            continue
        path = os.path.expanduser(value)
        if not os.path.isabs(path):
            path = os.path.join(os.path.dirname(os.path.abspath(location.path)), path)
        if path != value:
            changed = changed or dict(data)
            changed[name] = os.path.normpath(path)
    return data if changed is None else changed


class _Problems(list[ConfigIssue]):
    def add(self, message: str, path: str | None = None, line: int | None = None,
            config_name: Any = None) -> None:
        self.append(ConfigIssue(message, path=path, line=line,
                                config_name=config_name if isinstance(config_name, str)
                                else None))


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value),
                                                                         type(value).__name__)


# -- YAML --------------------------------------------------------------------------------
# Brackets open at once, counted without regard to quoting, past which a document is not
# parsed at all. Real configs stay far below; quoted brackets only make it stricter.
_MAX_FLOW_DEPTH = 1000
_BRACKETS = re.compile(r"[\[\]{}]")


def _flow_depth(text: str) -> int:
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _yaml_documents(text: str, path: str, problems: _Problems
                    ) -> list[tuple[Any, dict[int, tuple[int, dict[FieldPath, int]]]]]:
    """(data, {id(mapping): (line, key_lines)}) per document."""
    import yaml

    if _flow_depth(text) > _MAX_FLOW_DEPTH:
        # libyaml recurses per level: tens of thousands of `[` crash the process.
        problems.add(f"the YAML document is nested too deeply (more than {MAX_DEPTH} "
                     "levels are refused)", path)
        return []

    loader_cls = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
    loader = (loader_cls or yaml.SafeLoader)(text)
    docs = []
    try:
        while loader.check_node():
            node = loader.get_node()
            data = loader.construct_document(node)
            lines: dict[int, tuple[int, dict[FieldPath, int]]] = {}
            try:
                _walk_yaml(node, data, path, problems, lines)
            except NestingError as exc:
                problems.add(f"the YAML document is too large: {exc}", path,
                             node.start_mark.line + 1 if node is not None else None)
                return []
            docs.append((data, lines))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.add(f"YAML syntax error: {exc.problem or exc.context}", path,
                     mark.line + 1 if mark else None)
        return []
    except yaml.YAMLError as exc:
        problems.add(f"YAML error: {type(exc).__name__}", path)
        return []
    finally:
        loader.dispose()
    return docs


def _walk_yaml(node: Any, data: Any, path: str, problems: _Problems,
               out: dict[int, tuple[int, dict[FieldPath, int]]]) -> None:
    """Record, for every mapping of `data`, its line and the lines of its keys (nested).
    Raises NestingError past the walker's limits: an alias that is used many times is
    walked each time, so an alias bomb is stopped here, before anything copies it."""
    import yaml

    visited = [0]

    def keys(node: Any, data: Any, prefix: FieldPath, acc: dict[FieldPath, int]) -> None:
        visited[0] += 1
        if visited[0] > MAX_VALUES:
            raise NestingError(f"more than {MAX_VALUES:,} values (YAML aliases used many "
                               "times over count each time)", prefix)
        if len(prefix) > MAX_DEPTH:
            raise NestingError(f"nested more than {MAX_DEPTH} levels deep", prefix)
        if isinstance(node, yaml.MappingNode) and isinstance(data, dict):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = getattr(key_node, "value", None)
                line = key_node.start_mark.line + 1
                if key in seen and key != "<<":
                    problems.add(f"duplicate key {key!r} (lines {seen[key]} and {line})",
                                 path, line, data.get("config_name"))
                seen[key] = line
                if key in data:
                    path_key: FieldPath = (*prefix, str(key))
                    acc[path_key] = line
                    keys(value_node, data[key], path_key, acc)
        elif isinstance(node, yaml.SequenceNode) and isinstance(data, list):
            for i, (item_node, item) in enumerate(zip(node.value, data)):
                item_key: FieldPath = (*prefix, i)
                acc[item_key] = item_node.start_mark.line + 1
                keys(item_node, item, item_key, acc)

    def configs(node: Any, data: Any) -> None:
        if _holds_models(data) and isinstance(node, yaml.MappingNode):
            configs(node.value[0][1], data["models"])
        elif isinstance(data, dict):
            acc: dict[FieldPath, int] = {}
            keys(node, data, (), acc)
            out[id(data)] = (node.start_mark.line + 1, acc)
        elif isinstance(data, list) and isinstance(node, yaml.SequenceNode):
            for item_node, item in zip(node.value, data):
                if isinstance(item, dict):
                    configs(item_node, item)
                else:
                    out[id(item)] = (item_node.start_mark.line + 1, {})

    configs(node, data)


# -- JSON --------------------------------------------------------------------------------
class _PositionDecoder(json.JSONDecoder):
    """json.JSONDecoder that remembers where every object and value starts."""

    def __init__(self) -> None:
        super().__init__()
        # id(container) -> (start offset, [offset of each value, in order], keys in order)
        self.spans: dict[int, tuple[int, list[int], list[str]]] = {}
        self.duplicates: list[tuple[str, int, int]] = []
        self._keep: list[Any] = []  # keep containers alive so ids stay unique
        self.parse_object = self._parse_object
        self.parse_array = self._parse_array
        # The pure-Python scanner, so that our parse_object/parse_array are used.
        self.scan_once = _PY_MAKE_SCANNER(self)

    def _parse_object(self, s_and_end: tuple[str, int], strict: bool, scan_once: Any,
                      object_hook: Any, object_pairs_hook: Any, memo: Any = None,
                      *args: Any) -> tuple[Any, int]:
        starts: list[int] = []

        def recording_scan(string: str, idx: int) -> Any:
            starts.append(idx)
            return scan_once(string, idx)

        pairs_seen: list[list[tuple[str, Any]]] = []

        def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            pairs_seen.append(pairs)
            return dict(pairs)

        result, end = _JSON_OBJECT(s_and_end, strict, recording_scan, None,
                                              pairs_hook, memo)
        pairs = pairs_seen[0] if pairs_seen else []
        first: dict[str, int] = {}
        for (key, _), start in zip(pairs, starts):
            if key in first:
                self.duplicates.append((key, first[key], start))
            first.setdefault(key, start)
        self.spans[id(result)] = (s_and_end[1] - 1, starts, [k for k, _ in pairs])
        self._keep.append(result)
        return result, end

    def _parse_array(self, s_and_end: tuple[str, int], scan_once: Any) -> tuple[Any, int]:
        starts: list[int] = []

        def recording_scan(string: str, idx: int) -> Any:
            starts.append(idx)
            return scan_once(string, idx)

        result, end = _JSON_ARRAY(s_and_end, recording_scan)
        self.spans[id(result)] = (s_and_end[1] - 1, starts, [])
        self._keep.append(result)
        return result, end


def _json_document(text: str, path: str, problems: _Problems
                   ) -> list[tuple[Any, dict[int, tuple[int, dict[FieldPath, int]]]]]:
    decoder = _PositionDecoder()
    try:
        data = decoder.decode(text)
    except json.JSONDecodeError as exc:
        problems.add(f"JSON syntax error: {exc.msg} (column {exc.colno})", path, exc.lineno)
        return []
    except RecursionError:
        problems.add(f"the JSON document is nested too deeply (more than {MAX_DEPTH} "
                     "levels are refused)", path)
        return []
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]

    def line(offset: int) -> int:
        return bisect.bisect_left(newlines, offset) + 1

    for key, first, again in decoder.duplicates:
        problems.add(f"duplicate key {key!r} (lines {line(first)} and {line(again)})",
                     path, line(again))

    def keys(value: Any, prefix: FieldPath, acc: dict[FieldPath, int]) -> None:
        span = decoder.spans.get(id(value))
        if span is None:
            return
        _, starts, names = span
        items: list[tuple[str | int, Any]] = (
            list(zip(names, value.values())) if isinstance(value, dict)
            else list(enumerate(value)))
        for (key, item), start in zip(items, starts):
            item_path: FieldPath = (*prefix, key)
            acc[item_path] = line(start)
            keys(item, item_path, acc)

    out: dict[int, tuple[int, dict[FieldPath, int]]] = {}
    listed = data["models"] if _holds_models(data) else data
    for item in listed if isinstance(listed, list) else [listed]:
        span = decoder.spans.get(id(item))
        acc: dict[FieldPath, int] = {}
        if isinstance(item, dict):
            keys(item, (), acc)
        out[id(item)] = (line(span[0]) if span else 1, acc)
    return [(data, out)]


# -- files and folders ---------------------------------------------------------------------
_SHAPE_HELP = ("a config file holds one config (a mapping with config_name and "
               "model_type), a list of them, or a mapping `models:` holding that list")


def _holds_models(data: Any) -> bool:
    """Whether a document is `models:` holding the list of configs."""
    return isinstance(data, dict) and set(data) == {"models"} and isinstance(data["models"],
                                                                             list)


def _configs_in(data: Any, where: str, line: int | None, problems: _Problems) -> list[Any]:
    """The configs a document holds, by its accepted shapes (see _SHAPE_HELP)."""
    if not isinstance(data, dict) or "config_name" in data or "model_type" in data:
        return data if isinstance(data, list) else [data]
    if _holds_models(data):
        return list(data["models"])
    if "model_list" in data:
        problems.add("this looks like a LiteLLM proxy config (`model_list:`); modelhub "
                     "reads its own shape instead: each entry `{config_name: ..., model_type: "
                     "litellm_chat, model_name: <litellm model>, ...}`, as a list or under "
                     "`models:`", where, line)
        return []
    listed = [k for k, v in data.items() if isinstance(v, list)]
    hint = f" (the list under {listed[0]!r} belongs under `models:`?)" if len(data) == 1 and \
        listed else ""
    problems.add(f"expected a model config, but this mapping has no config_name or "
                 f"model_type{hint}: {_SHAPE_HELP}", where, line)
    return []


def _read_file(path: Path, problems: _Problems, configs: list[RawConfig]) -> None:
    where = str(path)
    try:
        with open(path, "rb") as f:
            content = f.read()
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.add("cannot read the file: it is not UTF-8 text", where)
        return
    except OSError as exc:
        problems.add(f"cannot read the file: {exc.strerror or type(exc).__name__}", where)
        return
    reader = _json_document if path.suffix.lower() == ".json" else _yaml_documents
    for data, lines in reader(text, where, problems):
        if data is None:
            continue
        for item in _configs_in(data, where, lines.get(id(data), (None, {}))[0] or 1,
                                problems):
            line, key_lines = lines.get(id(item), (None, {}))
            if not isinstance(item, dict):
                problems.add(f"expected a mapping (a model config), got {_kind(item)}",
                             where, line)
                continue
            bad = [k for k in item if not isinstance(k, str)]
            if bad:
                problems.add(f"keys must be strings, got {_kind(bad[0])} key", where, line,
                             item.get("config_name"))
                continue
            configs.append(RawConfig(item, Location(where, line, key_lines)))


def _kind_of_file(mode: int) -> str:
    return ("a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode)
            or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")


def _read_path(source: str | os.PathLike[str], problems: _Problems,
               configs: list[RawConfig]) -> None:
    path = Path(source)
    where = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        problems.add("no such file or folder", where)
        return
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, no permission
        reason = getattr(exc, "strerror", None) or str(exc)
        problems.add(f"cannot read this path: {reason}", where)
        return
    if stat.S_ISDIR(info.st_mode):
        try:
            entries = sorted(path.iterdir())
        except OSError as exc:
            problems.add(f"cannot list the folder: {exc.strerror or type(exc).__name__}",
                         where)
            return
        for entry in entries:
            if entry.suffix.lower() not in SUFFIXES or entry.name.startswith("."):
                continue
            try:
                mode = entry.stat().st_mode
            except OSError as exc:
                problems.add(f"cannot read the file: {exc.strerror or type(exc).__name__}",
                             str(entry))
                continue
            if stat.S_ISREG(mode):
                _read_file(entry, problems, configs)
            elif not stat.S_ISDIR(mode):
                problems.add(f"cannot read it: it is {_kind_of_file(mode)}, not a file",
                             str(entry))
    elif not stat.S_ISREG(info.st_mode):
        # reading a FIFO or a device could block forever, or never end
        problems.add(f"cannot read it: it is {_kind_of_file(info.st_mode)}, not a file "
                     "or folder", where)
    elif path.suffix.lower() not in SUFFIXES:
        problems.add(f"unsupported file type {path.suffix or '(none)'!r}: config files "
                     f"end in {', '.join(SUFFIXES)}", where)
    else:
        _read_file(path, problems, configs)


def read_sources(source: ConfigSource) -> tuple[list[RawConfig], list[ConfigIssue]]:
    """Every config in `source`, in order, and every problem met reading it: one bad
    file does not hide the configs (and the errors) of the others.

    `source` is a mapping (one config), a path to a .json/.yaml/.yml file (one config,
    a list of them, or a list under `models:`; YAML may hold several documents), a
    folder (its config files, sorted by name), or a list mixing mappings and paths.
    """
    problems = _Problems()
    configs: list[RawConfig] = []
    items: Sequence[Any] = [source] if isinstance(source, (Mapping, str, os.PathLike)) \
        else source
    if not isinstance(items, Sequence):
        raise ConfigError(f"model_configs must be a dict, a list, or a path, "
                          f"got {type(source).__name__}")
    for item in items:
        if isinstance(item, Mapping):
            if not all(isinstance(k, str) for k in item):
                problems.add("config keys must be strings")
                continue
            configs.append(RawConfig(dict(item), None))
        elif isinstance(item, (str, os.PathLike)):
            _read_path(item, problems, configs)
        else:
            problems.add(f"expected a config mapping or a path, got {type(item).__name__}")
    return configs, list(problems)


def read_configs(source: ConfigSource) -> list[RawConfig]:
    """Every config in `source` (see `read_sources`); raises ConfigError listing every
    problem."""
    configs, problems = read_sources(source)
    if problems:
        raise ConfigError(problems)
    return configs
