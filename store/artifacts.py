"""What snapshots and model runs share: a folder of files named in a hashed manifest.

Why one module: both kinds are the same idea. A folder is written whole (staged and renamed, or
marked unfinished until its manifest is in place); its ``manifest.json`` lists every file with
its SHA-256 and size; the manifest's own hash goes into the database row; loading checks the
folder against the manifest (a missing, changed or unlisted file refuses it) and the manifest
against the row. A reference is an id, an unambiguous id prefix, a name or ``latest``; when it
finds nothing, or too much, the error names what exists. The kinds (``store.snapshots``,
``store.model_runs``) add their own fields, tables and messages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tcdb.core.errors import TcdbError
from tcdb.core.hashing import file_sha256
from tcdb.core.safe_reads import FileRefusedError, read_limited

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
# Written into a model run's folder while it trains (the pid of the training process) and
# removed before the manifest lists the files: a folder holding it is unfinished.
UNFINISHED = ".unfinished"
REFERENCES_SHOWN = 5
MANIFEST_MAX_BYTES = 64 << 20
"""A manifest is a few kilobytes of JSON; a larger file is refused unread (64 MiB)."""


class ArtifactError(TcdbError):
    """A snapshot or model run is missing, of the wrong kind, or cannot be used."""


class ArtifactNotFoundError(ArtifactError):
    """No artefact answers to the reference given (or several do)."""


class ArtifactIntegrityError(ArtifactError):
    """An artefact's manifest or files are not what was recorded, or were never hashed."""


# ------------------------------------------------------------------------------- hashing


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_entry(path: Path) -> dict:
    """What a manifest records of one file: its SHA-256 and size in bytes."""
    return {"sha256": file_sha256(path), "size": Path(path).stat().st_size}


def folder_files(folder: Path) -> set[str]:
    """Every file under a folder but the manifest and the unfinished mark, as relative paths."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()} - {
        MANIFEST,
        UNFINISHED,
    }


def artefact_list(folder: Path) -> dict[str, dict]:
    """Every file under a folder but the manifest: relative path → SHA-256 and size."""
    return {name: file_entry(Path(folder) / name) for name in sorted(folder_files(folder))}


@dataclass(frozen=True)
class FileProblem:
    """One way a folder differs from its manifest: a listed file is ``missing`` or
    ``changed`` (hash or size), or a file is there that the manifest does not list
    (``unlisted``)."""

    name: str
    what: str


def folder_problems(folder: Path, listed: dict[str, dict]) -> list[FileProblem]:
    """Every difference between a folder and the files its manifest lists, listed files first
    (a size is checked when the manifest records one: snapshots frozen before sizes were
    recorded list hashes only)."""
    folder = Path(folder)
    problems = []
    for name, expected in listed.items():
        path = folder / name
        if not path.is_file():  # a FIFO or a device is no file: never opened
            problems.append(FileProblem(name, "missing"))
        elif _differs(path, expected):
            problems.append(FileProblem(name, "changed"))
    problems += [FileProblem(n, "unlisted") for n in sorted(folder_files(folder) - set(listed))]
    return problems


def _differs(path: Path, expected: dict) -> bool:
    """The file's size or hash is not the manifest's (a file swapped for a FIFO or a device
    since it was listed is refused, not read, and differs too)."""
    try:
        if "size" in expected and path.stat().st_size != expected["size"]:
            return True
        return file_sha256(path) != expected["sha256"]
    except (FileRefusedError, OSError):
        return True


def read_manifest_bytes(path: Path, owner: str) -> bytes:
    """A ``manifest.json``'s bytes: a regular file of at most ``MANIFEST_MAX_BYTES``, else an
    ArtifactIntegrityError beginning with ``owner`` (a FIFO would make the read wait forever)."""
    try:
        return read_limited(path, MANIFEST_MAX_BYTES, limit_name="MANIFEST_MAX_BYTES")
    except FileNotFoundError:
        missing = f"{owner} has no readable {MANIFEST} in {path.parent}."
        raise ArtifactIntegrityError(missing) from None
    except FileRefusedError as exc:
        raise ArtifactIntegrityError(f"{owner}: {path} {exc.detail}; refused.") from None


def read_checked(folder: Path, name: str, listed: dict[str, dict], owner: str) -> bytes:
    """A listed file's bytes, refused unless they have the manifest's hash and size, so what is
    loaded is what was hashed (a file swapped after a check is refused too). ``owner`` starts
    each message ("Run <id>")."""
    expected = listed.get(name)
    if expected is None:
        raise ArtifactIntegrityError(f"{owner} has no artefact {name!r} in its manifest.")
    size = expected.get("size") if isinstance(expected, dict) else None
    if not isinstance(size, int) or size < 0:
        raise ArtifactIntegrityError(f"{owner}: the manifest gives artefact {name} no size.")
    try:  # a regular file, read no further than the size the manifest records
        data = read_limited(Path(folder) / name, size)
    except FileRefusedError as exc:
        too_large = exc.reason_code == "file_too_large"
        detail = "is larger than its manifest says" if too_large else exc.detail
        raise ArtifactIntegrityError(
            f"{owner}: artefact {name} {detail}; the run is refused."
        ) from None
    except OSError as exc:
        raise ArtifactIntegrityError(
            f"{owner}: artefact {name} cannot be read ({exc.strerror})."
        ) from None
    if len(data) != size or sha256_of(data) != expected["sha256"]:
        raise ArtifactIntegrityError(
            f"{owner}: artefact {name} differs from its manifest (SHA-256 or size changed); "
            "the run is refused."
        )
    return data


# ------------------------------------------------------------------------------- writing


def manifest_bytes(manifest: dict) -> bytes:
    """The manifest as written: indented JSON with sorted keys and a final newline."""
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def write_manifest(folder: Path, manifest: dict) -> bytes:
    """Write ``manifest.json`` under a temporary name and rename it into place, so a reader
    never sees half a manifest; the bytes written (whose hash the database records)."""
    data = manifest_bytes(manifest)
    handle, temporary = tempfile.mkstemp(prefix=".manifest-", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, Path(folder) / MANIFEST)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return data


@contextmanager
def staging_folder(root: Path) -> Iterator[Path]:
    """A hidden folder under ``root`` to write an artefact in before it is renamed to its id;
    removed if anything fails before then."""
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=root))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def set_aside(target: Path, noun: str) -> Path:
    """Rename a folder that does not verify to ``.damaged-<name>-<n>`` (never delete it), so a
    fresh copy can take its place and the old one can still be inspected."""
    for n in range(1, 1000):
        aside = target.with_name(f".damaged-{target.name}-{n}")
        if not aside.exists():
            log.warning("%s %s did not verify; kept as %s and written again", noun, target, aside)
            target.rename(aside)
            return aside
    raise ArtifactError(f"{target} does not verify and cannot be set aside; remove it by hand")


def mark_unfinished(folder: Path) -> None:
    """Say, inside a folder being filled, which process fills it."""
    (Path(folder) / UNFINISHED).write_text(f"{os.getpid()}\n")


def clear_unfinished(folder: Path) -> None:
    (Path(folder) / UNFINISHED).unlink(missing_ok=True)


def filling_process(folder: Path) -> int | None:
    """The pid of the live process still filling a folder, or None when no process is (the
    folder is finished, or the process that was filling it has died)."""
    try:  # a pid is a few bytes; a FIFO or a device here is no mark at all
        pid = int(read_limited(Path(folder) / UNFINISHED, 64).decode().strip())
    except (OSError, ValueError, FileRefusedError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # alive, owned by someone else
    return pid


def folder_bytes(folder: Path) -> int:
    """The bytes of every file under a folder (what removing it frees)."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


