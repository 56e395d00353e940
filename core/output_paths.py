"""Where tcdb may write a file or folder a user names (``-o``, ``--out``, ``--output``).

Why: an output path is typed by a user, and a slip or a planted link can name the database
itself, its write-ahead log or a backup, or a file inside a folder tcdb keeps (model runs,
snapshots, screening jobs, caches, evaluations, hand-curated entries, raw sources). Writing
there destroys what nothing else can bring back, so such a path is refused with one sentence
before any work is done. Paths are compared after following links and resolving ``..``; a
hard link to the database or a file beside it is recognised by its device and inode.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from tcdb.core.errors import OutputPathError
from tcdb.core.settings import Settings

log = logging.getLogger(__name__)

# The folder under the database's folder where screening jobs keep their shards
# (``store.screening_jobs.jobs_folder``; a test keeps the two equal).
JOBS_FOLDER = "jobs"


@dataclass(frozen=True)
class ProtectedPaths:
    """The database file and the folders tcdb keeps, none of which an output may touch.

    Every file in the database's folder named ``<database file>`` or ``<database file>.…``
    belongs to the database: DuckDB's ``.wal``, the migrations' ``.backup-…`` copies, and
    whatever else is named after it."""

    database: Path
    folders: tuple[tuple[str, Path], ...]  # (what it is, folder)

    def check_file(self, path: Path, *, make_folder: bool = False) -> Path:
        """The path to write a user-named output file to (links followed), or one sentence
        saying why it may not be written. Its folder must exist (``make_folder``: is made,
        once the path is known to be allowed) and be writable."""
        target = Path(path).expanduser().resolve()
        reason = self._protected(target)
        if reason:
            raise OutputPathError(f"Refusing to write {path}: it is {reason}.")
        if make_folder:
            _make_folder(path, target.parent)
        _require_writable_file(path, target)
        log.debug("output %s allowed as %s", path, target)
        return target

    def check_folder(self, path: Path) -> Path:
        """The folder to write a user-named set of outputs into (links followed), or one
        sentence saying why not: it is a file, the database's folder, or inside a kept one."""
        target = Path(path).expanduser().resolve()
        if target.exists() and not target.is_dir():
            raise OutputPathError(f"Refusing to write into {path}: it is not a folder.")
        if target in {folder for folder, _ in self._database_names()}:
            raise OutputPathError(
                f"Refusing to write into {path}: it is the folder of the database {self.database}."
            )
        reason = self._protected(target)
        if reason:
            raise OutputPathError(f"Refusing to write into {path}: it is {reason}.")
        return target

    def _protected(self, target: Path) -> str | None:
        """Why ``target`` (resolved) may not be written, or None."""
        for folder, name in self._database_names():
            if target.parent == folder and target.name == name:
                return "the database file"
            if target.parent == folder and _named_after(target.name, name):
                return f"named after the database {self.database}, like its WAL and backups"
        if _same_file_as_any(target, self._database_files()):
            return f"a link to the database {self.database} or to a file named after it"
        for what, folder in self.folders:
            kept = folder.expanduser().resolve()
            if target == kept:
                return f"the {what} {folder}"
            if target.is_relative_to(kept):
                return f"inside the {what} {folder}"
        return None

    def _database_names(self) -> set[tuple[Path, str]]:
        """(folder, file name) of the database as given and with its links followed: DuckDB
        names the WAL after the path it was given."""
        given = Path(os.path.abspath(self.database.expanduser()))
        resolved = given.resolve()
        return {(given.parent.resolve(), given.name), (resolved.parent, resolved.name)}

    def _database_files(self) -> list[Path]:
        """The existing files named after the database, for the hard-link check."""
        found = []
        for folder, name in self._database_names():
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            found += [Path(e.path) for e in entries if _named_after(e.name, name)]
        return found


def protected_paths(settings: Settings) -> ProtectedPaths:
    """What the settings in effect keep: the database and its runs, snapshots, jobs, cache,
    evaluations, curated entries and raw sources."""
    return ProtectedPaths(
        settings.db,
        (
            ("model runs folder", settings.runs),
            ("snapshots folder", settings.snapshots),
            ("screening jobs folder", settings.db.parent / JOBS_FOLDER),
            ("feature cache folder", settings.cache),
            ("evaluations folder", settings.evaluations),
            ("curated entries folder (TCDB_CURATED)", settings.curated),
            ("raw sources folder (TCDB_SOURCES)", settings.sources),
        ),
    )


def _make_folder(given: Path, folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputPathError(
            f"Cannot write {given}: the folder {folder} cannot be made ({exc.strerror})."
        ) from exc


def _require_writable_file(given: Path, target: Path) -> None:
    """An existing output must be a regular file (never a folder, FIFO or device: writing to a
    FIFO waits for a reader forever), and its folder must exist and be writable."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputPathError(f"Refusing to write {given}: {exc.strerror}.") from exc
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputPathError(f"Refusing to write {given}: it is a folder, not a file.")
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputPathError(
            f"Refusing to write {given}: it is not a regular file (a FIFO, socket or device)."
        )
    if not target.parent.is_dir():
        raise OutputPathError(f"Cannot write {given}: the folder {target.parent} does not exist.")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"Cannot write {given}: the folder {target.parent} is not writable.")


def _named_after(file_name: str, database_name: str) -> bool:
    """``<database>`` itself or ``<database>.<anything>`` (``.wal``, ``.backup-…``)."""
    return file_name == database_name or file_name.startswith(database_name + ".")


def _same_file_as_any(target: Path, files: list[Path]) -> bool:
    """Whether ``target`` exists and is one of ``files`` under another name (a hard link)."""
    try:
        mine = os.stat(target)
    except OSError:
        return False
    for other in files:
        try:
            theirs = os.stat(other)
        except OSError:
            continue
        if (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino):
            return True
    return False
