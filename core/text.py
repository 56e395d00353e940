"""Source files as text: UTF-8 (a byte-order mark is accepted), bad bytes kept and pointed at.

One undecodable byte must not stop an ingest, nor be silently replaced: the file is decoded
with ``surrogateescape``, so each bad byte becomes a lone surrogate that marks its row; the row
is then rejected (``undecodable_text``) naming its line, the byte and its offset in the file,
and the text stored for it shows the byte as ``\\xNN``. Every other row loads as usual.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

from tcdb.core.parameters import INGEST
from tcdb.core.records import Rejection
from tcdb.core.safe_reads import read_limited

ENCODING = "utf-8"
MAX_BAD_BYTES = 1000  # offsets located per file; a binary file would have millions
_SURROGATES = range(0xDC80, 0xDD00)  # what surrogateescape turns bytes 0x80-0xff into
_KEPT_BYTE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class SourceText:
    """A file's text and where its undecodable bytes are (line number -> first byte offset)."""

    path: Path
    text: str
    bad_lines: dict[int, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return self.text.splitlines()

    def rejection(self, line_number: int, value: str) -> Rejection | None:
        """An ``undecodable_text`` rejection if ``value`` (a row read from ``line_number``, or
        ending there) holds a byte that is not UTF-8."""
        byte = first_bad_byte(value)
        if byte is None:
            return None
        offset = self.bad_lines.get(line_number)
        where = f" at byte offset {offset:,} of the file" if offset is not None else ""
        return Rejection(
            "undecodable_text",
            f"line {line_number}: byte 0x{byte:02x}{where} is not {ENCODING.upper()} text",
        )


def read_source_text(path: Path, limit: int = INGEST.max_table_bytes) -> SourceText:
    """The file decoded as UTF-8 (with or without a byte-order mark), bad bytes marked.

    Raises FileNotFoundError as ``open`` does; callers turn it into their own error. A file
    that is not a regular file (a FIFO, a device) or holds more than ``limit`` bytes is refused
    with a ``FileRefusedError`` before it is read."""
    data, skipped = _without_bom(read_limited(Path(path), limit, limit_name="max_table_bytes"))
    text = data.decode(ENCODING, errors="surrogateescape")
    return SourceText(Path(path), text, _bad_lines(text, skipped))


def _without_bom(data: bytes) -> tuple[bytes, int]:
    """The bytes without a leading UTF-8 byte-order mark, and how many were skipped."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :], len(codecs.BOM_UTF8)
    return data, 0


def _bad_lines(text: str, skipped: int = 0) -> dict[int, int]:
    """Line number (1-based) -> offset in the file of its first undecodable byte, in one pass
    over the kept bytes (at most ``MAX_BAD_BYTES`` lines are located)."""
    lines: dict[int, int] = {}
    line, offset, position = 1, skipped, 0
    for match in _KEPT_BYTE.finditer(text):
        between = text[position : match.start()]
        line += between.count("\n")
        offset += len(between.encode(ENCODING, "surrogateescape"))
        position = match.start()
        if line not in lines:
            lines[line] = offset
            if len(lines) >= MAX_BAD_BYTES:
                break
    return lines


def first_bad_byte(value: object) -> int | None:
    """The first byte that ``surrogateescape`` kept in a string (or the strings of a list or a
    dict's values), or None."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        for item in value:
            found = first_bad_byte(item)
            if found is not None:
                return found
        return None
    if not isinstance(value, str):
        return None
    for char in value:
        if ord(char) in _SURROGATES:
            return ord(char) - 0xDC00
    return None


def storable(value: str | None) -> str | None:
    """The text with kept bytes shown as ``\\xNN`` (lone surrogates cannot be stored)."""
    if value is None or first_bad_byte(value) is None:
        return value
    return value.encode(ENCODING, "surrogateescape").decode(ENCODING, "backslashreplace")


def decode_lenient(data: bytes) -> str:
    """Bytes of a file that must be text (a CIF) as a string: a byte-order mark dropped, bad
    bytes kept for ``text_problem`` to name."""
    return _without_bom(data)[0].decode(ENCODING, errors="surrogateescape")


def text_problem(text: str, name: str) -> Rejection | None:
    """A per-file rejection for text that is binary (a NUL byte) or holds a byte that is not
    UTF-8, naming the byte and its offset; None for good text."""
    nul = text.find("\0")
    if nul >= 0:
        offset = _byte_offset(text, nul)
        return Rejection(
            "binary_file", f"{name}: a NUL byte at offset {offset:,}; the file is binary, not text"
        )
    byte = first_bad_byte(text)
    if byte is None:
        return None
    index = next(i for i, char in enumerate(text) if ord(char) in _SURROGATES)
    return Rejection(
        "undecodable_text",
        f"{name}: byte 0x{byte:02x} at offset {_byte_offset(text, index):,} is not "
        f"{ENCODING.upper()} text",
    )


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode(ENCODING, "surrogateescape"))
