"""``tcdb curate add-entry`` given a space group that names no group: "zz" let a point the
database holds (same composition, pressure, T_c and DOI) in again as a phase of its own. A
space group must be a Hermann–Mauguin symbol or a number 1–230, and one group written in other
words is the same phase."""

from __future__ import annotations

import csv

import pytest

from tcdb.ingest.hand_entries import EntryError, add_entries
from tcdb.schema.database import connect
from tests.commands import invoke_tcdb
from tests.conftest import query

# Hutcheon et al.'s RbH12 in C2/m at 100 GPa, 129 K, as the literature file holds it.
HUTCHEON = ("--formula", "RbH12", "--tc", "129", "--pressure", "100", "--method",
            "dft_harmonic", "--reference", "Hutcheon M.J., Phys. Rev. B 101, 144505 (2020)",
            "--doi", "10.1103/PhysRevB.101.144505")  # fmt: skip


def _add_entry(db, tmp_path, space_group: str):
    return invoke_tcdb("--db", str(db), "curate", "add-entry", *HUTCHEON, "--space-group",
                       space_group, env={"TCDB_CURATED": str(tmp_path / "curated")})  # fmt: skip


def _curated_count(db) -> int:
    sql = "SELECT count(*) FROM literature_entry WHERE source_id = 'curated_entries'"
    return query(db, sql)[0][0]


@pytest.mark.parametrize(
    ("junk", "reason"),
    [
        ("zz", "space group 'zz' is not a Hermann-Mauguin symbol"),
        ("231", "space group 231 is not a space-group number (1-230)"),
        ("cubic (Fm-3m; garbled)", "space group 'cubic (Fm-3m; garbled)' is not a Hermann"),
    ],
)
def test_a_junk_space_group_is_refused_at_entry_naming_it(curated_db, tmp_path, junk, reason):
    result = _add_entry(curated_db, tmp_path, junk)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: nothing was added; entry 1 (RbH12): {reason}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert _curated_count(curated_db) == 0
    assert not (tmp_path / "curated" / "literature_entries.csv").exists()


@pytest.mark.parametrize("written", ["C2/m", "12", "c2/m (monoclinic)", "C12/m1"])
def test_the_same_group_in_other_words_is_the_existing_point(curated_db, tmp_path, written):
    result = _add_entry(curated_db, tmp_path, written)
    assert result.returncode == 1
    assert "duplicate of existing entry lit-" in result.stderr and "C2/m" in result.stderr
    assert _curated_count(curated_db) == 0


def test_a_junk_text_stored_before_the_check_tells_no_phase_apart(curated_db, tmp_path):
    """An entry whose space group was stored as "zz" (before entries were checked) is still
    the point a new entry of the same paper and physics repeats."""
    with connect(curated_db) as conn:
        conn.execute(
            "UPDATE literature_entry SET space_group = 'zz' WHERE formula = 'RbH12' "
            "AND space_group = 'C2/m' AND pressure_GPa = 100"
        )
    result = _add_entry(curated_db, tmp_path, "P-1")
    assert result.returncode == 1 and "duplicate of existing entry" in result.stderr
    assert "(RbH12, zz, 100 GPa, 129 K" in result.stderr


def test_two_rows_of_one_input_naming_one_group_differently_are_one_point(curated_db, tmp_path):
    row = {"formula": "RbH12", "tc_K": "150", "pressure_GPa": "300", "space_group": "C2/m",
           "method": "dft_harmonic", "reference": "x", "doi": "10.5555/new"}  # fmt: skip
    conn = connect(curated_db)
    try:
        with pytest.raises(EntryError, match=r"entry 2 \(RbH12\): duplicate of entry 1 in the"):
            add_entries(
                conn,
                tmp_path / "curated",
                tmp_path,
                [row, row | {"space_group": "12", "tc_K": "152"}],
            )
        [added] = add_entries(conn, tmp_path / "curated", tmp_path, [row])
    finally:
        conn.close()
    with open(tmp_path / "curated" / "literature_entries.csv", newline="") as handle:
        assert [r["space_group"] for r in csv.DictReader(handle)] == ["C2/m"]
    assert added.line_number == 2
