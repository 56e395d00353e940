"""The curate and snapshot commands as a user runs them."""

from __future__ import annotations

import pytest

from tests.commands import invoke_tcdb


def tcdb(db, tmp_path, *args):
    return invoke_tcdb("--db", str(db), *args, env={"TCDB_CURATED": str(tmp_path / "curated")})


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


# ---- every bad argument is one sentence naming it, never a traceback

ADD_LAH10 = ("curate", "add-entry", "--formula", "LaH10", "--tc", "230", "--pressure", "138",
             "--method", "experiment", "--reference", "x")  # fmt: skip


def _set(args: tuple, option: str, value: str) -> tuple:
    items = list(args)
    if option in items:
        items[items.index(option) + 1] = value
    else:
        items += [option, value]
    return tuple(items)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--tc", ".", "T_c (--tc, column tc_K) '.' is not a number"),
        ("--pressure", "1.2.3", "pressure (--pressure, column pressure_GPa) '1.2.3' is not"),
        ("--cif", "/nonexistent/x.cif", "--cif /nonexistent/x.cif: the file does not exist"),
        ("--cif", "BINARY", "the file is binary, not text"),
        ("--from-file", "/nonexistent/entries.csv", "--from-file /nonexistent/entries.csv: the"),
    ],
)
def test_add_entry_argument_errors_name_the_argument(curated_db, tmp_path, option, value, message):
    if value == "BINARY":
        value = str(tmp_path / "structure.cif")
        (tmp_path / "structure.cif").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    result = tcdb(curated_db, tmp_path, *_set(ADD_LAH10, option, value))
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "curated" / "literature_entries.csv").exists()


def test_the_readme_add_entry_example_is_refused_naming_drozdovs_entry(curated_db, tmp_path):
    """What README.md shows, run as a user would: refused, naming the entry already there."""
    result = tcdb(
        curated_db, tmp_path, "curate", "add-entry", "--formula", "LaH10", "--tc", "250 K",
        "--pressure", "170 GPa", "--space-group", "Fm-3m", "--method", "experiment",
        "--reference", "Drozdov A.P. et al., Nature 569, 528 (2019)",
        "--doi", "10.1038/s41586-019-1201-8",
    )  # fmt: skip
    assert result.returncode == 1
    assert "duplicate of existing entry lit-" in result.stderr and "Drozdov" in result.stderr
    assert not (tmp_path / "curated" / "literature_entries.csv").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("curate", "groups", "--limit", "-5"),
        ("curate", "match", "--unmatched", "-1"),
        ("screen", "hydrides", "--top", "-1"),
        ("snapshot", "create", "--name", "x", "--kind", "hydrides", "--variance-cutoff", "-1"),
        ("snapshot", "create", "--name", "x", "--kind", "hydrides", "--variance-cutoff", "nan"),
    ],
)
def test_negative_counts_and_cutoffs_are_refused_naming_the_option(curated_db, tmp_path, args):
    result = tcdb(curated_db, tmp_path, *args)
    assert result.returncode == 2
    assert args[-2] in result.stderr and "Traceback" not in result.stderr


def test_a_manifest_that_is_not_json_is_damaged_in_the_list_and_a_sentence_on_verify(
    curated_db, tmp_path
):
    for name in ("a", "b"):
        flagged = ("--include-flagged",) if name == "b" else ()
        made = tcdb(curated_db, tmp_path, "snapshot", "create", "--name", name,
                    "--kind", "hydrides", *flagged)  # fmt: skip
        assert made.returncode == 0, made.stderr
    snapshots = curated_db.parent / "snapshots"
    broken = sorted(p for p in snapshots.iterdir() if p.is_dir())[0]
    (broken / "manifest.json").write_text("{ this is not json")
    listed = tcdb(curated_db, tmp_path, "snapshot", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"{broken.name}  damaged: " in listed.stdout and "is not JSON" in listed.stdout
    assert listed.stdout.count("hydrides") == 1  # the other one is still listed
    verify = tcdb(curated_db, tmp_path, "snapshot", "verify", broken.name)
    assert verify.returncode == 1 and "is not JSON" in verify.stderr
    assert "Traceback" not in verify.stderr + listed.stderr


def test_an_edited_manifest_name_is_refused_by_verify_and_by_training(curated_db, tmp_path):
    made = tcdb(curated_db, tmp_path, "snapshot", "create", "--name", "h", "--kind", "hydrides")
    snapshot_id = made.stdout.split()[1]
    path = curated_db.parent / "snapshots" / snapshot_id / "manifest.json"
    path.write_text(path.read_text().replace('"name": "h"', '"name": "final-results"'))
    verify = tcdb(curated_db, tmp_path, "snapshot", "verify", snapshot_id)
    assert verify.returncode == 1 and "the manifest was edited" in verify.stderr
    train = tcdb(curated_db, tmp_path, "train", "hydride-mlp", "--snapshot", snapshot_id,
                 "--profile", "smoke")  # fmt: skip
    assert train.returncode == 1 and "cannot be used" in train.stderr
    assert not (curated_db.parent / "runs").exists()


def test_training_on_an_empty_snapshot_is_one_sentence_and_makes_no_run_folder(
    curated_db, tmp_path
):
    from tcdb.curate.parameters import SnapshotParameters
    from tcdb.curate.snapshots import create_snapshot
    from tcdb.schema.database import connect

    conn = connect(curated_db)
    try:
        empty = create_snapshot(
            conn, "empty", SnapshotParameters(kind="hydrides", literature_methods=()),
            curated_db.parent / "snapshots",
        )  # fmt: skip
    finally:
        conn.close()
    train = tcdb(curated_db, tmp_path, "train", "hydride-mlp", "--snapshot", empty.id,
                 "--profile", "smoke")  # fmt: skip
    assert train.returncode == 1 and "holds 0 entries" in train.stderr
    assert "Traceback" not in train.stderr
    assert not (curated_db.parent / "runs").exists()
