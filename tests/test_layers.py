"""The layers of docs/architecture.md hold: import-linter's contracts in pyproject.toml pass on
this tree, and they do catch an import that runs the wrong way."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
# the repository's folders and the names they install under (pyproject.toml)
PACKAGES = {"tcdb/cli": "tcdb/cli"} | {
    layer: f"tcdb/{layer}"
    for layer in ("api", "reports", "ml", "curate", "ingest", "store", "schema", "core")
}


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True
    )


def test_the_import_contracts_hold_on_this_tree():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _copy_tree(target: Path) -> None:
    """The packages laid out as installed (``tcdb/core`` …), which the copy's PYTHONPATH puts
    ahead of this checkout's editable install."""
    shutil.copy(ROOT / "pyproject.toml", target)
    for folder, installed in PACKAGES.items():
        shutil.copytree(ROOT / folder, target / installed,
                        ignore=shutil.ignore_patterns("__pycache__", "out"))  # fmt: skip


def test_an_upward_import_from_the_core_is_caught(tmp_path):
    _copy_tree(tmp_path)
    (tmp_path / "tcdb" / "core" / "shortcut.py").write_text(
        "from tcdb.ingest import runs  # noqa: F401\n"
    )
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "tcdb.core is not allowed to import tcdb.ingest" in result.stdout
    assert "tcdb.core.shortcut -> tcdb.ingest.runs" in result.stdout


def test_a_sibling_reaching_into_another_sibling_is_caught(tmp_path):
    _copy_tree(tmp_path)
    (tmp_path / "tcdb" / "ml" / "shortcut.py").write_text(
        "from tcdb.curate import groups  # noqa: F401\n"
    )
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "tcdb.ml.shortcut -> tcdb.curate.groups" in result.stdout


def test_a_model_package_reaching_into_another_is_caught(tmp_path):
    _copy_tree(tmp_path)
    (tmp_path / "tcdb" / "ml" / "hydride" / "shortcut.py").write_text(
        "from tcdb.ml.structural import morphs  # noqa: F401\n"
    )
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "tcdb.ml.hydride.shortcut -> tcdb.ml.structural.morphs" in result.stdout


def test_a_cycle_inside_a_model_package_is_caught(tmp_path):
    _copy_tree(tmp_path)
    with open(tmp_path / "tcdb" / "ml" / "hydride" / "members.py", "a") as members:
        members.write("from tcdb.ml.hydride import search  # noqa: E402, F401\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "No cycles are allowed in tcdb.ml.hydride." in result.stdout


def test_every_model_package_is_named_in_the_independence_contract():
    """Every folder of ml/ is one model's package; a new one outside the contract could import
    another model unnoticed."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (independence,) = [c for c in config["contracts"] if c["type"] == "independence"]
    packages = {f"tcdb.ml.{p.parent.name}" for p in (ROOT / "ml").glob("*/__init__.py")}
    assert set(independence["modules"]) == packages


def _cross_package_private_imports() -> list[str]:
    """``from other_package.module import _name``: a private name used across packages."""
    import ast

    found = []
    for folder, installed in PACKAGES.items():
        own = installed.replace("/", ".")
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if not isinstance(node, ast.ImportFrom) or not node.module:
                    continue
                if node.level or node.module == own or node.module.startswith(own + "."):
                    continue
                found += [
                    f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    return found


def test_no_package_imports_a_private_name_of_another():
    assert _cross_package_private_imports() == []
