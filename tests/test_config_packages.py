"""`${pkg:NAME/PATH}`: files inside installed packages, named portably in configs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from modelhub import errors
from modelhub.config.expand import expand_env
from modelhub.config.packages import PackagePathError, package_path
from modelhub.registry import Registry


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path holding `weights_pkg` (whose import would fail, as a package
    installed with --no-deps does), a namespace package and a plain module."""
    root = tmp_path / "site"
    pkg = root / "weights_pkg"
    (pkg / "model").mkdir(parents=True)
    (pkg / "__init__.py").write_text("import a_dependency_that_is_not_installed\n")
    (pkg / "model" / "config.json").write_text("{}")
    (pkg / "tiny.gguf").write_bytes(b"GGUF")
    (root / "nspkg" / "data").mkdir(parents=True)
    (root / "plain_module.py").write_text("")
    monkeypatch.syspath_prepend(str(root))
    return pkg


def test_resolves_files_and_folders_without_importing_the_package(site: Path) -> None:
    assert package_path("weights_pkg/tiny.gguf") == str(site / "tiny.gguf")
    assert package_path("weights_pkg/model") == str(site / "model")
    assert package_path("weights_pkg/model/config.json") == str(site / "model" / "config.json")
    assert package_path("weights_pkg") == str(site)
    assert package_path("nspkg/data") == str(site.parent / "nspkg" / "data")
    assert "weights_pkg" not in sys.modules  # its __init__ would have raised


@pytest.mark.parametrize(("reference", "message"), [
    ("no_such_pkg_xyz/a.gguf", "package 'no_such_pkg_xyz' is not installed"),
    ("weights_pkg/missing.gguf", "has no 'missing.gguf'"),
    ("weights_pkg/../weights_pkg/tiny.gguf", "must stay inside package"),
    ("weights_pkg//etc/passwd", "must stay inside package"),
    ("plain_module/x", "is a module, not a package"),
    ("weights-pkg/tiny.gguf", "the import name is probably 'weights_pkg'"),
    ("", "is not a package import name"),
])
def test_errors_say_what_is_wrong(site: Path, reference: str, message: str) -> None:
    with pytest.raises(PackagePathError, match=message.replace("(", r"\(").replace(".", r"\.")):
        package_path(reference)


def test_expansion_of_references_among_text_and_variables(site: Path) -> None:
    value, problems, used = expand_env(
        {"a": "${pkg:weights_pkg/tiny.gguf}", "b": "x ${pkg:weights_pkg/model} y",
         "c": "$${pkg:weights_pkg}", "d": "${pkg:-a variable named pkg, with a default}",
         "e": "${pkg}"}, {"pkg": "set"})
    assert problems == []
    assert value == {"a": str(site / "tiny.gguf"), "b": f"x {site / 'model'} y",
                     "c": "${pkg:weights_pkg}", "d": "set", "e": "set"}
    assert used == {("d",): ["pkg"], ("e",): ["pkg"]}


def test_a_missing_package_is_a_config_error_at_file_and_line(site: Path, tmp_path: Path,
                                                              ) -> None:
    path = tmp_path / "local.yaml"
    path.write_text("- config_name: ok\n  model_type: echo_chat\n"
                    "  model_name: ${pkg:weights_pkg/tiny.gguf}\n"
                    "- config_name: smol\n  model_type: echo_chat\n"
                    "  model_name: ${pkg:llm_not_installed_here/SmolLM2.gguf}\n"
                    "- config_name: open\n  model_type: echo_chat\n  model_name: ${pkg:x\n")
    registry = Registry()
    with pytest.raises(errors.ConfigError) as caught:
        registry.init(path)
    first, second = caught.value.issues
    assert (first.config_name, first.field, first.line) == ("smol", "model_name", 6)
    assert first.message == ("${pkg:llm_not_installed_here/SmolLM2.gguf}: package "
                             "'llm_not_installed_here' is not installed (install the "
                             "distribution that provides it)")
    assert (second.config_name, second.line) == ("open", 9)
    assert "unterminated '${pkg:'" in second.message
    assert registry.list_configs() == []
    path.write_text("- config_name: ok\n  model_type: echo_chat\n"
                    "  model_name: ${pkg:weights_pkg/tiny.gguf}\n")
    assert registry.init(path) == ["ok"]
    assert registry.entry("ok").config.model_name == str(site / "tiny.gguf")
