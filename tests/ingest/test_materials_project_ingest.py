"""Materials Project structures: read from the mirror's archive, or online through a fake client."""

from __future__ import annotations

import json
import tarfile

import pytest
from pymatgen.core import Structure

from tcdb.ingest import pipeline
from tcdb.ingest.sources.mp_api import connect as online_job
from tcdb.ingest.sources.mp_api import supercon_formulas
from tcdb.schema.database import connect
from tests.conftest import ingest_into, query
from tests.ingest.slices import MP_TAR, NIMS, head_lines, tar_slice

BROKEN_CIF = "data_broken\n_cell_length_a 3.0\nthis is not a CIF loop\n"


@pytest.fixture
def mirror_slice(real_sources, tmp_path):
    folder = tmp_path / "sources"
    names = tar_slice(
        real_sources / MP_TAR,
        folder / MP_TAR,
        15,
        extra={"mp_structures/mp-0000000.cif": BROKEN_CIF, "mp_structures/README.txt": "hi"},
    )
    return folder, names


def test_the_mirror_is_read_from_its_archive_and_every_cif_accounted_for(migrated_db, mirror_slice):
    sources, names = mirror_slice
    outcome = ingest_into(migrated_db, sources, "materials-project")["mp_mirror"]
    n_cifs = sum(name.endswith(".cif") for name in names)
    assert outcome.n_records == n_cifs == 16
    assert (outcome.n_loaded, outcome.n_rejected) == (15, 1)
    rejected = query(migrated_db, "SELECT record_ref, reason_code FROM ingest_rejection")
    assert rejected[0][0] == "mp_structures/mp-0000000.cif"
    assert not (sources / "materials_project" / "mp_structures").exists(), "nothing extracted"


def test_structures_keep_lattice_symmetry_and_both_representations(migrated_db, mirror_slice):
    sources, names = mirror_slice
    ingest_into(migrated_db, sources, "materials-project")
    rows = query(
        migrated_db,
        "SELECT id, structure_json, cif_text, volume_A3, n_sites, spacegroup_number, symprec, "
        "material_id FROM crystal_structure ORDER BY id",
    )
    assert {r[0] for r in rows} == {n.split("/")[-1][:-4] for n in names[:15]}
    for _id, structure_json, cif_text, volume, n_sites, spacegroup, symprec, material in rows:
        structure = Structure.from_dict(json.loads(structure_json))
        assert len(structure) == n_sites
        assert structure.volume == pytest.approx(volume)
        assert cif_text.startswith("#") or "data_" in cif_text
        assert 1 <= spacegroup <= 230
        assert symprec == 0.1
        assert material.startswith("mat-")
    orphans = query(
        migrated_db,
        "SELECT count(*) FROM crystal_structure s LEFT JOIN material m ON m.id = s.material_id "
        "WHERE m.id IS NULL",
    )
    assert orphans == [(0,)]


def test_reingesting_the_unchanged_archive_does_nothing(migrated_db, mirror_slice):
    sources, _ = mirror_slice
    ingest_into(migrated_db, sources, "materials-project")
    again = ingest_into(migrated_db, sources, "materials-project")["mp_mirror"]
    assert again.status == "unchanged"


class FakeClient:
    """Stands in for mp-api at the client boundary: serves CIFs from the real mirror."""

    def __init__(self, cifs: dict[str, str]) -> None:
        self.cifs = cifs
        self.requests: list[list[str]] = []

    def database_version(self) -> str:
        return "2099.01.01"

    def structures(self, formulas: list[str]) -> list[tuple[str, str]]:
        self.requests.append(formulas)
        return list(self.cifs.items())


def test_the_online_path_uses_the_same_parse_and_load(migrated_db, real_sources, tmp_path):
    sources = tmp_path / "sources"
    head_lines(real_sources / NIMS, sources / NIMS, 3 + 50)
    (sources / "supercon" / "stanev2018_supercon.csv").write_text("name,Tc\nNb3Sn,18\n")
    ingest_into(migrated_db, sources, "supercon")
    with tarfile.open(real_sources / MP_TAR) as archive:
        members = [m for m in archive if m.name.endswith(".cif")][:3]
        cifs = {m.name.split("/")[-1][:-4]: archive.extractfile(m).read().decode() for m in members}
    client = FakeClient(cifs)
    conn = connect(migrated_db)
    try:
        formulas = supercon_formulas(conn)
        job = online_job("test-key", conn, client_factory=lambda key: client)
        outcome = pipeline.run_job(conn, job, sources)
    finally:
        conn.close()
    assert outcome.source_id == "mp_api" and outcome.n_loaded == 3
    assert sum(len(r) for r in client.requests) == len(formulas) > 0
    versions = query(migrated_db, "SELECT DISTINCT database_version FROM crystal_structure")
    assert versions == [("2099.01.01",)]


def test_an_unreachable_service_falls_back_to_the_mirror(migrated_db):
    def no_network(key):
        raise ConnectionError("no route to host")

    conn = connect(migrated_db)
    try:
        assert online_job("test-key", conn, client_factory=no_network) is None
    finally:
        conn.close()
