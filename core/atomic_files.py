"""Files replaced whole or not at all: written beside their place, synced, then renamed.

Why: an output written in place is half old, half new (or empty) if the writer fails, the
disk fills or the command is interrupted; and writing through an existing name follows a
link planted there. A file written beside the target and renamed over it with
``os.replace`` is either the old file or the complete new one, and the rename replaces a
link at the target instead of writing through it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from tcdb.core.errors import OutputPathError

log = logging.getLogger(__name__)

# Read and write for everyone, less the umask: what ``open(path, "w")`` would give a new file.
NEW_FILE_MODE = 0o666


def _temporary_beside(path: Path) -> Path:
    """A new empty file in ``path``'s folder, hidden, keeping its suffix (matplotlib picks
    the format from it), created exclusively so that no existing file is ever reused."""
    while True:
        temp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, NEW_FILE_MODE))
        except FileExistsError:
            continue
        return temp


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _keep_mode(target: Path, temp: Path) -> None:
    """A replaced file keeps its permission bits; a new one gets the usual ones."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(temp, stat.S_IMODE(os.stat(target).st_mode))


@contextlib.contextmanager
def replacing(path: Path, *, durable: bool = True) -> Iterator[Path]:
    """A temporary path beside ``path`` for the caller to write; once the block ends without
    error it is synced to disk and renamed onto ``path``. On any error (or Ctrl-C) it is
    removed and ``path`` is untouched; an ``OSError`` becomes one sentence naming ``path``.

    ``durable=False`` skips the two fsyncs (about 10 ms per file on the project's machine):
    the rename is still all or nothing for every reader and for a crash of the command, and
    only a power cut could leave the file empty. For many files that are rebuilt from the
    database anyway (the report's site), not for a user's one output."""
    path = Path(path)
    try:
        temp = _temporary_beside(path)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    try:
        yield temp
        if durable:
            _sync_file(temp)
        _keep_mode(path, temp)
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(exc, OSError):
            raise _write_error(path, exc) from exc
        raise
    if durable:
        _sync_folder(path.parent)
    log.debug("wrote %s", path)


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", *, durable: bool = True, **kwargs) -> Iterator[IO]:
    """``open(path, mode)`` for writing, but the file only replaces ``path`` once closed
    without error (see ``replacing``)."""
    with replacing(path, durable=durable) as temp, open(temp, mode, **kwargs) as handle:
        yield handle


def write_bytes_atomically(path: Path, data: bytes, *, durable: bool = True) -> None:
    """``path`` holds ``data`` afterwards, or is as it was."""
    with atomic_open(path, "wb", durable=durable) as handle:
        handle.write(data)


def write_text_atomically(path: Path, text: str, *, durable: bool = True) -> None:
    """``path`` holds ``text`` (UTF-8) afterwards, or is as it was."""
    with atomic_open(path, "w", durable=durable, encoding="utf-8") as handle:
        handle.write(text)


def _write_error(path: Path, exc: OSError) -> OutputPathError:
    reason = exc.strerror or str(exc)
    return OutputPathError(f"Could not write {path}: {reason}; it was left as it was.")
