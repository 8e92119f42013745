"""Installing the test plugin distributions into a temporary site folder, never into
the environment that runs the tests.

Each plugin folder under tests/plugins is installed as pip would install it: its
package copied, and a `<name>-<version>.dist-info` folder written with METADATA and
entry_points.txt from its pyproject.toml (and dated a minute back). The folder goes on
`sys.path` and on PYTHONPATH (for subprocesses), and is removed when the test process
exits.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PLUGINS = Path(__file__).parent / "plugins"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name)


def install(plugin: Path, site: Path) -> str:
    """Install one plugin folder into `site`; return its distribution name."""
    project = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project["version"]
    packages = tomllib.loads((plugin / "pyproject.toml").read_text())["tool"]["hatch"][
        "build"]["targets"]["wheel"]["packages"]
    for package in packages:
        shutil.copytree(plugin / package, site / Path(package).name)
    info = site / f"{_normalize(name)}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    groups = project.get("entry-points", {})
    lines = []
    for group, entries in groups.items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in entries.items()]
        lines.append("")
    (info / "entry_points.txt").write_text("\n".join(lines))
    (info / "INSTALLER").write_text("modelhub-tests\n")
    (info / "RECORD").write_text("")
    # Installed a while ago, as a distribution is by the time tests run: modelhub caches
    # no entry-point table read within moments of an install (see modelhub.cache).
    settled = time.time() - 60
    os.utime(info, (settled, settled))
    return str(name)


def make_site() -> Path:
    """A temporary site folder holding every test plugin, on sys.path and PYTHONPATH."""
    site = Path(tempfile.mkdtemp(prefix="modelhub-test-site-"))
    atexit.register(shutil.rmtree, site, True)
    for plugin in sorted(PLUGINS.iterdir()):
        if (plugin / "pyproject.toml").is_file():
            install(plugin, site)
    sys.path.append(str(site))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (os.environ.get("PYTHONPATH"), str(site)) if p)
    return site
