"""Reading files nothing vouches for: regular files only, never more than a stated limit.

Why: a name in a source folder, a run folder or on the command line may be a FIFO (opening it
waits for a writer, reading it waits for data: forever), a device (``/dev/zero`` never ends),
a folder or a socket, or a regular file far larger than anything real. Every reader of such
files goes through ``open_regular`` / ``read_limited``:

- the path is checked with ``stat`` first and anything but a regular file is refused before it
  is opened (opening a device can act on it);
- it is then opened without blocking (``O_NONBLOCK``, so even a FIFO swapped in meanwhile
  cannot make ``open`` wait) and the *opened descriptor* is checked again with ``fstat``, so
  what is read is what was checked;
- a size above the limit is refused before a byte is read, and at most limit + 1 bytes are
  read, so a file that grows while it is read is refused too.

A ``.npz`` archive is checked member by member before numpy allocates anything
(``npz_arrays``): a header may claim an array of any size, and numpy would try to allocate it.

Each refusal is a ``FileRefusedError``: one sentence naming the file and why, and a reason
code that ingest turns into a rejection row.
"""

from __future__ import annotations

import io
import math
import os
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from tcdb.core.errors import TcdbError
from tcdb.core.records import Rejection

if TYPE_CHECKING:
    import numpy as np

REASON_CODES: dict[str, str] = {
    "not_a_regular_file": "a FIFO, a device, a folder, a socket or a dangling link: never opened",
    "file_too_large": "the file is larger than the limit for its kind; it is not read",
    "outside_folder": "a symbolic link leading out of the folder it is listed in; never opened",
    "unreadable": "the operating system refused to open or read the file",
}
"""Every ``reason_code`` a ``FileRefusedError`` carries, with what it means."""

NPZ_MAX_BYTES = 2 << 30
"""Bytes the compressed members of an ``.npz`` archive may unpack to, together (2 GiB). A
stored (uncompressed) member is bounded by the archive's own length instead."""

_HEADER_READERS = {(1, 0): "read_array_header_1_0", (2, 0): "read_array_header_2_0"}

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


class FileRefusedError(TcdbError):
    """A file refused before (or instead of) being read: not a regular file, too large, or
    not readable. The message is one sentence, ``<path> <detail>``; ``reason_code``
    classifies it and ``detail`` says why without the path (for callers naming the file in
    their own words)."""

    def __init__(self, reason_code: str, path: Path | str, detail: str) -> None:
        super().__init__(f"{path} {detail}")
        self.reason_code = reason_code
        self.path = str(path)
        self.detail = detail

    def rejection(self) -> Rejection:
        """The refusal as an ingest rejection of that one file."""
        return Rejection(self.reason_code, str(self))


class ArrayArchiveError(ValueError):
    """An ``.npz`` archive whose members or array headers are not what numpy would write:
    refused before any array is allocated."""


