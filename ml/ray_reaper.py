"""Ray's processes end with the command that started them, even after ``kill -9``.

Why: ``ray.init()`` without an address starts a one-node cluster for the command. Its GCS
server and raylet die with the command (Ray binds them to it), but the raylet's two agents (the
dashboard agent and the runtime-environment agent) first notice their raylet is gone and then
try for 60 s to report it to a GCS server that is gone too: measured, they outlived a
``kill -9`` of the command by 61-63 s. So once Ray is up the command starts a reaper: a small
process in a session of its own (a ``kill -9`` of the command's process group does not reach
it) that holds a pidfd of the command and of every process Ray started for it, adds the
workers and actors the raylet starts later, and when the command ends kills those still
there. A command that ends normally shuts Ray down and stops its reaper itself.

Linux only (``/proc`` and pidfds); elsewhere no reaper is started and Ray's own clean-up is
all there is. Run as ``python -m tcdb.ml.ray_reaper OWNER_PID PID...``.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

REAPER_INTERVAL_S = 1.0
"""How often the reaper adds the processes Ray started since (workers, actors)."""
REAPER_STOP_S = 5.0
"""How long a command waits for its reaper to end once told to."""

PROC = Path("/proc")


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "pidfd_open") and PROC.is_dir()


def _parent(pid: int) -> int | None:
    """The parent of ``pid`` from ``/proc/<pid>/stat`` (None once it has ended)."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return int(text[text.rindex(")") + 2 :].split()[1])  # after "(comm) state "


def descendants(roots: Iterable[int]) -> set[int]:
    """Every live process below ``roots`` (children, their children, …)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            parent = _parent(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def start_reaper(pids: Iterable[int]) -> subprocess.Popen | None:
    """A reaper for ``pids`` (what Ray started for this command), or None where there is
    nothing to reap or no way to."""
    pids = sorted(pids)
    if not pids or not supported():
        return None
    command = [sys.executable, "-m", "tcdb.ml.ray_reaper", str(os.getpid()), *map(str, pids)]
    reaper = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True,
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    log.debug("reaper %d watches %d Ray processes", reaper.pid, len(pids))
    return reaper


def stop_reaper(reaper: subprocess.Popen | None) -> None:
    """End a reaper whose command shut Ray down itself."""
    if reaper is None:
        return
    reaper.terminate()
    try:
        reaper.wait(REAPER_STOP_S)
    except subprocess.TimeoutExpired:
        reaper.kill()
        reaper.wait()


class _Targets:
    """The processes to kill, each held by a pidfd so that a reused pid is never hit."""

    def __init__(self) -> None:
        self.handles: dict[int, int] = {}

    def add(self, pids: Iterable[int]) -> None:
        for pid in pids:
            if pid not in self.handles:
                try:
                    self.handles[pid] = os.pidfd_open(pid)
                except OSError:  # ended already
                    continue

    def kill_all(self) -> int:
        killed = 0
        for handle in self.handles.values():
            try:
                signal.pidfd_send_signal(handle, signal.SIGKILL)
                killed += 1
            except OSError:  # ended by itself
                continue
        return killed


def reap(owner: int, pids: Iterable[int]) -> int:
    """Wait for ``owner`` to end, then kill every one of ``pids`` and of the processes they
    started meanwhile; the number killed."""
    try:
        watched = os.pidfd_open(owner)
    except OSError:
        watched = None  # the owner ended before the reaper started
    targets = _Targets()
    targets.add(pids)
    while watched is not None:
        ended, _, _ = select.select([watched], [], [], REAPER_INTERVAL_S)
        if ended:
            break
        targets.add(descendants(targets.handles))
    return targets.kill_all()


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # the command shut Ray down itself
    owner, *pids = (int(word) for word in argv)
    reap(owner, pids)


if __name__ == "__main__":
    main(sys.argv[1:])
