"""``tcdb curate add-entry``, ``tcdb curate deprecate`` and ``tcdb snapshot diff`` when they
succeed, as a user runs them: the entry is stored with its provenance and is in the next
snapshot, a second identical entry is refused naming the first, a deprecation is in the ledger
and takes the entry out of the next snapshot, and the diff names the entry and the counts."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import pyarrow.parquet as pq

from tests.commands import invoke_tcdb
from tests.conftest import query

# a point the literature file does not hold (ScH6 is there at 300 GPa only)
ENTRY = {
    "formula": "ScH6",
    "tc": "120 K",
    "pressure": "1.3 Mbar",  # converted: the database and the file hold 130 GPa
    "space-group": "Im-3m",
    "method": "dft_harmonic",
    "reference": "Test A. et al., Phys. Rev. B 1, 1 (2020)",
    "doi": "10.1103/tcdb.test.1",
}
ADD = ("curate", "add-entry", *[part for key, value in ENTRY.items()
                                 for part in (f"--{key}", value)])  # fmt: skip


def tcdb(db: Path, curated: Path, *args: str):
    return invoke_tcdb("--db", str(db), *args, env={"TCDB_CURATED": str(curated)})


def _snapshot(db: Path, curated: Path, name: str) -> tuple[str, int]:
    """A hydrides snapshot named ``name``: its id and the rows of its entries file."""
    made = tcdb(db, curated, "snapshot", "create", "--name", name, "--kind", "hydrides")
    assert made.returncode == 0, made.stderr
    snapshot_id = made.stdout.split()[1]
    entries = pq.read_table(db.parent / "snapshots" / snapshot_id / "entries.parquet")
    return snapshot_id, entries.num_rows


def _entry_ids(db: Path, snapshot_id: str) -> set[str]:
    path = db.parent / "snapshots" / snapshot_id / "entries.parquet"
    return set(pq.read_table(path, columns=["literature_entry_id"]).column(0).to_pylist())


def _diff(db: Path, curated: Path, a: str, b: str) -> dict[str, str]:
    """``tcdb snapshot diff a b`` as {label: the rest of its line}."""
    result = tcdb(db, curated, "snapshot", "diff", a, b)
    assert result.returncode == 0, result.stderr
    return dict(line.split(": ", 1) for line in result.stdout.splitlines())


def test_an_added_entry_is_stored_refused_twice_deprecated_and_diffed(curated_db, tmp_path):
    curated = tmp_path / "curated"
    before_id, n_before = _snapshot(curated_db, curated, "before")

    added = tcdb(curated_db, curated, *ADD)
    assert added.returncode == 0, added.stderr
    match = re.fullmatch(r"added (lit-\w+)  ScH6  \(literature_entries\.csv line 2\)\n",
                         added.stdout)  # fmt: skip
    assert match, added.stdout
    entry_id = match[1]
    _assert_stored_with_provenance(curated_db, curated, entry_id)

    entries_file = (curated / "literature_entries.csv").read_bytes()
    again = tcdb(curated_db, curated, *ADD)
    assert again.returncode == 1
    assert f"duplicate of existing entry {entry_id} (ScH6, Im-3m, 130 GPa, 120 K" in again.stderr
    assert "Traceback" not in again.stderr and again.stdout == ""
    assert (curated / "literature_entries.csv").read_bytes() == entries_file
    assert query(curated_db, "SELECT count(*) FROM literature_entry WHERE formula = 'ScH6' "
                 "AND pressure_GPa = 130") == [(1,)]  # fmt: skip

    with_id, n_with = _snapshot(curated_db, curated, "with")
    assert _entry_ids(curated_db, with_id) - _entry_ids(curated_db, before_id) == {entry_id}
    diff = _diff(curated_db, curated, "before", "with")
    assert diff["added"] == f"1  {entry_id}"
    assert diff["removed"] == "0" and diff["relabelled"] == "0"
    assert f"'entries': {n_before}" in diff["counts"].split(" → ")[0]
    assert f"'entries': {n_with}" in diff["counts"].split(" → ")[1] and n_with == n_before + 1

    reason = "a test entry, not a paper's value"
    deprecated = tcdb(curated_db, curated, "curate", "deprecate", entry_id, "--reason", reason)
    assert deprecated.returncode == 0, deprecated.stderr
    assert deprecated.stdout.strip() == f"deprecated literature_entry {entry_id}: {reason}"
    _assert_deprecated(curated_db, curated, entry_id, reason)

    after_id, n_after = _snapshot(curated_db, curated, "after")
    assert entry_id not in _entry_ids(curated_db, after_id) and n_after == n_before
    assert after_id == before_id  # the same content again: the same content hash
    diff = _diff(curated_db, curated, "with", "after")
    assert diff["removed"] == f"1  {entry_id}" and diff["added"] == "0"


def _assert_stored_with_provenance(db: Path, curated: Path, entry_id: str) -> None:
    """The entry's row holds what was typed (units converted), names the curated file's
    source and ingest run, whose hash is the file's; its measurement is active; the file
    holds the same row."""
    (row,) = query(
        db,
        "SELECT e.formula, e.pressure_GPa, e.tc_K, e.space_group, e.method, e.reference, e.doi, "
        "e.read_in, e.added_by, e.status, e.line_number, r.source_id, r.file_path, "
        "r.file_sha256, r.status FROM literature_entry e JOIN ingest_run r "
        "ON r.id = e.ingest_run_id WHERE e.id = ?",
        entry_id,
    )
    path = curated / "literature_entries.csv"
    assert row == (
        "ScH6", 130.0, 120.0, "Im-3m", "dft_harmonic", ENTRY["reference"], ENTRY["doi"],
        "tcdb curate add-entry", "curation", "active", 2, "curated_entries", str(path),
        hashlib.sha256(path.read_bytes()).hexdigest(), "succeeded",
    )  # fmt: skip
    assert query(db, "SELECT file_sha256 FROM source WHERE id = 'curated_entries'") == [(row[13],)]
    measured = query(db, "SELECT tc_K, pressure_GPa, method, status FROM measurement "
                     "WHERE origin_id = ?", entry_id)  # fmt: skip
    assert measured == [(120.0, 130.0, "dft_harmonic", "active")]
    (written,) = csv.DictReader(path.open(encoding="utf-8"))
    assert (written["formula"], written["pressure_GPa"], written["tc_K"]) == ("ScH6", "130", "120")


def _assert_deprecated(db: Path, curated: Path, entry_id: str, reason: str) -> None:
    """The entry and its measurement are deprecated with the reason, the ledger holds the
    manual decision once, and deprecations.csv records it for the next rebuild."""
    assert query(db, "SELECT status, deprecation_reason FROM literature_entry WHERE id = ?",
                 entry_id) == [("deprecated", reason)]  # fmt: skip
    measured = query(db, "SELECT status, deprecation_reason, deprecated_at IS NOT NULL "
                     "FROM measurement WHERE origin_id = ?", entry_id)  # fmt: skip
    assert measured == [("deprecated", reason, True)]
    ledger = query(db, "SELECT stage, subject_table, action, reason, curation_run_id "
                   "FROM curation_ledger WHERE subject_id = ?", entry_id)  # fmt: skip
    assert ledger == [("manual", "literature_entry", "deprecate", reason, None)]
    (recorded,) = csv.DictReader((curated / "deprecations.csv").open(encoding="utf-8"))
    assert (recorded["id"], recorded["table"], recorded["reason"]) == (
        entry_id, "literature_entry", reason,
    )  # fmt: skip
