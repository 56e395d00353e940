"""Worker processes end with their parent, even when the parent is killed with SIGKILL.

The attack: ``kill -9`` of ``tcdb ingest materials-project`` left the fork server, its workers
and the resource tracker running (about 80 MB each) for as long as the machine stayed up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tcdb.core.structures import resolve_workers
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="reads the process tree from /proc"
)


def _children(pid: int) -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:  # the task ended while being read
            continue
    return children


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()) - found:
            found.add(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_for_workers(parent: subprocess.Popen, n: int, timeout_s: float) -> set[int]:
    """The parent's descendants once ``n`` pool workers (not the resource tracker) exist."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert parent.poll() is None, "the ingest ended before its workers were seen"
        found = _descendants(parent.pid)
        workers = [
            pid
            for pid in found
            if "multiprocessing" in _cmdline(pid) and "resource_tracker" not in _cmdline(pid)
        ]
        if len(workers) >= n:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no {n} worker processes within {timeout_s} s")


@pytest.mark.skipif(resolve_workers(None) < 2, reason="one core: CIFs are parsed in-process")
def test_kill_9_of_an_ingest_leaves_no_process_behind(real_sources, migrated_db):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    env.pop("MP_API_KEY", None)  # the offline mirror: its 4,266 CIFs go to a process pool
    command = [sys.executable, "-m", "tcdb.cli", "--db", str(migrated_db)]
    command += ["--sources", str(real_sources), "ingest", "materials-project"]
    ingest = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        descendants = _wait_for_workers(ingest, resolve_workers(None), timeout_s=90)
    finally:
        ingest.send_signal(signal.SIGKILL)
        ingest.wait()
    deadline = time.monotonic() + 10
    while (alive := {pid for pid in descendants if _running(pid)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in alive:  # do not leave them running even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"still running 10 s after kill -9: {[_cmdline(p)[:80] for p in alive]}"


WATCHED = """
import os, sys, time
{disable}
from tcdb.core import workers
workers._watch_owner(int(sys.argv[1]))
print("watching", flush=True)
time.sleep(120)
"""

OWNER = """
import subprocess, sys, time
watched = subprocess.Popen([sys.executable, "-c", sys.argv[1], str(__import__("os").getpid())],
                           stdout=subprocess.PIPE, text=True)
assert watched.stdout.readline().strip() == "watching"
print(watched.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "polling"])
def test_a_watched_process_ends_when_its_owner_is_killed(pidfd):
    """The watchdog alone (no parent-death signal), as in a fork server's worker."""
    disable = "" if pidfd else "del os.pidfd_open  # as on a system without pidfds"
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, WATCHED.format(disable=disable)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        watched = int(owner.stdout.readline())
        assert _running(watched)
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    deadline = time.monotonic() + 5
    while _running(watched) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _running(watched):
        os.kill(watched, signal.SIGKILL)
        pytest.fail("the watched process outlived its owner by 5 s")
