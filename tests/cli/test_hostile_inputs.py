"""Files a command is handed or finds in a run folder that attack it: a FIFO or a link to
/dev/zero as a listed run artefact or manifest (``predict hydride`` hung, holding the
database, or read /dev/zero into a MemoryError), a ``.parquet`` input that is not Parquet
(an ArrowInvalid traceback), a FIFO given as an input. Each is one sentence, at once."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from tests.commands import invoke_tcdb
from tests.core.test_safe_reads import deadline


def fifo(path: Path) -> None:
    os.mkfifo(path)


def zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


@pytest.fixture
def hostile_run(hydride_run, tmp_path):
    """A copy of the hydride run whose database row points at the copied folder, so its files
    can be swapped; yields the database, the run id and a function replacing one file."""
    db = hydride_run.copy_to(tmp_path)
    folder = tmp_path / "runs" / hydride_run.run_id
    with duckdb.connect(str(db)) as conn:
        conn.execute(
            "UPDATE model_run SET artefact_path = ? WHERE id = ?", [str(folder), hydride_run.run_id]
        )

    def replace(name: str, make) -> None:
        (folder / name).unlink()
        make(folder / name)

    return db, hydride_run.run_id, replace


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("linear.json", fifo, "is a FIFO, not a regular file"),
        ("ensemble/ensemble.weights.npz", zero, "is a character device, not a regular file"),
    ],
)
def test_predict_hydride_refuses_a_fifo_or_dev_zero_among_the_run_files_at_once(
    hostile_run, name, make, words
):
    db, run_id, replace = hostile_run
    replace(name, make)
    with deadline(60):
        result = invoke_tcdb("--db", str(db), "predict", "hydride", "LaH10")
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: Run {run_id}: artefact {name} {words}; the run is refused."
    )


def test_predict_hydride_refuses_a_fifo_as_the_manifest_at_once(hostile_run, tmp_path):
    db, run_id, replace = hostile_run
    replace("manifest.json", fifo)
    with deadline(60):
        result = invoke_tcdb("--db", str(db), "predict", "hydride", "LaH10")
    assert result.returncode == 1, result.stderr
    manifest = tmp_path / "runs" / run_id / "manifest.json"
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: Run {run_id}: {manifest} is a FIFO, not a regular file; refused."
    )


def test_a_parquet_input_that_is_not_parquet_and_a_fifo_input_are_named(migrated_db, tmp_path):
    bogus = tmp_path / "structures.parquet"
    bogus.write_text("name,structure\nNaCl,{}\n")
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    with deadline(60):
        result = invoke_tcdb("--db", str(migrated_db), "predict", str(bogus), str(pipe))
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    assert failed == [
        f"failed: {bogus} is not a readable Parquet file (Parquet magic bytes not found in "
        "footer. Either the file is corrupted or this is not a parquet file).",
        f"failed: {pipe} is a FIFO, not a file or folder; it was not read.",
    ]
    assert result.stderr.strip().splitlines()[-1].startswith("error: None of the 2 input(s)")


def test_evaluate_names_a_parquet_input_that_is_not_parquet(migrated_db, tmp_path):
    bogus = tmp_path / "labelled.parquet"
    bogus.write_bytes(b"PAR1" + b"\0" * 64)
    result = invoke_tcdb("--db", str(migrated_db), "evaluate", str(bogus), "--run", "latest")
    assert result.returncode == 1, result.stderr
    rejected = [line for line in result.stderr.splitlines() if line.startswith("rejected: ")]
    assert len(rejected) == 1
    assert rejected[0].startswith(f"rejected: {bogus} is not a readable Parquet file (")
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("error: No labelled structure could be read from")
    )


@pytest.mark.parametrize(("make", "words"), [(fifo, "a FIFO"), (zero, "a character device")])
def test_add_entry_refuses_a_fifo_or_dev_zero_given_as_its_cif_at_once(
    curated_db, tmp_path, make, words
):
    cif = tmp_path / "entry.cif"
    make(cif)
    with deadline(60):
        result = invoke_tcdb(
            "--db", str(curated_db), "curate", "add-entry", "--formula", "LaH10", "--tc", "230",
            "--pressure", "138", "--method", "experiment", "--reference", "x", "--cif", str(cif),
            env={"TCDB_CURATED": str(tmp_path / "curated")},
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert f"--cif {cif}: is {words}, not a regular file" in result.stderr
    assert not (tmp_path / "curated").exists() or not any((tmp_path / "curated").rglob("*.csv"))
