"""A literature row's structure_file must stay inside the structures folder beside its CSV.

The attacks: ``..`` climbing out, an absolute path (to a system file, and to a real CIF that
the basename link would otherwise pick up), and symbolic links leading out of the folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tcdb.ingest.hand_entries import EntryError, add_entries
from tcdb.schema.database import connect
from tests.conftest import ingest_into, query
from tests.ingest.slices import LITERATURE, STRUCTURES
from tests.ingest.test_validation import LAH10, literature_row, write_csv

CIF = "100GPa_P-1_LaH5.cif"


@pytest.fixture
def sources(real_sources, tmp_path) -> Path:
    """A literature folder with one real CIF and no CSV yet."""
    folder = tmp_path / "sources"
    (folder / STRUCTURES).mkdir(parents=True)
    shutil.copy(real_sources / STRUCTURES / CIF, folder / STRUCTURES / CIF)
    return folder


def _codes(db, source: str) -> dict[str, str]:
    rows = query(
        db,
        "SELECT record_ref, reason_code FROM ingest_rejection WHERE source_id = ?",
        source,
    )
    return dict(rows)


def test_escaping_and_absolute_structure_files_are_rejected_naming_the_row(migrated_db, sources):
    rows = [
        literature_row(structure_file="../../../../etc/passwd", space_group="P1"),
        literature_row(structure_file="/etc/passwd", space_group="P2"),
        literature_row(structure_file=str(sources / STRUCTURES / CIF), space_group="P3"),
        literature_row(structure_file=f"structures/../structures/{CIF}", space_group="P4"),
        literature_row(formula="LaH5", structure_file=f"structures/{CIF}", pressure_GPa="100"),
    ]
    write_csv(sources / LITERATURE, rows)
    outcome = ingest_into(migrated_db, sources, "literature")["literature_hydrides"]
    assert (outcome.n_loaded, outcome.n_rejected) == (1, 4)
    assert _codes(migrated_db, "literature_hydrides") == {
        "line 2": "structure_file_outside",
        "line 3": "structure_file_absolute",
        "line 4": "structure_file_absolute",
        "line 5": "structure_file_outside",
    }
    linked = query(migrated_db, "SELECT structure_file, structure_id FROM literature_entry")
    assert linked == [(f"structures/{CIF}", f"literature:{Path(CIF).stem}")]


def test_a_symbolic_link_out_of_the_structures_folder_is_not_followed(
    migrated_db, sources, tmp_path
):
    secret = tmp_path / "secret.cif"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (sources / STRUCTURES / "100GPa_Fm-3m_LaH10.cif").symlink_to(secret)
    write_csv(
        sources / LITERATURE, [literature_row(structure_file="structures/100GPa_Fm-3m_LaH10.cif")]
    )
    outcomes = ingest_into(migrated_db, sources, "literature")
    assert _codes(migrated_db, "literature_hydrides") == {"line 2": "structure_file_outside"}
    assert _codes(migrated_db, "literature_structures") == {
        "100GPa_Fm-3m_LaH10.cif": "outside_folder"
    }
    assert outcomes["literature_structures"].n_loaded == 1
    stored = query(
        migrated_db, "SELECT count(*) FROM ingest_rejection WHERE raw_json LIKE '%root:%'"
    )
    assert stored == [(0,)]


def test_the_curated_entries_follow_the_same_rule(migrated_db, sources, tmp_path):
    curated = tmp_path / "curated"
    write_csv(sources / LITERATURE, [])
    write_csv(
        curated / "literature_entries.csv",
        [literature_row(structure_file="../../../../etc/passwd")],
    )
    outcome = ingest_into(migrated_db, sources, "literature", curated_root=curated)
    assert outcome["curated_entries"].rejection_counts == {"structure_file_outside": 1}


def test_add_entry_from_a_file_refuses_an_escaping_structure_file(migrated_db, sources, tmp_path):
    write_csv(sources / LITERATURE, [])
    conn = connect(migrated_db)
    try:
        with pytest.raises(EntryError, match="not a file directly inside the structures folder"):
            add_entries(
                conn,
                tmp_path / "curated",
                sources,
                [LAH10 | {"structure_file": "../../../../etc/passwd"}],
            )
    finally:
        conn.close()
    assert not (tmp_path / "curated" / "literature_entries.csv").exists()
