"""Temporary files and folders named after the process that made them.

Why: a command killed with ``kill -9`` cannot clean up, so what it was writing beside a file
(a trial copy of the database, the next version of a curated CSV) stays. A name that carries
the writer's pid (``<prefix><pid>-<random><suffix>``) lets the next command tell what a dead
process left from what a live one is still using, and remove only the former. A name with the
prefix but no pid was made before names carried one: no process of this code uses it.

A pid can be reused; a leftover whose pid now belongs to another live process stays until
that process ends, which errs on the side of keeping.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_OWNER = re.compile(r"(\d+)-")


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (one owned by another user counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def owned_prefix(prefix: str) -> str:
    """``prefix`` followed by this process's id and a dash, for ``tempfile`` names."""
    return f"{prefix}{os.getpid()}-"


@dataclass(frozen=True)
class Temporary:
    """A temporary file or folder found beside the file it belongs to, and who owns it."""

    path: Path
    owner: int | None  # None: the name records no process
    alive: bool
    size: int

    def describe(self) -> str:
        who = "no process recorded" if self.owner is None else f"process {self.owner}"
        state = "still running" if self.alive else "gone"
        return f"{self.path} ({self.size:,} bytes; {who}, {state})"


def _size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder; links are not followed."""
    try:
        if path.is_symlink() or not path.is_dir():
            return path.lstat().st_size
        return sum(
            (Path(folder) / name).lstat().st_size
            for folder, _, names in os.walk(path)
            for name in names
        )
    except OSError:
        return 0


def temporaries(folder: Path, prefix: str, suffix: str = "") -> list[Temporary]:
    """Every entry of ``folder`` named ``prefix…suffix``, with its owner and whether it lives."""
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        match = _OWNER.match(name, len(prefix))
        owner = int(match.group(1)) if match else None
        alive = owner is not None and process_alive(owner)
        found.append(Temporary(entry, owner, alive, _size(entry)))
    return found


def _delete(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def remove_leftovers(folder: Path, prefix: str, suffix: str = "") -> list[Temporary]:
    """Delete what dead processes (or ones that recorded none) left under ``prefix…suffix``
    in ``folder``; a link is removed, never followed. What was removed, logged each."""
    removed = []
    for temporary in temporaries(folder, prefix, suffix):
        if temporary.alive:
            continue
        try:
            _delete(temporary.path)
        except OSError as exc:
            log.warning("%s was left by a process that ended; cannot remove it (%s)",
                        temporary.path, exc)  # fmt: skip
            continue
        log.info("Removed %s, left by a process that ended", temporary.describe())
        removed.append(temporary)
    return removed
