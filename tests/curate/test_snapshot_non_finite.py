"""A snapshot never holds a NaN or infinite label, even from rows ingested before validation."""

from __future__ import annotations

import math

from tcdb.curate.parameters import SnapshotParameters
from tcdb.curate.snapshots import create_snapshot
from tcdb.schema.database import connect
from tests.conftest import query


def test_the_hydrides_snapshot_leaves_out_non_finite_values_with_a_ledger_entry(
    curated_db, tmp_path
):
    conn = connect(curated_db)
    try:
        nan_id, inf_id = (
            row[0]
            for row in conn.execute(
                "SELECT e.id FROM literature_entry e JOIN material m ON m.id = e.material_id "
                "WHERE e.status = 'active' AND m.hydride_host IS NOT NULL "
                "AND e.method = 'dft_harmonic' AND NOT e.excluded_from_training "
                "AND e.pressure_GPa IS NOT NULL AND e.tc_K IS NOT NULL ORDER BY e.id LIMIT 2"
            ).fetchall()
        )
        # What an older ingest let through: the attack rows as the database holds them.
        conn.execute("UPDATE literature_entry SET tc_K = 'nan'::DOUBLE WHERE id = ?", [nan_id])
        conn.execute(
            "UPDATE literature_entry SET pressure_GPa = 'inf'::DOUBLE WHERE id = ?", [inf_id]
        )
        snapshot = create_snapshot(
            conn, "attack", SnapshotParameters(kind="hydrides"), tmp_path / "snapshots"
        )
    finally:
        conn.close()
    entries = snapshot.table("entries.parquet")
    assert len(entries) > 50
    assert all(math.isfinite(v) for v in entries["tc_K"])
    assert all(math.isfinite(v) for v in entries["pressure_GPa"])
    assert not {nan_id, inf_id} & set(entries["literature_entry_id"])
    ledger = query(
        curated_db,
        "SELECT subject_id, action FROM curation_ledger WHERE stage = 'snapshot' ORDER BY 1",
    )
    assert ledger == sorted([(nan_id, "exclude"), (inf_id, "exclude")])
