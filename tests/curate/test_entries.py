"""Hand-made literature entries: validated, refused when duplicate, kept in a file that survives
a rebuild; deprecations likewise."""

from __future__ import annotations

import csv

import pytest

from curate.entries import (
    EntryError,
    add_entries,
    deprecate,
    normalise_units,
    replay_deprecations,
)
from ingest import pipeline
from schema import migrate
from schema.database import connect
from tests.conftest import query
from tests.ingest.slices import STRUCTURES

LAH10 = {
    "formula": "LaH10",
    "tc_K": "250 K",
    "pressure_GPa": "1.7 Mbar",
    "space_group": "Fm-3m",
    "method": "experiment",
    "reference": "Drozdov et al., Nature 569, 528 (2019)",
    "doi": "10.1038/s41586-019-1201-8",
}


def add(db, curated, sources, *rows, cifs=None):
    conn = connect(db)
    try:
        return add_entries(conn, curated, sources, list(rows), cifs)
    finally:
        conn.close()


@pytest.fixture
def curated(tmp_path):
    return tmp_path / "curated"


def test_an_added_entry_is_in_the_database_and_in_the_file(curated_db, curated, curated_sources):
    [entry] = add(curated_db, curated, curated_sources, LAH10)
    row = query(
        curated_db,
        "SELECT formula, tc_K, pressure_GPa, added_by, source_id FROM literature_entry "
        "WHERE id = ?",
        entry.id,
    )
    assert row == [("LaH10", 250.0, 170.0, "curation", "curated_entries")]
    with open(curated / "literature_entries.csv", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert lines[-1]["formula"] == "LaH10" and lines[-1]["pressure_GPa"] == "170"


def test_a_duplicate_is_refused_with_the_existing_id(curated_db, curated, curated_sources):
    [entry] = add(curated_db, curated, curated_sources, LAH10)
    with pytest.raises(EntryError, match=f"duplicate of existing entry {entry.id}"):
        add(curated_db, curated, curated_sources, LAH10 | {"tc_K": "245"})
    [other] = add(curated_db, curated, curated_sources, LAH10 | {"pressure_GPa": "155"})
    assert other.id != entry.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pressure_GPa": "1.7 furlongs"}, "unknown unit 'furlongs'"),
        ({"tc_K": "250 C"}, "unknown unit 'C'"),
        ({"tc_K": "-4"}, "not a number or range"),
        ({"tc_K": "900"}, "above 500 K"),
        ({"doi": "nature.com/x"}, "is not of the form 10.NNNN"),
        ({"formula": "LaHx"}, "variable amount x"),
        ({"method": "hearsay"}, "method 'hearsay' is not one of"),
        ({"reference": ""}, "a reference is required"),
        ({"pressure_GPa": ""}, "pressure"),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_written(
    curated_db, curated, curated_sources, change, message
):
    with pytest.raises(EntryError, match=message):
        add(curated_db, curated, curated_sources, LAH10 | change)
    assert not (curated / "literature_entries.csv").exists()


def test_from_file_is_all_or_nothing(curated_db, curated, curated_sources):
    good = LAH10 | {"pressure_GPa": "140"}
    with pytest.raises(EntryError, match=r"entry 2 .*unknown unit"):
        add(curated_db, curated, curated_sources, good, LAH10 | {"pressure_GPa": "3 bananas"})
    assert not (curated / "literature_entries.csv").exists()
    assert query(
        curated_db, "SELECT count(*) FROM literature_entry WHERE source_id = 'curated_entries'"
    ) == [(0,)]


def test_a_cif_is_checked_copied_and_linked(curated_db, curated, curated_sources, real_sources):
    cif = real_sources / STRUCTURES / "200GPa_Fm-3m_MgH13.cif"
    with pytest.raises(EntryError, match="not the entry's composition"):
        add(curated_db, curated, curated_sources, LAH10, cifs=[cif])
    mgh13 = LAH10 | {"formula": "MgH13", "pressure_GPa": "210", "method": "dft_harmonic",
                     "tc_K": "100"}  # fmt: skip
    [entry] = add(curated_db, curated, curated_sources, mgh13, cifs=[cif])
    assert (curated / "structures" / "210GPa_Fm-3m_MgH13.cif").exists()
    linked = query(
        curated_db,
        "SELECT s.source_id, s.pressure_GPa FROM literature_entry e "
        "JOIN crystal_structure s ON s.id = e.structure_id WHERE e.id = ?",
        entry.id,
    )
    assert linked == [("curated_structures", 210.0)]


def test_entries_and_deprecations_survive_a_rebuild(curated_db, curated, curated_sources, tmp_path):
    [entry] = add(curated_db, curated, curated_sources, LAH10)
    conn = connect(curated_db)
    try:
        deprecate(conn, curated, entry.id, "double-counted with the source file")
    finally:
        conn.close()
    assert query(curated_db, "SELECT status FROM literature_entry WHERE id = ?", entry.id) == [
        ("deprecated",)
    ]
    ledger = query(
        curated_db, "SELECT action, reason FROM curation_ledger WHERE subject_id = ?", entry.id
    )
    assert ledger == [("deprecate", "double-counted with the source file")]

    rebuilt = tmp_path / "rebuilt.duckdb"
    migrate.upgrade(rebuilt)
    conn = connect(rebuilt)
    try:
        pipeline.ingest(conn, "literature", curated_sources, curated_root=curated)
        assert replay_deprecations(conn, curated) == 1
    finally:
        conn.close()
    assert query(
        rebuilt, "SELECT status, deprecation_reason FROM literature_entry WHERE id = ?", entry.id
    ) == [("deprecated", "double-counted with the source file")]
    measurements = query(rebuilt, "SELECT status FROM measurement WHERE origin_id = ?", entry.id)
    assert measurements == [("deprecated",)]


def test_units_are_converted_to_kelvin_and_gigapascal():
    row = normalise_units({"tc_K": "250 K", "pressure_GPa": "15 kbar", "formula": "X"})
    assert (row["tc_K"], row["pressure_GPa"]) == ("250", "1.5")
    assert normalise_units({"pressure_GPa": "1.6-1.9 Mbar"})["pressure_GPa"] == "160-190"
