"""'tcdb ingest' as a user meets a refused file: one sentence, exit code 4, the rest ingested."""

from __future__ import annotations

from tests.commands import invoke_tcdb
from tests.conftest import ingest_into, query
from tests.ingest.slices import NIMS, STANEV, head_lines

HEADER = 3


def _supercon(real_sources, folder, rows: int = 30):
    head_lines(real_sources / NIMS, folder / NIMS, HEADER + rows)
    head_lines(real_sources / STANEV, folder / STANEV, 1 + rows)
    return folder


def test_a_header_only_nims_file_is_one_sentence_and_exit_code_4(
    migrated_db, real_sources, tmp_path
):
    sources = _supercon(real_sources, tmp_path / "sources")
    ingest_into(migrated_db, sources, "supercon")
    head_lines(sources / NIMS, sources / NIMS, HEADER)
    (sources / STANEV).write_text((sources / STANEV).read_text() + "Nb3Sn,18.1\n")
    env = {"TCDB_SOURCES": str(sources), "TCDB_CURATED": str(tmp_path / "curated")}

    result = invoke_tcdb("--db", str(migrated_db), "ingest", "supercon", env=env)
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr and "KeyError" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: Refused nims_supercon: nothing of it was written and the other sources were "
        "ingested; the reason is printed above."
    ]
    assert "would retire 30 of 30 active records" in result.stdout
    assert "stanev_supercon        1 new" in result.stdout
    assert query(
        migrated_db, "SELECT count(*) FROM raw_nims_supercon WHERE retired_run_id IS NULL"
    )[0] == (30,)

    accepted = invoke_tcdb(
        "--db", str(migrated_db), "ingest", "supercon", "--accept-retirements", env=env
    )
    assert accepted.returncode == 0, accepted.stderr
    assert "30 retired of 0 records" in accepted.stdout


def test_a_header_only_nims_file_on_a_new_database_is_not_a_traceback(
    migrated_db, real_sources, tmp_path
):
    sources = _supercon(real_sources, tmp_path / "sources")
    head_lines(sources / NIMS, sources / NIMS, HEADER)
    env = {"TCDB_SOURCES": str(sources), "TCDB_CURATED": str(tmp_path / "curated")}
    result = invoke_tcdb("--db", str(migrated_db), "ingest", "supercon", env=env)
    assert result.returncode == 0, result.stderr
    assert "0 new, 0 unchanged, 0 rejected, 0 retired of 0 records" in result.stdout


def test_the_ingest_help_names_the_flag():
    result = invoke_tcdb("ingest", "all", "--help")
    assert "--accept-retirements" in result.stdout
