"""A migration killed with ``kill -9`` during its trial run left a hidden copy of the whole
database beside it that nothing listed or removed. The copy's folder now carries the migrating
process's pid: ``tcdb db status`` lists it and the next migration removes it once that process
is gone, never a live migration's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tcdb.schema import migrate
from tests.commands import REPO, invoke_tcdb

# Runs the real downgrade, and is killed with SIGKILL as soon as the trial copy is written.
_KILLED_IN_THE_TRIAL = """
import os, shutil, signal, sys
from tcdb.schema import migrate

def copy_then_die(source, target):
    shutil.copyfile(source, target)
    os.kill(os.getpid(), signal.SIGKILL)

migrate.shutil = type("Shutil", (), {"copy2": staticmethod(copy_then_die)})
migrate.downgrade(sys.argv[1], "-1")
"""


def test_a_trial_copy_left_by_a_killed_migration_is_listed_then_removed(migrated_db):
    killed = subprocess.Popen([sys.executable, "-c", _KILLED_IN_THE_TRIAL, str(migrated_db)],
                              cwd=REPO, stderr=subprocess.PIPE, text=True)  # fmt: skip
    _, stderr = killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL, stderr
    (left,) = migrate.trial_copies(migrated_db)
    assert (left.owner, left.alive) == (killed.pid, False)
    assert (left.path / migrated_db.name).stat().st_size == migrated_db.stat().st_size
    legacy = migrated_db.parent / f".{migrated_db.name}.dry-run-k2j4x8q1"  # the earlier name
    legacy.mkdir()
    (legacy / migrated_db.name).write_bytes(b"\0" * 4096)
    live = migrated_db.parent / f".{migrated_db.name}.trial-{os.getpid()}-abcdefgh"
    live.mkdir()  # a migration still running in a live process

    status = invoke_tcdb("--db", str(migrated_db), "db", "status")
    assert status.returncode == 0, status.stderr
    assert "trial copies  3" in status.stdout
    assert f"{left.path} ({left.size:,} bytes; process {left.owner}, gone)" in status.stdout
    assert f"{live} (0 bytes; process {os.getpid()}, still running)" in status.stdout
    assert f"{legacy} (4,096 bytes; no process recorded, gone)" in status.stdout

    upgraded = invoke_tcdb("--db", str(migrated_db), "db", "upgrade")  # at head: nothing else
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"removed the trial copy a killed migration left: {left.path}" in upgraded.stdout
    assert not left.path.exists() and not legacy.exists()
    assert live.is_dir()
    assert [t.path for t in migrate.trial_copies(migrated_db)] == [live]
    assert migrate.status(migrated_db).pending == []  # the killed downgrade changed nothing


def test_a_migration_leaves_no_trial_copy_or_partial_backup_behind(migrated_db):
    migrate.downgrade(migrated_db, "-1")
    migrate.upgrade(migrated_db)
    names = sorted(p.name for p in migrated_db.parent.iterdir())
    assert [n for n in names if n.startswith(".")] == []
    assert len(migrate.backups(migrated_db)) == 2