def kind_of(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words ("a FIFO", "a character device", ...)."""
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def _size_words(size: int) -> str:
    return f"{size:,} bytes"


def _too_large(path: Path, size: int, limit: int, limit_name: str | None) -> FileRefusedError:
    named = f" ({limit_name})" if limit_name else ""
    return FileRefusedError(
        "file_too_large",
        path,
        f"holds {_size_words(size)}, more than the limit of {_size_words(limit)}{named}",
    )


def _not_regular(path: Path, mode: int) -> FileRefusedError:
    return FileRefusedError("not_a_regular_file", path, f"is {kind_of(mode)}, not a regular file")


def _unreadable(path: Path, exc: OSError) -> FileRefusedError:
    return FileRefusedError(
        "unreadable", path, f"cannot be read ({exc.strerror or type(exc).__name__})"
    )


def _checked_stat(path: Path, follow_links: bool) -> os.stat_result:
    """``stat`` of a path that must be a regular file; FileNotFoundError passes through."""
    try:
        status = os.stat(path, follow_symlinks=follow_links)
    except FileNotFoundError:
        if os.path.islink(path):  # a link to nothing: not a file to read
            raise FileRefusedError(
                "not_a_regular_file", path, "is a symbolic link to nothing"
            ) from None
        raise
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if not stat.S_ISREG(status.st_mode):
        raise _not_regular(path, status.st_mode)
    return status


def regular_size(path: Path, limit: int | None = None, limit_name: str | None = None) -> int:
    """The size of a regular file, refused (without opening it) if it is anything else or
    larger than ``limit``."""
    size = _checked_stat(Path(path), True).st_size
    if limit is not None and size > limit:
        raise _too_large(Path(path), size, limit, limit_name)
    return size


@contextmanager
def open_regular(
    path: Path,
    limit: int | None = None,
    *,
    follow_links: bool = True,
    limit_name: str | None = None,
) -> Iterator[tuple[IO[bytes], int]]:
    """A regular file opened for binary reading, with its size, refused if it is anything else
    or larger than ``limit``; ``follow_links=False`` refuses a final symbolic link too.

    Raises FileNotFoundError as ``open`` does (callers say it in their own words) and
    FileRefusedError for everything else."""
    path = Path(path)
    _checked_stat(path, follow_links)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= os.O_NOFOLLOW
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _unreadable(path, exc) from None
    try:
        status = os.fstat(descriptor)  # the file opened, not the name: nothing swapped since
        if not stat.S_ISREG(status.st_mode):
            raise _not_regular(path, status.st_mode)
        if limit is not None and status.st_size > limit:
            raise _too_large(path, status.st_size, limit, limit_name)
        os.set_blocking(descriptor, True)
        handle = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    with handle:
        yield handle, status.st_size


def read_limited(
    path: Path, limit: int, *, follow_links: bool = True, limit_name: str | None = None
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; anything else is refused with
    one sentence, before it is read (a file that grows past the limit while read, after)."""
    path = Path(path)
    opened = open_regular(path, limit, follow_links=follow_links, limit_name=limit_name)
    with opened as (handle, _):
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise _unreadable(path, exc) from None
    if len(data) > limit:
        raise _too_large(path, len(data), limit, limit_name)
    return data


def folder_member_problem(folder: Path, path: Path) -> Rejection | None:
    """Why a file listed in ``folder`` must not be read, or None: a symbolic link leading out
    of the folder (``outside_folder``), or anything that is not a regular file
    (``not_a_regular_file``). Nothing is opened."""
    root = Path(folder).resolve()
    target = Path(path).resolve()
    name = Path(path).name
    if not target.is_relative_to(root):
        return Rejection("outside_folder", f"{name} is a link to {target}, outside {root}")
    try:
        status = os.stat(target)
    except OSError:
        return Rejection("not_a_regular_file", f"{name} is a symbolic link to nothing")
    if not stat.S_ISREG(status.st_mode):
        return Rejection(
            "not_a_regular_file", f"{name} is {kind_of(status.st_mode)}, not a regular file"
        )
    return None


# ------------------------------------------------------------------------------- .npz


def npz_arrays(
    source: bytes | Path, name: str, max_unpacked_bytes: int = NPZ_MAX_BYTES
) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive (bytes in memory, or a file), never unpickling and
    never allocating more than the archive can hold: every member is checked first
    (``check_npz``). ``name`` names the archive in the ArrayArchiveError that refuses it."""
    if isinstance(source, bytes | bytearray):
        return _checked_arrays(io.BytesIO(source), len(source), name, max_unpacked_bytes)
    with open_regular(Path(source)) as (handle, size):
        return _checked_arrays(handle, size, name, max_unpacked_bytes)


def _checked_arrays(
    handle: IO[bytes], size: int, name: str, max_unpacked: int
) -> dict[str, np.ndarray]:
    import numpy as np

    check_npz(handle, size, name, max_unpacked)
    handle.seek(0)
    try:
        with np.load(handle, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ArrayArchiveError(f"{name} cannot be read as arrays ({exc})") from None


def check_npz(handle: IO[bytes], size: int, name: str, max_unpacked: int = NPZ_MAX_BYTES) -> None:
    """Refuse an ``.npz`` archive before numpy reads it: a member that is not an ``.npy``
    array, members whose stored bytes exceed the archive's ``size``, compressed members that
    would unpack to more than ``max_unpacked`` bytes together, an object array, or an array
    header claiming more bytes than its member holds (a crafted header can claim 7 TiB)."""
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ArrayArchiveError(f"{name} is not an .npz archive ({exc})") from None
    with archive:
        members = archive.infolist()
        _check_member_sizes(members, size, name, max_unpacked)
        for member in members:
            _check_array_header(archive, member, name)


def _check_member_sizes(
    members: list[zipfile.ZipInfo], size: int, name: str, max_unpacked: int
) -> None:
    stored = sum(m.compress_size for m in members)
    if stored > size:
        raise ArrayArchiveError(
            f"{name}: its members claim {_size_words(stored)}, more than the archive's "
            f"{_size_words(size)}"
        )
    unpacked = 0
    for member in members:
        if not member.filename.endswith(".npy"):
            raise ArrayArchiveError(f"{name}: member {member.filename!r} is not an .npy array")
        if member.compress_type == zipfile.ZIP_STORED:
            if member.file_size != member.compress_size:
                raise ArrayArchiveError(
                    f"{name}: stored member {member.filename!r} claims {member.file_size:,} "
                    f"bytes but holds {member.compress_size:,}"
                )
        else:
            unpacked += member.file_size
    if unpacked > max_unpacked:
        raise ArrayArchiveError(
            f"{name}: its compressed arrays would unpack to {_size_words(unpacked)}, more than "
            f"the limit of {_size_words(max_unpacked)}"
        )


def _check_array_header(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str) -> None:
    """The member's array header, read without the data: no object array, and no more bytes
    claimed than the member holds."""
    from numpy.lib import format as npy

    where = f"{name}: array {member.filename!r}"
    try:
        with archive.open(member) as data:
            version = npy.read_magic(data)
            if version not in _HEADER_READERS:
                raise ValueError(f"format version {version} is not one numpy writes for arrays")
            shape, _, dtype = getattr(npy, _HEADER_READERS[version])(data)
            header_bytes = data.tell()
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ArrayArchiveError(f"{where} has no readable header ({exc})") from None
    if dtype.hasobject:
        raise ArrayArchiveError(f"{where} holds Python objects, which are never unpickled")
    if any(int(n) < 0 for n in shape):
        raise ArrayArchiveError(f"{where} claims a negative dimension {tuple(shape)}")
    claimed = math.prod(int(n) for n in shape) * dtype.itemsize
    held = member.file_size - header_bytes
    if claimed > held:
        raise ArrayArchiveError(
            f"{where} claims shape {tuple(shape)} of {dtype} ({_size_words(claimed)}) but "
            f"holds {_size_words(max(held, 0))}"
        )
