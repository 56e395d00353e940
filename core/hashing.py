"""Content hashes and stable record ids: a file, a folder or a record named by what it holds."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_sha256(path: Path, pattern: str) -> str:
    """One hash over the names and contents of the files of a folder matching ``pattern``."""
    digest = hashlib.sha256()
    for file in sorted(path.glob(pattern)):
        digest.update(file.name.encode() + b"\0" + file_sha256(file).encode() + b"\n")
    return digest.hexdigest()


def record_id(prefix: str, *parts: object) -> str:
    """A stable text key from the parts that identify a record."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def json_sha256(value: Any) -> str:
    """The SHA-256 of a JSON value written with sorted keys: equal values, equal hashes,
    whatever order their dictionaries were built in."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
