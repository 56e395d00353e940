"""``tcdb curate add-entry`` killed with ``kill -9`` left ``.literature_entries.csv.*.tmp``
beside the curated CSV, which nothing removed. Temporary files now carry the writer's pid: the
next add-entry or deprecate removes those whose process is gone, never a live one's, and none is
read as data."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys

from tcdb.ingest.hand_entries import add_entries, deprecate
from tcdb.schema.database import connect
from tests.commands import REPO
from tests.conftest import query

LAH10 = {"formula": "LaH10", "tc_K": "230", "pressure_GPa": "138", "space_group": "Fm-3m",
         "method": "experiment", "reference": "Drozdov et al., Nature 569, 528 (2019)",
         "doi": "10.1038/s41586-019-1201-8"}  # fmt: skip

# Stages the next entries file (with a row) and a CIF as add-entry does, then is killed.
_KILLED_WHILE_STAGING = """
import os, signal, sys
from pathlib import Path
from tcdb.ingest import hand_entries

curated = Path(sys.argv[1])
entries = curated / hand_entries.ENTRIES_FILE
hand_entries._stage(entries, entries.read_bytes(), "XeH99,,,,1,1,,,,experiment,x,,,,,\\n")
cif = curated / hand_entries.STRUCTURES_DIR / "1GPa_P1_XeH99.cif"
hand_entries._write_temporary(cif, b"data_half", hand_entries.NEW_CIF_PREFIX)
os.kill(os.getpid(), signal.SIGKILL)
"""


def _hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_temporaries_a_killed_command_left_are_removed_by_the_next_one(curated_db, tmp_path):
    curated = tmp_path / "curated"
    with connect(curated_db) as conn:
        [entry] = add_entries(conn, curated, tmp_path, [LAH10])
    entries = curated / "literature_entries.csv"
    before = entries.read_bytes()
    killed = subprocess.run([sys.executable, "-c", _KILLED_WHILE_STAGING, str(curated)],
                            cwd=REPO, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (stale,) = _hidden(curated)
    assert stale.startswith(".literature_entries.csv.") and stale.endswith(".tmp")
    assert b"XeH99" in (curated / stale).read_bytes()
    (stale_cif,) = _hidden(curated / "structures")
    assert stale_cif.startswith(".new-cif.")
    legacy = curated / ".literature_entries.csv.k2j4x8q1.tmp"  # named before names had a pid
    legacy.write_text("formula\n")
    live = curated / f".deprecations.csv.{os.getpid()}-abcdefgh.tmp"  # a live writer's
    live.write_text("id\n")

    with connect(curated_db) as conn:
        deprecate(conn, curated, entry.id, "double-counted")
    assert _hidden(curated) == [live.name]
    assert _hidden(curated / "structures") == []
    assert entries.read_bytes() == before  # the staged row never landed
    assert query(curated_db, "SELECT count(*) FROM literature_entry WHERE formula = 'XeH99'") == [
        (0,)
    ]
    with connect(curated_db) as conn:
        add_entries(conn, curated, tmp_path, [LAH10 | {"pressure_GPa": "120"}])
    with open(entries, newline="") as handle:
        assert [r["pressure_GPa"] for r in csv.DictReader(handle)] == ["138", "120"]
    assert _hidden(curated) == [live.name]
