"""A database curated from real data: the whole NIMS table, a slice of the Materials Project
mirror chosen to include matches, and the literature files."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest

from curate.run import run_curation
from ingest import pipeline
from schema import migrate
from schema.database import connect
from tests.ingest.slices import LITERATURE, MP_TAR, NIMS, STANEV, STRUCTURES


def build_sources(real: Path, folder: Path, n_structures: int = 80) -> Path:
    (folder / NIMS).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(real / NIMS, folder / NIMS)
    (folder / STANEV).write_text("name,Tc\nNb3Sn,18\n")
    (folder / MP_TAR).parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(real / MP_TAR, "r:gz") as src, tarfile.open(folder / MP_TAR, "w:gz") as dst:
        for i, member in enumerate(m for m in src if m.name.endswith(".cif")):
            if i >= n_structures:
                break
            dst.addfile(member, src.extractfile(member))
    (folder / LITERATURE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(real / LITERATURE, folder / LITERATURE)
    shutil.copytree(real / STRUCTURES, folder / STRUCTURES)
    return folder


@pytest.fixture(scope="session")
def curated_sources(real_sources, tmp_path_factory) -> Path:
    return build_sources(real_sources, tmp_path_factory.mktemp("curated") / "sources")


@pytest.fixture(scope="session")
def curated_template(curated_sources, tmp_path_factory) -> Path:
    """Ingested and curated once per session; tests copy it."""
    db = tmp_path_factory.mktemp("template") / "tcdb.duckdb"
    migrate.upgrade(db)
    conn = connect(db)
    try:
        pipeline.ingest(conn, "all", curated_sources)
        run_curation(conn)
    finally:
        conn.close()
    return db


@pytest.fixture
def curated_db(curated_template, tmp_path) -> Path:
    db = tmp_path / "tcdb.duckdb"
    shutil.copy(curated_template, db)
    return db
