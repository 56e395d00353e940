"""Content hashes and stable record ids: a file, a folder or a record named by what it holds."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tcdb.core.safe_reads import folder_member_problem, open_regular


def file_sha256(path: Path) -> str:
    """The SHA-256 of a regular file, read in 1 MiB blocks; a FIFO or a device is refused
    (``core.safe_reads``) rather than read forever."""
    digest = hashlib.sha256()
    with open_regular(path) as (handle, _):
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


FOLDER_FILE_READ_BYTES = 64 << 20
"""A file of a hashed folder larger than this (64 MiB, far beyond any CIF a folder may hold)
is named by its size and modification time instead of being read: a sparse file claiming a
terabyte would otherwise take minutes to hash."""


def folder_sha256(path: Path, pattern: str) -> str:
    """One hash over the names and contents of the files of a folder matching ``pattern``; a
    name that is no regular file inside the folder (a FIFO, a device, a link leading out) is
    hashed by what it is, never opened, and a file above ``FOLDER_FILE_READ_BYTES`` by its
    size and modification time."""
    digest = hashlib.sha256()
    for file in sorted(path.glob(pattern)):
        digest.update(file.name.encode() + b"\0" + _member_content(path, file).encode() + b"\n")
    return digest.hexdigest()


def _member_content(folder: Path, file: Path) -> str:
    problem = folder_member_problem(folder, file)
    if problem is not None:
        return problem.reason_code
    status = file.stat()
    if status.st_size > FOLDER_FILE_READ_BYTES:
        return f"large:{status.st_size}:{status.st_mtime_ns}"
    return file_sha256(file)


def record_id(prefix: str, *parts: object) -> str:
    """A stable text key from the parts that identify a record."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def json_sha256(value: Any) -> str:
    """The SHA-256 of a JSON value written with sorted keys: equal values, equal hashes,
    whatever order their dictionaries were built in."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
