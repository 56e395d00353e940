"""The curate and snapshot commands as a user runs them."""

from __future__ import annotations

from tests.conftest import run_tcdb


def tcdb(db, tmp_path, *args):
    return run_tcdb("--db", str(db), *args, env={"TCDB_CURATED": str(tmp_path / "curated")})


def test_groups_shows_a_table_one_group(curated_db, tmp_path):
    result = tcdb(curated_db, tmp_path, "curate", "groups", "--formula", "BaLa19Cu9AgO40")
    assert result.returncode == 0, result.stderr
    assert "26.50" in result.stdout and "0.25" in result.stdout


def test_match_report_counts_methods(curated_db, tmp_path):
    result = tcdb(curated_db, tmp_path, "curate", "match", "--report", "--unmatched", "2")
    assert result.returncode == 0, result.stderr
    assert "exact_reduced" in result.stdout and "literature_file" in result.stdout
    assert result.stdout.count("unmatched") == 2


def test_snapshot_create_verify_and_refuse_a_tampered_one(curated_db, tmp_path):
    created = tcdb(curated_db, tmp_path, "snapshot", "create", "--name", "h", "--kind", "hydrides")
    assert created.returncode == 0, created.stderr
    snapshot_id = created.stdout.split()[1]
    assert tcdb(curated_db, tmp_path, "snapshot", "verify", "h").stdout.strip().endswith("intact")
    entries = curated_db.parent / "snapshots" / snapshot_id / "entries.parquet"
    entries.write_bytes(entries.read_bytes() + b"tampered")
    verify = tcdb(curated_db, tmp_path, "snapshot", "verify", snapshot_id)
    assert verify.returncode == 1 and "has changed" in verify.stderr
    show = tcdb(curated_db, tmp_path, "snapshot", "show", snapshot_id)
    assert show.returncode == 1 and "cannot be used" in show.stderr
    assert "Traceback" not in show.stderr


def test_add_entry_refusal_is_one_sentence(curated_db, tmp_path):
    result = tcdb(
        curated_db, tmp_path, "curate", "add-entry", "--formula", "LaH10", "--tc", "250",
        "--pressure", "3 furlongs", "--method", "experiment", "--reference", "x",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("error: nothing was added; entry 1 (LaH10): unknown unit")
    assert "Traceback" not in result.stderr


def test_a_bad_policy_is_refused(curated_db, tmp_path):
    result = tcdb(
        curated_db, tmp_path, "snapshot", "create", "--name", "x", "--kind", "structures",
        "--high-variance", "median",
    )  # fmt: skip
    assert result.returncode == 1 and "median" in result.stderr
