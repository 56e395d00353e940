"""Output paths as an attacker or a slip names them: ``-o`` and ``--out`` pointed at the
database, its WAL, a backup, a link or a hard link to it, a ``..`` path that lands on it, or a
folder tcdb keeps are refused with one sentence before any work, and the database stays
byte-identical; an accepted output replaces the old file whole or not at all."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from tcdb.schema import migrate
from tests.commands import invoke_tcdb
from tests.conftest import SOURCES

CIF = SOURCES / "reference" / "structures" / "MgH13_Fm-3m_200GPa.cif"
HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.fixture
def db(migrated_template, tmp_path) -> Path:
    """A migrated database with the folders tcdb keeps beside it, each holding a file."""
    path = tmp_path / "data" / "tcdb.duckdb"
    path.parent.mkdir()
    shutil.copy(migrated_template, path)
    for folder in ("runs", "snapshots", "jobs", "cache", "evaluations"):
        (path.parent / folder).mkdir()
        (path.parent / folder / "kept.txt").write_text(f"{folder}\n")
    return path


def _state(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (links as their target) with its SHA-256."""
    return {
        str(p.relative_to(folder)): (
            f"-> {os.readlink(p)}"
            if p.is_symlink()
            else hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file()
            else "folder"
        )
        for p in sorted(folder.rglob("*"))
    }


def _refused(result, *words: str) -> None:
    """Exit 1 and one sentence on stderr, never a traceback."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and line.endswith("."), line
    for word in words:
        assert word in line, line


def _target(db: Path, case: str) -> Path:
    """The output path of each attack, made as the attacker would."""
    folder = db.parent
    if case == "database":
        return db
    if case == "wal":
        return folder / "tcdb.duckdb.wal"
    if case == "backup":
        backup = folder / "tcdb.duckdb.backup-20250101T000000Z"
        shutil.copy(db, backup)
        assert migrate.backups(db) == [backup]  # the name migrations give their backups
        return backup
    if case == "dotdot":
        (folder / "sub").mkdir()
        return folder / "sub" / ".." / "tcdb.duckdb"
    if case == "symlink":
        link = folder.parent / "innocent.csv"
        link.symlink_to(db)
        return link
    if case == "hardlink":
        link = folder.parent / "innocent.csv"
        os.link(db, link)
        return link
    return folder / case / "predictions.csv"  # inside runs, snapshots, jobs, cache, …


ATTACKS = ("database", "wal", "backup", "dotdot", "symlink", "hardlink", "runs", "snapshots",
           "jobs", "cache", "evaluations")  # fmt: skip


@pytest.mark.parametrize("case", ATTACKS)
def test_predict_output_onto_the_database_or_a_kept_folder_is_refused(db, case):
    """The reproduction of issue #26: ``tcdb predict a.cif -o <the database>`` turned the
    database into a CSV. Now every such path is refused before any input is read."""
    target = _target(db, case)
    before = _state(db.parent.parent)
    started = time.perf_counter()
    result = invoke_tcdb("--db", str(db), "predict", str(CIF), "-o", str(target))
    seconds = time.perf_counter() - started
    _refused(result, str(target))
    assert _state(db.parent.parent) == before  # the database byte-identical, nothing added
    assert seconds < 1.0  # refused before the model is loaded or any input read


def test_predict_hydride_output_onto_the_database_is_refused(db):
    before = _state(db.parent)
    result = invoke_tcdb("--db", str(db), "predict", "hydride", "LaH10", "-o", str(db))
    _refused(result, "the database file")
    assert _state(db.parent) == before


def test_an_output_in_the_curated_or_sources_folder_is_refused(db, tmp_path):
    curated = tmp_path / "curated"
    curated.mkdir()
    env = {"TCDB_CURATED": str(curated), "TCDB_SOURCES": str(SOURCES)}
    result = invoke_tcdb("--db", str(db), "predict", str(CIF), "-o", str(curated / "x.csv"),
                         env=env)  # fmt: skip
    _refused(result, "curated entries folder")
    inside = SOURCES / "reference" / "x.csv"
    result = invoke_tcdb("--db", str(db), "predict", str(CIF), "-o", str(inside), env=env)
    _refused(result, "raw sources folder")
    assert not inside.exists() and not any(curated.iterdir())


def test_an_output_that_is_a_folder_or_a_fifo_is_refused_without_waiting(db, tmp_path):
    """A FIFO with no reader would block the write forever; a folder cannot be a CSV."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    previous = signal.signal(signal.SIGALRM, signal.default_int_handler)
    signal.alarm(20)  # a hang becomes a failure instead of a stuck test run
    try:
        result = invoke_tcdb("--db", str(db), "predict", str(CIF), "-o", str(fifo))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    _refused(result, "not a regular file")
    _refused(invoke_tcdb("--db", str(db), "predict", str(CIF), "-o", str(tmp_path)), "a folder")
    missing = tmp_path / "nowhere" / "x.csv"
    _refused(invoke_tcdb("--db", str(db), "predict", str(CIF), "-o", str(missing)),
             "does not exist")  # fmt: skip


