"""What a run records about the code and libraries that made it."""

from __future__ import annotations

import subprocess
from functools import cache
from importlib import metadata

from core.settings import project_root

RECORDED_LIBRARIES = (
    "duckdb",
    "numpy",
    "pandas",
    "pymatgen",
    "mendeleev",
    "scikit-learn",
    "tensorflow",
    "tf-keras",
    "cvnn",
    "mp-api",
)


@cache
def code_revision() -> str | None:
    """The git commit of the checkout, with ``-dirty`` when files differ from it."""
    root = project_root()
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{head}-dirty" if dirty else head


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries results depend on."""
    versions = {}
    for name in RECORDED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions
