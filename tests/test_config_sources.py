"""Reading config sources: line numbers, syntax errors, duplicates, shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelhub import errors
from modelhub.config.expand import expand_env
from modelhub.config.sources import read_configs
from modelhub.registry import Registry


def test_yaml_key_lines_nested_and_multi_document(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("config_name: a\nmodel_type: echo_chat\ngenerate_args:\n  top_p: 1\n"
                 "  stop: [x, y]\n---\n- config_name: b\n  model_type: echo_chat\n")
    first, second = read_configs(f)
    assert first.location is not None and second.location is not None
    assert first.location.line == 1 and second.location.line == 7
    assert first.location.line_of(("generate_args", "top_p")) == 4
    assert first.location.line_of(("generate_args", "stop", 1)) == 5
    assert first.location.line_of(("nope",)) == 1


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_json_lines_list_nested_and_crlf(tmp_path: Path, newline: str) -> None:
    f = tmp_path / "m.json"
    f.write_text(newline.join(['[', '  {"config_name": "a",', '   "model_type": "echo_chat"},',
                               '  {"config_name": "b",', '   "generate_args": {',
                               '      "temperature": 0.5}}', ']']), newline="")
    a, b = read_configs(f)
    assert a.location is not None and b.location is not None
    assert (a.location.line, a.location.line_of(("model_type",))) == (2, 3)
    assert b.location.line_of(("generate_args", "temperature")) == 6


def test_minified_json_is_all_line_one(tmp_path: Path) -> None:
    f = tmp_path / "m.json"
    f.write_text('[{"config_name":"a","model_type":"echo_chat"},{"config_name":"b"}]')
    assert [c.location.line for c in read_configs(f) if c.location] == [1, 1]


def test_syntax_errors_name_file_and_line_and_all_are_collected(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("- config_name: a\n  model_type: [unclosed\n")
    (tmp_path / "b.json").write_text('{\n  "config_name": "b",\n  "x": \n}')
    (tmp_path / "c.yaml").write_text("- just a string\n- config_name: ok\n")
    with pytest.raises(errors.ConfigError) as info:
        read_configs(tmp_path)
    issues = info.value.issues
    assert [(Path(i.path or "").name, i.line) for i in issues] == [
        ("a.yaml", 3), ("b.json", 4), ("c.yaml", 1)]
    assert "YAML syntax error" in issues[0].message
    assert "JSON syntax error" in issues[1].message
    assert "expected a mapping" in issues[2].message and "a string" in issues[2].message


@pytest.mark.parametrize(("name", "text"), [
    ("d.yaml", "config_name: a\nmodel_type: x\nconfig_name: b\n"),
    ("d.json", '{"config_name": "a",\n "config_name": "b"}'),
])
def test_duplicate_keys_are_errors(tmp_path: Path, name: str, text: str) -> None:
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(errors.ConfigError, match="duplicate key 'config_name'"):
        read_configs(f)


def test_paths_suffixes_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "notes.txt").write_text("ignored in a folder")
    (tmp_path / ".hidden.yaml").write_text("- broken: [")
    assert read_configs(tmp_path) == []
    with pytest.raises(errors.ConfigError, match=r"unsupported file type '\.txt'"):
        read_configs(tmp_path / "notes.txt")
    with pytest.raises(errors.ConfigError, match="no such file"):
        read_configs(tmp_path / "missing.yaml")
    with pytest.raises(errors.ConfigError, match="expected a config mapping or a path"):
        read_configs([42])  # type: ignore[list-item]


def test_nested_type_error_names_the_field_path(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("config_name: a\nmodel_type: openai_chat\nclient_args:\n"
                 "  timeout: never\n  base_urll: http://x\n")
    with pytest.raises(errors.ConfigError) as info:
        Registry().init(f)
    fields = {i.field: i for i in info.value.issues}
    assert fields["client_args.timeout"].line == 4
    assert fields["client_args.base_urll"].line == 5
    assert "did you mean 'base_url'" in fields["client_args.base_urll"].message
    assert "Valid keys" in fields["client_args.base_urll"].message


def test_base_url_spellings_fold_and_conflict() -> None:
    for key in ("host", "api_url", "api_base"):
        reg = Registry()
        reg.init({"config_name": "a", "model_type": "openai_chat", key: "http://h:1/v1"})
        assert reg.entry("a").config.base_url == "http://h:1/v1"  # type: ignore[attr-defined]
    with pytest.raises(errors.ConfigError, match="more than once"):
        Registry().init({"config_name": "a", "model_type": "openai_chat",
                         "base_url": "http://a/v1", "client_args": {"base_url": "http://b/v1"}})
    with pytest.raises(errors.ConfigError, match="http:// or https://"):
        Registry().init({"config_name": "a", "model_type": "openai_chat", "base_url": "h:1"})


@pytest.mark.parametrize(("text", "env", "expected"), [
    ("${A}", {"A": "1"}, "1"),
    ("x-${A}-${B}", {"A": "1", "B": "2"}, "x-1-2"),
    ("${A:-http://h:1/v1}", {}, "http://h:1/v1"),
    ("${A:-d}", {"A": ""}, "d"),
    ("${A-d}", {"A": ""}, ""),
    ("${A-d}", {}, "d"),
    ("${A:-}", {}, ""),
    ("$${A}", {"A": "1"}, "${A}"),
    ("costs $5 or $A", {"A": "1"}, "costs $5 or $A"),
    ("${A:-${B}}", {"B": "2"}, "2"),
    ("${A:-${B}}", {"A": "1"}, "1"),
    ("${A:-${B:-deep}}", {}, "deep"),
    ("${A:-x${B}y}", {"B": "2"}, "x2y"),
    ("${A-${B}}", {"A": ""}, ""),
    ("$${A:-${B}}", {"B": "2"}, "${A:-2}"),
    ("{${A}}", {"A": "1"}, "{1}"),
])
def test_expansion_forms(text: str, env: dict[str, str], expected: str) -> None:
    value, problems, _ = expand_env({"k": text}, env)
    assert value == {"k": expected} and problems == []


def test_expansion_reports_missing_and_malformed_with_paths() -> None:
    data = {"a": ["ok", "${MISSING}"], "b": {"c": "${1X}"}, "d": "${OPEN"}
    value, problems, _ = expand_env(data, {})
    assert [(p.field_path, p.name, p.reason is None) for p in problems] == [
        (("a", 1), "MISSING", True), (("b", "c"), "1X", False), (("d",), "OPEN", False)]
    assert data["a"][1] == "${MISSING}" and value is not data


def test_a_nested_default_reports_its_own_variable_only_when_used() -> None:
    value, problems, used = expand_env({"k": "${A:-${B}}"}, {})
    assert value == {"k": "${B}"} and [(p.name, p.reason) for p in problems] == [("B", None)]
    value, problems, used = expand_env({"k": "${A:-${B}}", "n": 3}, {"A": "1"})
    assert problems == [] and used == {("k",): ["A"]}
