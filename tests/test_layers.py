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
PACKAGES = ("tcdb", "reports", "ml", "curate", "ingest", "store", "schema", "core")


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
    shutil.copy(ROOT / "pyproject.toml", target)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package,
                        ignore=shutil.ignore_patterns("__pycache__", "out"))  # fmt: skip


def test_an_upward_import_from_the_core_is_caught(tmp_path):
    _copy_tree(tmp_path)
    (tmp_path / "core" / "shortcut.py").write_text("from ingest import runs  # noqa: F401\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "core is not allowed to import ingest" in result.stdout
    assert "core.shortcut -> ingest.runs" in result.stdout


def test_a_sibling_reaching_into_another_sibling_is_caught(tmp_path):
    _copy_tree(tmp_path)
    (tmp_path / "ml" / "shortcut.py").write_text("from curate import groups  # noqa: F401\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "ml.shortcut -> curate.groups" in result.stdout


def test_a_model_package_reaching_into_another_is_caught(tmp_path):
    _copy_tree(tmp_path)
    (tmp_path / "ml" / "hydride" / "shortcut.py").write_text(
        "from ml.structural import morphs  # noqa: F401\n"
    )
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "ml.hydride.shortcut -> ml.structural.morphs" in result.stdout


def test_a_cycle_inside_a_model_package_is_caught(tmp_path):
    _copy_tree(tmp_path)
    with open(tmp_path / "ml" / "hydride" / "members.py", "a") as members:
        members.write("from ml.hydride import search  # noqa: E402, F401\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "No cycles are allowed in ml.hydride." in result.stdout


def test_every_model_package_is_named_in_the_independence_contract():
    """Every folder of ml/ is one model's package; a new one outside the contract could import
    another model unnoticed."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (independence,) = [c for c in config["contracts"] if c["type"] == "independence"]
    packages = {f"ml.{p.parent.name}" for p in (ROOT / "ml").glob("*/__init__.py")}
    assert set(independence["modules"]) == packages


def _cross_package_private_imports() -> list[str]:
    """``from other_package.module import _name``: a private name used across packages."""
    import ast

    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if not isinstance(node, ast.ImportFrom) or not node.module:
                    continue
                if node.module.split(".")[0] == package:
                    continue
                found += [
                    f"{path.relative_to(ROOT)}:{node.lineno} imports {node.module}.{alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    return found


def test_no_package_imports_a_private_name_of_another():
    assert _cross_package_private_imports() == []
