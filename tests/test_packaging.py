"""The wheel installs tcdb under one name: beside the ``schema`` library, both import.

The repository's folders (``schema/``, ``core/`` …) install as ``tcdb.schema``, ``tcdb.core``
…; before, they were seven top-level packages, and ``import schema`` in an environment holding
the ``schema`` library returned tcdb's folder instead. The wheel is built from a copy of the
sources and installed, with the ``schema`` library, into a new virtual environment that reaches
the project's dependencies through a path file only (so this checkout is never on its path).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.commands import REPO

FOLDERS = ("tcdb", "core", "schema", "store", "ingest", "curate", "ml", "reports", "api")
UV = Path(sys.executable).with_name("uv")

CHECK = """
import pathlib, sys
import schema
assert schema.Schema(int).validate(3) == 3, "the schema library works"
import tcdb.schema.models, tcdb.core.composition, tcdb.cli
venv = pathlib.Path(sys.prefix)
for module in (tcdb.schema.models, tcdb.core.composition, tcdb.cli, schema):
    assert venv in pathlib.Path(module.__file__).parents, module.__file__
print("both import")
"""


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TCDB_", "PYTHON"))}
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env=env, **kwargs)


def _sources(target: Path) -> Path:
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, target)
    for folder in FOLDERS:
        shutil.copytree(REPO / folder, target / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "out"))  # fmt: skip
    return target


def test_the_wheel_installs_beside_the_schema_library_and_both_import(tmp_path):
    sources = _sources(tmp_path / "src")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "--quiet", "-w", str(tmp_path / "dist"), str(sources))  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("tcdb-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"tcdb", wheel.name.split("-py3")[0] + ".dist-info"}, top_level
    packages = {
        f"tcdb/{init.parent.relative_to(REPO)}/__init__.py".replace("tcdb/tcdb/", "tcdb/")
        for folder in FOLDERS
        for init in (REPO / folder).rglob("__init__.py")
        if "out" not in init.parts
    }
    assert packages <= set(names), f"not in the wheel: {sorted(packages - set(names))}"

    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", "--without-pip", str(venv)).returncode == 0
    python = venv / "bin" / "python"
    installed = _run(str(UV), "pip", "install", "--offline", "--no-deps", "--python",
                     str(python), str(wheel), "schema==0.7.7")  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    (venv_site,) = venv.glob("lib/python*/site-packages")
    (venv_site / "dependencies.pth").write_text(site.getsitepackages()[0] + "\n")

    checked = _run(str(python), "-c", CHECK, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    migrated = _run(str(venv / "bin" / "tcdb"), "--db", str(tmp_path / "t.duckdb"), "db",
                    "upgrade", cwd=tmp_path)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    assert "upgraded from base" in migrated.stdout + migrated.stderr
