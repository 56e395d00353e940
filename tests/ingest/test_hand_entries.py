"""Hand-made literature entries: validated, refused when duplicate, kept in a file that survives
a rebuild; deprecations likewise."""

from __future__ import annotations

import csv

import pytest

from tcdb.ingest import pipeline
from tcdb.ingest import runs as ingest_runs
from tcdb.ingest.hand_entries import (
    EntryError,
    add_entries,
    deprecate,
    normalise_units,
    replay_deprecations,
)
from tcdb.schema.database import connect
from tests.conftest import migrated_copy, query
from tests.ingest.slices import STRUCTURES

# A point the literature file does not hold (its LaH10 experiments are at 150 GPa and above).
LAH10 = {
    "formula": "LaH10",
    "tc_K": "230 K",
    "pressure_GPa": "1.38 Mbar",
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
    assert row == [("LaH10", 230.0, 138.0, "curation", "curated_entries")]
    with open(curated / "literature_entries.csv", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert lines[-1]["formula"] == "LaH10" and lines[-1]["pressure_GPa"] == "138"


def test_a_duplicate_is_refused_with_the_existing_id(curated_db, curated, curated_sources):
    [entry] = add(curated_db, curated, curated_sources, LAH10)
    with pytest.raises(EntryError, match=f"duplicate of existing entry {entry.id}"):
        add(curated_db, curated, curated_sources, LAH10 | {"tc_K": "233"})
    [other] = add(curated_db, curated, curated_sources, LAH10 | {"pressure_GPa": "125"})
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


def test_entries_and_deprecations_survive_a_rebuild(
    curated_db, curated, curated_sources, migrated_template, tmp_path
):
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
    migrated_copy(migrated_template, rebuilt)
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


# ---- the README's example and duplicates found on the physics

README_LAH10 = {
    "formula": "LaH10",
    "tc_K": "250 K",
    "pressure_GPa": "170 GPa",
    "space_group": "Fm-3m",
    "method": "experiment",
    "reference": "Drozdov A.P. et al., Nature 569, 528 (2019)",
    "doi": "10.1038/s41586-019-1201-8",
}


def test_the_readme_lah10_example_is_refused_as_drozdovs_point(
    curated_db, curated, curated_sources
):
    """The file already holds Drozdov's 250 K at 170 GPa, with the space group written
    'Fm-3m (not stated in Bai)' and no DOI; a differing text must not let it in twice."""
    [(existing,)] = query(
        curated_db,
        "SELECT id FROM literature_entry WHERE formula = 'LaH10' AND method = 'experiment' "
        "AND pressure_GPa = 170 AND tc_K = 250",
    )
    with pytest.raises(EntryError, match=f"duplicate of existing entry {existing} .*Drozdov"):
        add(curated_db, curated, curated_sources, README_LAH10)
    assert not (curated / "literature_entries.csv").exists()


@pytest.mark.parametrize(
    "change",
    [{"space_group": "P1"}, {"space_group": ""}, {"tc_K": "254"}, {"pressure_GPa": "1.66 Mbar"}],
)
def test_a_duplicate_is_found_whatever_the_text_within_the_tolerances(
    curated_db, curated, curated_sources, change
):
    with pytest.raises(EntryError, match="duplicate of existing entry"):
        add(curated_db, curated, curated_sources, README_LAH10 | change)


def test_a_distinct_phase_of_the_same_paper_is_not_a_duplicate(
    curated_db, curated, curated_sources
):
    """Shipley et al. give LaH10 at 250 GPa in Fm-3m (246 K) and R-3m (245 K): one DOI, two
    phases; a third phase of that paper is a new point."""
    shipley = README_LAH10 | {
        "tc_K": "244",
        "pressure_GPa": "250",
        "space_group": "P63/mmc",
        "method": "dft_harmonic",
        "reference": "Shipley A.M., Phys. Rev. B 101, 224511 (2020)",
        "doi": "10.1103/PhysRevB.101.224511",
    }
    [entry] = add(curated_db, curated, curated_sources, shipley)
    with pytest.raises(EntryError, match=f"duplicate of existing entry {entry.id}"):
        add(curated_db, curated, curated_sources, shipley | {"space_group": "p63/mmc (hexagonal)"})
    with pytest.raises(EntryError, match="duplicate of existing entry"):
        add(curated_db, curated, curated_sources, shipley | {"space_group": "Fm-3m"})


# ---- all or nothing: the files and the database change together


def _curated_counts(db):
    return query(
        db,
        "SELECT (SELECT count(*) FROM literature_entry WHERE source_id = 'curated_entries'), "
        "(SELECT count(*) FROM ingest_run), (SELECT count(*) FROM measurement), "
        "(SELECT count(*) FROM crystal_structure)",
    )


def test_an_ingest_that_fails_after_the_append_leaves_file_and_database_and_a_retry_adds_one(
    curated_db, curated, curated_sources, monkeypatch
):
    """The load fails at its last write (the ingest run row), after the entry rows went in."""

    add(curated_db, curated, curated_sources, LAH10)
    entries = curated / "literature_entries.csv"
    before_bytes, before_counts = entries.read_bytes(), _curated_counts(curated_db)
    upsert = ingest_runs.upsert

    def failing(conn, table, *args, **kwargs):
        if table == "ingest_run":
            raise RuntimeError("disk full")
        return upsert(conn, table, *args, **kwargs)

    monkeypatch.setattr(ingest_runs, "upsert", failing)
    second = LAH10 | {"pressure_GPa": "120"}
    with pytest.raises(RuntimeError, match="disk full"):
        add(curated_db, curated, curated_sources, second)
    assert entries.read_bytes() == before_bytes
    assert _curated_counts(curated_db) == before_counts
    assert sorted(p.name for p in curated.iterdir()) == ["literature_entries.csv"]

    monkeypatch.setattr(ingest_runs, "upsert", upsert)
    [entry] = add(curated_db, curated, curated_sources, second)
    lines = entries.read_text().splitlines()
    assert len(lines) == len(before_bytes.decode().splitlines()) + 1
    assert entry.line_number == len(lines)
    assert _curated_counts(curated_db)[0][0] == before_counts[0][0] + 1


def test_a_failed_entry_with_a_cif_leaves_no_structure_file(
    curated_db, curated, curated_sources, real_sources, monkeypatch
):

    monkeypatch.setattr(ingest_runs, "insert_new_materials", _raise)
    mgh13 = LAH10 | {"formula": "MgH13", "pressure_GPa": "210", "method": "dft_harmonic",
                     "tc_K": "100"}  # fmt: skip
    cif = real_sources / STRUCTURES / "200GPa_Fm-3m_MgH13.cif"
    before = _curated_counts(curated_db)
    with pytest.raises(RuntimeError):
        add(curated_db, curated, curated_sources, mgh13, cifs=[cif])
    assert list((curated / "structures").iterdir()) == []
    assert not (curated / "literature_entries.csv").exists()
    assert _curated_counts(curated_db) == before


def _raise(*args, **kwargs):
    raise RuntimeError("the load failed")


def test_a_deprecation_that_cannot_be_recorded_changes_nothing(
    curated_db, curated, curated_sources
):
    """deprecations.csv cannot be written (here a folder stands in its place): the database
    must not be deprecated either, and the error is one sentence naming the file."""
    [entry] = add(curated_db, curated, curated_sources, LAH10)
    (curated / "deprecations.csv").mkdir()
    conn = connect(curated_db)
    try:
        with pytest.raises(EntryError, match=r"deprecations\.csv cannot be read"):
            deprecate(conn, curated, entry.id, "double-counted")
    finally:
        conn.close()
    assert query(curated_db, "SELECT status FROM literature_entry WHERE id = ?", entry.id) == [
        ("active",)
    ]


def test_a_deprecation_is_written_to_the_file_once(curated_db, curated, curated_sources):
    [entry] = add(curated_db, curated, curated_sources, LAH10)
    conn = connect(curated_db)
    try:
        deprecate(conn, curated, entry.id, "double-counted")
        with pytest.raises(Exception, match="already deprecated"):
            deprecate(conn, curated, entry.id, "again")
    finally:
        conn.close()
    rows = list(csv.DictReader((curated / "deprecations.csv").open()))
    assert [(r["id"], r["reason"]) for r in rows] == [(entry.id, "double-counted")]
    assert sorted(p.name for p in curated.iterdir() if p.name.startswith(".")) == []
