"""What every recorded step (ingest run, curation run, snapshot, model run) says about the code
and libraries that made it: one stamp, taken the same way everywhere, so that rows and manifests
from different layers can be compared field by field."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata

from tcdb.core import __version__
from tcdb.core.settings import project_root

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


@dataclass(frozen=True)
class Provenance:
    """The tcdb version, the code revision and, where results depend on them, library versions.

    Database rows keep their ``tcdb_version`` and ``code_revision`` columns; model runs also
    record ``library_versions`` (their numbers depend on numpy, TensorFlow, scikit-learn ...)."""

    tcdb_version: str
    code_revision: str | None
    library_versions: dict[str, str] = field(default_factory=dict)

    def columns(self) -> dict[str, str | None]:
        """The two provenance columns every run-like table has."""
        return {"tcdb_version": self.tcdb_version, "code_revision": self.code_revision}


def provenance_stamp(*, libraries: bool = False) -> Provenance:
    """The stamp of the running code; with ``libraries`` also the versions of the libraries
    results depend on (taken once per call, since installing a package changes them)."""
    return Provenance(__version__, code_revision(), library_versions() if libraries else {})
