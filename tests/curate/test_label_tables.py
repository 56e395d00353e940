"""Labels from every SuperCon table: groups per table, a snapshot's precedence of tables, the
'not superconducting' rule within and across tables, and the table each label names."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tcdb.curate.groups import group_by_table, groups_by_precedence, label_groups
from tcdb.curate.parameters import SnapshotParameters, label_tables_of
from tcdb.curate.run import run_curation
from tcdb.curate.snapshots import create_snapshot
from tcdb.schema import migrate
from tcdb.schema.database import connect
from tcdb.store.snapshots import SnapshotError
from tests.commands import invoke_tcdb
from tests.conftest import ingest_into, migrated_copy, query
from tests.ingest.slices import LITERATURE, MP_TAR, NIMS, STANEV, STRUCTURES, head_lines, tar_slice

NIMS_ID, STANEV_ID = "nims_supercon", "stanev_supercon"


def measurements(*rows):
    return pd.DataFrame(rows, columns=["source_id", "material_id", "tc_kind", "tc_K"])


# ---- pure functions


def test_each_table_is_grouped_apart():
    groups = group_by_table(
        measurements(
            (NIMS_ID, "a", "value", 10.0), (NIMS_ID, "a", "value", 12.0),
            (STANEV_ID, "a", "value", 30.0), (STANEV_ID, "b", "value", 5.0),
        )
    )  # fmt: skip
    by_key = groups.set_index(["label_table", "material_id"])
    assert sorted(by_key.index) == [(NIMS_ID, "a"), (STANEV_ID, "a"), (STANEV_ID, "b")]
    assert by_key.loc[(NIMS_ID, "a"), "tc_mean_K"] == 11.0  # not pooled with Stanev's 30 K
    assert by_key.loc[(STANEV_ID, "a"), "tc_mean_K"] == 30.0


def test_within_a_table_not_superconducting_is_never_averaged():
    groups = group_by_table(
        measurements((STANEV_ID, "a", "value", 8.0), (STANEV_ID, "a", "not_superconducting", None))
    )
    [label] = label_groups(groups, 2.0, "keep-all")["label_tc_K"]
    assert label == 8.0
    assert groups.iloc[0].n_not_superconducting == 1


@pytest.fixture
def conflicting():
    """'a': NIMS a T_c, Stanev only 'not superconducting'; 'b': both a T_c; 'c': Stanev only."""
    return group_by_table(
        measurements(
            (NIMS_ID, "a", "value", 4.0), (STANEV_ID, "a", "not_superconducting", None),
            (NIMS_ID, "b", "value", 10.0), (STANEV_ID, "b", "value", 20.0),
            (STANEV_ID, "c", "value", 6.0),
        )
    )  # fmt: skip


def labels_under(groups, precedence):
    kept, conflicts = groups_by_precedence(groups, precedence)
    labels = label_groups(kept, 2.0, "average").set_index("material_id")
    return labels, conflicts


def test_the_first_table_with_a_record_decides(conflicting):
    labels, conflicts = labels_under(conflicting, (NIMS_ID, STANEV_ID))
    assert labels["label_tc_K"].to_dict() == {"a": 4.0, "b": 10.0, "c": 6.0}
    assert labels["label_table"].to_dict() == {"a": NIMS_ID, "b": NIMS_ID, "c": STANEV_ID}
    assert conflicts.empty


def test_not_superconducting_first_leaves_no_label_and_is_counted(conflicting):
    labels, conflicts = labels_under(conflicting, (STANEV_ID, NIMS_ID))
    assert "a" not in labels.index  # NIMS's 4 K is not used, nor averaged with anything
    assert labels["label_tc_K"].to_dict() == {"b": 20.0, "c": 6.0}
    assert conflicts[["material_id", "label_table", "overruled_table"]].values.tolist() == [
        ["a", STANEV_ID, NIMS_ID]
    ]


def test_a_table_outside_the_precedence_labels_nothing(conflicting):
    labels, _ = labels_under(conflicting, (NIMS_ID,))
    assert set(labels.index) == {"a", "b"}
    assert set(labels["label_table"]) == {NIMS_ID}


@pytest.mark.parametrize(
    ("names", "tables"),
    [
        ("nims", (NIMS_ID,)),
        ("stanev", (STANEV_ID,)),
        ("stanev,nims", (STANEV_ID, NIMS_ID)),
        (" nims , stanev_supercon ", (NIMS_ID, STANEV_ID)),
    ],
)
def test_short_names_map_to_source_ids(names, tables):
    assert label_tables_of(names) == tables


@pytest.mark.parametrize("names", ["hamidieh", "nims,nims", "", "nims,stanev_supercon,stanev"])
def test_a_wrong_table_list_is_refused(names):
    with pytest.raises(ValueError, match="label table"):
        label_tables_of(names)
    with pytest.raises(ValueError):
        SnapshotParameters(kind="structures", label_tables=tuple(names.split(",")))


# ---- a real database: the first rows of the real tables, six Materials Project structures and
# rows naming their compositions (AgB2, Th4AgPd, AgSnTe2, Be2Ag, Ag11Hg9, Ba2Si3Ag)

NIMS_ROWS = [
    "900001\tAgB2\tAg1B2\t-\tK\t5\tx",
    "900002\tAgB2\tAg1B2\t-\tK\t7\tx",
    "900003\tTh4AgPd\tTh4Ag1Pd1\t-\tK\t2\tx",
    "900004\tBe2Ag\tBe2Ag1\t-\tK\t0\tx",  # NIMS: not superconducting; Stanev: 3 K
    "900005\tAg11Hg9\tAg11Hg9\t-\tK\t4\tx",  # NIMS: 4 K; Stanev: not superconducting
    "900006\tAgSnTe2\tAg1Sn1Te2\t-\tK\t1\tx",
    "900007\tAgSnTe2\tAg1Sn1Te2\t-\tK\t0\tx",
]
STANEV_ROWS = ["Ag1B2,9", "Ag11Hg9,0", "Be2Ag1,3", "Ba2Ag1Si3,6"]


@pytest.fixture(scope="module")
def labelled_template(real_sources, migrated_template, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("labels") / "sources"
    head_lines(real_sources / NIMS, folder / NIMS, 3 + 60, NIMS_ROWS)
    head_lines(real_sources / STANEV, folder / STANEV, 1 + 60, STANEV_ROWS)
    tar_slice(real_sources / MP_TAR, folder / MP_TAR, 6)
    (folder / LITERATURE).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(real_sources / LITERATURE, folder / LITERATURE)
    shutil.copytree(real_sources / STRUCTURES, folder / STRUCTURES)
    shutil.copytree(real_sources / "reference", folder / "reference")
    db = migrated_copy(migrated_template, folder.parent / "tcdb.duckdb")
    ingest_into(db, folder, "all")
    conn = connect(db)
    try:
        run_curation(conn)
    finally:
        conn.close()
    return db


@pytest.fixture
def labelled_db(labelled_template, tmp_path):
    db = tmp_path / "tcdb.duckdb"
    shutil.copy(labelled_template, db)
    return db


def freeze(db, root, tables, **params):
    conn = connect(db)
    try:
        return create_snapshot(
            conn, "s", SnapshotParameters(kind="structures", label_tables=tables, **params), root
        )
    finally:
        conn.close()


def test_curation_writes_one_group_per_table_and_material(labelled_db):
    rows = query(
        labelled_db,
        "SELECT label_table, count(*), count(DISTINCT material_id), count(DISTINCT id) "
        "FROM composition_group GROUP BY label_table ORDER BY label_table",
    )
    assert [r[0] for r in rows] == [NIMS_ID, STANEV_ID]
    assert all(n == materials == ids for _, n, materials, ids in rows)
    [(both,)] = query(
        labelled_db,
        "SELECT count(*) FROM (SELECT material_id FROM composition_group "
        "GROUP BY material_id HAVING count(*) = 2)",
    )
    assert both >= 3  # AgB2, Be2Ag, Ag11Hg9


def test_matching_covers_the_compositions_of_every_table(labelled_db):
    matched = {
        formula
        for (formula,) in query(
            labelled_db,
            "SELECT DISTINCT m.reduced_formula FROM structure_match s "
            "JOIN material m ON m.id = s.material_id WHERE s.method = 'exact_reduced'",
        )
    }
    assert "Ba2Si3Ag" in matched  # only Stanev's table names it
    assert {"AgB2", "Th4AgPd"} <= matched


def labels_of(snapshot) -> dict[str, tuple[float, str]]:
    entries = snapshot.entries
    supercon = entries[entries["origin"] == "supercon"]
    return {
        r.reduced_formula: (r.label_tc_K, r.label_table) for r in supercon.itertuples(index=False)
    }


def test_each_label_names_its_table(labelled_db, tmp_path):
    snapshot = freeze(labelled_db, tmp_path, (STANEV_ID, NIMS_ID))
    labels = labels_of(snapshot)
    assert labels["AgB2"] == (9.0, STANEV_ID)
    assert labels["Th4AgPd"] == (2.0, NIMS_ID)  # Stanev has no record of it
    for frame in (snapshot.entries, snapshot.structures):
        literature = frame[frame["origin"] == "literature"]
        assert len(literature) and set(literature["label_table"]) == {"literature"}
        assert frame["label_table"].notna().all()
    structures = snapshot.structures.set_index("reduced_formula")
    assert structures.loc["AgB2", "label_table"] == STANEV_ID
    made = snapshot.manifest["notes"]["label_tables"]
    assert made[STANEV_ID]["structures"] == structures["label_table"].eq(STANEV_ID).sum()
    assert list(snapshot.manifest["parameters"]["label_tables"]) == [STANEV_ID, NIMS_ID]


def test_precedence_follows_the_order_given(labelled_db, tmp_path):
    nims_first = labels_of(freeze(labelled_db, tmp_path / "a", (NIMS_ID, STANEV_ID)))
    stanev_first = labels_of(freeze(labelled_db, tmp_path / "b", (STANEV_ID, NIMS_ID)))
    assert nims_first["AgB2"] == (6.0, NIMS_ID)  # the mean of NIMS's 5 and 7 K
    assert nims_first["Ba2Si3Ag"] == (6.0, STANEV_ID)
    assert "Be2Ag" not in nims_first and stanev_first["Be2Ag"] == (3.0, STANEV_ID)
    assert "Ag11Hg9" not in stanev_first and nims_first["Ag11Hg9"] == (4.0, NIMS_ID)
    assert nims_first["AgSnTe2"] == (1.0, NIMS_ID)  # NIMS's 0 is not averaged with its 1 K


def test_a_conflict_is_counted_and_goes_to_the_ledger(labelled_db, tmp_path):
    snapshot = freeze(labelled_db, tmp_path, (STANEV_ID, NIMS_ID))
    assert snapshot.manifest["notes"]["precedence_conflicts"] >= 1
    reasons = [
        r[0]
        for r in query(
            labelled_db,
            "SELECT l.reason FROM curation_ledger l JOIN material m ON m.id = l.subject_id "
            "WHERE l.stage = 'snapshot' AND m.reduced_formula = 'Ag11Hg9'",
        )
    ]
    assert len(reasons) == 1
    assert "stanev_supercon says only 'not superconducting'" in reasons[0]
    assert NIMS_ID in reasons[0]


def test_the_default_labels_from_nims_only(labelled_db, tmp_path):
    conn = connect(labelled_db)
    try:
        snapshot = create_snapshot(conn, "d", SnapshotParameters(kind="structures"), tmp_path)
    finally:
        conn.close()
    labels = labels_of(snapshot)
    assert {table for _, table in labels.values()} == {NIMS_ID}
    assert "Ba2Si3Ag" not in labels


def test_a_table_the_curation_run_did_not_group_is_refused(labelled_db, tmp_path):
    with duckdb.connect(str(labelled_db)) as conn:
        conn.execute("DELETE FROM composition_group WHERE label_table = 'stanev_supercon'")
    with pytest.raises(SnapshotError, match="no composition groups of stanev_supercon"):
        freeze(labelled_db, tmp_path, (STANEV_ID, NIMS_ID))


# ---- the command line


def tcdb(db, tmp_path, *args):
    return invoke_tcdb("--db", str(db), *args, env={"TCDB_CURATED": str(tmp_path / "curated")})


def test_snapshot_create_prints_what_each_table_labels(labelled_db, tmp_path):
    result = tcdb(labelled_db, tmp_path, "snapshot", "create", "--name", "s",
                  "--kind", "structures", "--labels", "stanev,nims")  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert {STANEV_ID, NIMS_ID, "literature"} <= set(lines)
    assert "compositions" in lines[STANEV_ID] and "exact_reduced" in lines[STANEV_ID]
    assert "not superconducting" in result.stdout  # the Ag11Hg9 conflict


@pytest.mark.parametrize("labels", ["hamidieh", "nims,nims", "nims;stanev"])
def test_a_wrong_labels_option_names_the_choices(labelled_db, tmp_path, labels):
    result = tcdb(labelled_db, tmp_path, "snapshot", "create", "--name", "s",
                  "--kind", "structures", "--labels", labels)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: --labels {labels}:")
    assert "Traceback" not in result.stderr
    if labels != "nims,nims":
        assert "nims, stanev" in result.stderr


def test_curate_run_prints_counts_per_table(labelled_db, tmp_path):
    result = tcdb(labelled_db, tmp_path, "curate", "run", "--force")
    assert result.returncode == 0, result.stderr
    per_table = [line for line in result.stdout.splitlines() if "composition groups" in line]
    assert [line.split(":")[0].strip() for line in per_table] == [NIMS_ID, STANEV_ID]


# ---- an existing database file


def test_upgrading_a_file_marks_its_groups_as_nims(db_path):
    migrate.upgrade(db_path, "0005")
    with duckdb.connect(str(db_path)) as conn:
        conn.execute(
            "INSERT INTO composition_group (id, curation_run_id, material_id, n_measurements, "
            "n_values, n_not_superconducting, high_variance, created_at) "
            "VALUES ('g1', 'r1', 'm1', 1, 1, 0, false, now())"
        )
    migrate.upgrade(db_path)
    assert query(db_path, "SELECT id, label_table FROM composition_group") == [("g1", NIMS_ID)]
    [(nullable,)] = query(
        db_path,
        "SELECT is_nullable FROM information_schema.columns "
        "WHERE table_name = 'composition_group' AND column_name = 'label_table'",
    )
    assert nullable == "NO"