@pytest.mark.parametrize("case", ("runs", "snapshots", "database folder", "database file",
                                  "structures link"))  # fmt: skip
def test_report_out_onto_the_database_or_a_kept_folder_is_refused(db, case):
    folder = db.parent
    out = {
        "runs": folder / "runs",
        "snapshots": folder / "snapshots" / "site",
        "database folder": folder,
        "database file": db,
        "structures link": folder.parent / "site",
    }[case]
    if case == "structures link":  # the CIFs would land in the runs folder
        out.mkdir()
        (out / "structures").symlink_to(folder / "runs")
    before = _state(folder.parent)
    result = invoke_tcdb("--db", str(db), "report", "--out", str(out))
    _refused(result, "Refusing to write into")
    assert _state(folder.parent) == before


def test_hydride_csv_replaces_the_old_file_and_neutralises_formulas(hydride_run, tmp_path):
    """A formula typed as ``=HYPERLINK(…)`` comes back in the CSV as text a spreadsheet will
    not run; the numbers stay numbers; the old file is replaced whole."""
    db = hydride_run.copy_to(tmp_path)
    out = tmp_path / "hydrides.csv"
    out.write_text("previous results\n")
    os.chmod(out, 0o640)
    result = invoke_tcdb("--db", str(db), "predict", "hydride", "LaH10", HYPERLINK,
                         "--no-store", "--format", "json", "-o", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert frame.formula.tolist() == ["LaH10", "'" + HYPERLINK]
    assert pd.api.types.is_float_dtype(frame.tc_K) and frame.tc_K.notna().sum() == 1
    assert json.loads(result.stdout)[1]["formula"] == HYPERLINK  # stdout is data, left as is
    assert oct(out.stat().st_mode & 0o777) == oct(0o640)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@contextlib.contextmanager
def file_size_limit(size: int):
    """Files this process writes may not grow past ``size`` bytes: the kernel refuses the
    write (EFBIG), a real failure half-way through writing an output."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_write_that_fails_half_way_leaves_the_old_output_intact(hydride_run, tmp_path):
    db = hydride_run.copy_to(tmp_path)
    out = tmp_path / "hydrides.csv"
    out.write_text("previous results\n")
    with file_size_limit(256):  # the CSV of three hydrides is larger
        result = invoke_tcdb("--db", str(db), "predict", "hydride", "LaH10", "CaH6", "YH6",
                             "--no-store", "--format", "json", "-o", str(out))  # fmt: skip
    _refused(result, "Could not write", str(out), "left as it was")
    assert out.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hydrides.csv", "runs", "tcdb.duckdb"]


def test_predict_csv_neutralises_a_stored_name_and_keeps_numbers(models_db, tmp_path):
    """A structure named ``=HYPERLINK(…)`` in a JSON input: stored as given, written to the
    ``-o`` CSV as text; T_c columns stay numeric."""
    from tests.reports.test_csv_injection import write_hyperlink_input

    inputs = write_hyperlink_input(tmp_path)
    out = tmp_path / "predictions.csv"
    result = invoke_tcdb("--db", str(models_db), "predict", str(inputs), "--no-store",
                         "-o", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert frame.name.tolist() == ["'" + HYPERLINK]
    assert pd.api.types.is_float_dtype(frame.tc_K) and frame.tc_K.notna().all()