# ---------------------------------------------------------------------------- references


@dataclass(frozen=True)
class Entry:
    """One artefact a reference may name: its id, its names and when it was made (sortable
    text: ISO timestamps)."""

    id: str
    names: tuple[str, ...] = ()
    created: str = ""

    def describe(self) -> str:
        return f"{self.id} ({', '.join(self.names)})" if self.names else self.id


def resolve_reference(
    ref: str, entries: Sequence[Entry], noun: str, hint: str, missing: str | None = None
) -> Entry:
    """The artefact ``ref`` names: its id, an unambiguous id prefix, one of its names (the
    newest artefact with that name), or ``latest`` (the newest of all). Nothing or several
    found raise an ArtifactNotFoundError that names the artefacts there are; ``missing``
    replaces its opening clause ("No <noun> '<ref>'") and ``hint`` ends it (the command that
    lists them, or makes one)."""
    by_id = {e.id: e for e in entries}
    if ref in by_id:
        return by_id[ref]
    prefixed = [e for e in entries if ref and e.id.startswith(ref)]
    if len(prefixed) == 1:
        return prefixed[0]
    named = [e for e in entries if ref in e.names]
    if named:
        return max(named, key=lambda e: (e.created, e.id))
    if ref == "latest" and entries:
        return max(entries, key=lambda e: (e.created, e.id))
    if len(prefixed) > 1:
        raise ArtifactNotFoundError(
            f"{ref!r} is the start of {len(prefixed)} {noun} ids ({_shown(prefixed)}); "
            f"give more of the id."
        )
    there = f"{noun}s there are: {_shown(entries)}" if entries else f"there is no {noun} yet"
    opening = missing or f"No {noun} {ref!r}"
    raise ArtifactNotFoundError(f"{opening}; {there}. {hint}")


def _shown(entries: Sequence[Entry]) -> str:
    """The newest few, newest first, and how many more."""
    newest = sorted(entries, key=lambda e: (e.created, e.id), reverse=True)
    shown = ", ".join(e.describe() for e in newest[:REFERENCES_SHOWN])
    more = len(newest) - REFERENCES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------------- kinds


def require_kind(subject: str, actual: str, wanted: str, template: str) -> None:
    """The one check that an artefact is of the kind a caller needs (a snapshot's kind, a run's
    model); ``template`` words the refusal from ``subject``, ``actual`` and ``wanted``."""
    if actual != wanted:
        raise ArtifactError(template.format(subject=subject, actual=actual, wanted=wanted))


def diff_fields(a: dict, b: dict) -> dict[str, tuple]:
    """The keys whose values differ between two mappings (parameters, configurations), with
    both values; a key missing on one side reads as None."""
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
