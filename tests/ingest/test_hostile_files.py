"""Source files that attack the ingest: a FIFO and a link to /dev/zero among the literature
CIFs (they hung ``tcdb ingest literature`` while it held the database), a CIF too large to
read, a Materials Project archive cut short (a traceback that stopped ``ingest all``) or
holding a member of 1 GB (2.1 GB of memory). Each is one rejection or one refused file with
its sentence; the other files and sources are ingested. CIFs with too many sites are in
tests/core/test_structure_limits.py."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from tcdb.core.records import Rejection
from tcdb.core.safe_reads import FileRefusedError
from tcdb.core.structures import iter_tar_cifs
from tcdb.ingest import pipeline
from tcdb.ingest.registry import Group, Registered, Registry
from tcdb.ingest.sources import literature_structures
from tcdb.schema.database import Database
from tests.commands import invoke_tcdb
from tests.conftest import query
from tests.core.test_safe_reads import deadline
from tests.ingest.slices import LITERATURE, MP_TAR, NIMS, STANEV, STRUCTURES, head_lines, tar_slice

CIF = "100GPa_P-1_LaH5.cif"
GIB = 1 << 30


@pytest.fixture
def sources(real_sources, tmp_path) -> Path:
    """Every source, small: 30 SuperCon rows each, 3 Materials Project CIFs, the literature
    table and one of its CIFs."""
    folder = tmp_path / "sources"
    head_lines(real_sources / NIMS, folder / NIMS, 3 + 30)
    head_lines(real_sources / STANEV, folder / STANEV, 1 + 30)
    tar_slice(real_sources / MP_TAR, folder / MP_TAR, 3)
    (folder / STRUCTURES).mkdir(parents=True)
    shutil.copy(real_sources / LITERATURE, folder / LITERATURE)
    shutil.copy(real_sources / STRUCTURES / CIF, folder / STRUCTURES / CIF)
    return folder


def env_for(sources: Path, tmp_path: Path) -> dict[str, str]:
    return {"TCDB_SOURCES": str(sources), "TCDB_CURATED": str(tmp_path / "curated")}


def rejections(db: Path, source_id: str) -> dict[str, str]:
    rows = query(
        db, "SELECT record_ref, reason_code FROM ingest_rejection WHERE source_id = ?", source_id
    )
    return dict(rows)


def test_a_fifo_a_link_to_dev_zero_and_oversized_cifs_are_rejected_one_by_one(
    migrated_db, sources, tmp_path
):
    folder = sources / STRUCTURES
    os.mkfifo(folder / "fifo.cif")
    (folder / "zero.cif").symlink_to("/dev/zero")
    (folder / "inside.cif").symlink_to(folder / "fifo.cif")  # a link inside, to the FIFO
    with open(folder / "huge.cif", "wb") as handle:  # sparse: 1 GiB that is never read
        handle.truncate(GIB)

    with deadline(60):
        result = invoke_tcdb("--db", str(migrated_db), "ingest", "literature",
                             env=env_for(sources, tmp_path))  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "literature_structures  1 new, 0 unchanged, 4 rejected" in result.stdout
    assert rejections(migrated_db, "literature_structures") == {
        "fifo.cif": "not_a_regular_file",
        "inside.cif": "not_a_regular_file",
        "zero.cif": "outside_folder",
        "huge.cif": "file_too_large",
    }
    reasons = dict(query(migrated_db, "SELECT record_ref, reason FROM ingest_rejection"))
    assert reasons["fifo.cif"] == "fifo.cif is a FIFO, not a regular file"
    assert reasons["zero.cif"].startswith("zero.cif is a link to /dev/zero, outside ")
    assert (
        "holds 1,073,741,824 bytes, more than the limit of 1,048,576 bytes" in (reasons["huge.cif"])
    )
    assert query(migrated_db, "SELECT count(*) FROM literature_entry")[0][0] > 0


def test_a_damaged_materials_project_archive_is_refused_and_the_other_sources_run(
    migrated_db, sources, tmp_path
):
    archive = sources / MP_TAR
    archive.write_bytes(archive.read_bytes()[:1000])  # head -c 1000

    result = invoke_tcdb("--db", str(migrated_db), "ingest", "all", env=env_for(sources, tmp_path))

    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    refusal = f"mp_mirror              refused: {archive} is a damaged archive (ReadError: "
    assert refusal + "unexpected end of data) after " in result.stdout
    assert "members; nothing of it was loaded" in result.stdout
    for ingested in ("nims_supercon", "literature_structures", "literature_hydrides"):
        assert f"{ingested:<22} " in result.stdout and "new" in result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("error: Refused mp_mirror:")
    loaded = dict(query(migrated_db, "SELECT source_id, count(*) FROM ingest_run GROUP BY 1"))
    assert "mp_mirror" not in loaded and loaded["literature_structures"] == 1
    assert query(migrated_db, "SELECT count(*) FROM crystal_structure")[0][0] == 1


def archive_with(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    """A .tar.gz written member by member; a member's data may be shorter than its header
    claims (the stream then ends there, as a crafted archive does)."""
    with gzip.open(path, "wb") as out:
        for info, data in members:
            out.write(info.tobuf(format=tarfile.GNU_FORMAT))
            out.write(data)
            out.write(b"\0" * (-len(data) % tarfile.BLOCKSIZE))
        out.write(b"\0" * 2 * tarfile.BLOCKSIZE)
    return path


def member(name: str, size: int, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.linkname = size, kind, link
    return info


def test_a_member_declaring_1_gib_refuses_the_archive_at_its_header(migrated_db, sources, tmp_path):
    text = (sources / STRUCTURES / CIF).read_bytes()
    archive = archive_with(sources / MP_TAR, [
        (member("mp_structures/mp-1.cif", len(text)), text),
        (member("mp_structures/huge.cif", GIB), b"\0" * (1 << 20)),  # 1 MiB of the 1 GiB
    ])  # fmt: skip

    start = time.perf_counter()
    result = invoke_tcdb("--db", str(migrated_db), "ingest", "materials-project",
                         env=env_for(sources, tmp_path))  # fmt: skip

    assert time.perf_counter() - start < 5
    assert result.returncode == 4, result.stderr
    assert (
        f"refused: {archive} is an archive whose members declare {len(text) + GIB:,} bytes or "
        "more, past the limit of 67,108,864 (max_archive_bytes); it was not unpacked further "
        "and nothing of it was loaded"
    ) in result.stdout
    assert query(migrated_db, "SELECT count(*) FROM crystal_structure")[0][0] == 0


def test_archive_members_too_large_or_not_files_are_rejected_unread_and_the_rest_read(
    sources, tmp_path
):
    text = (sources / STRUCTURES / CIF).read_bytes()
    archive = archive_with(tmp_path / "mixed.tar.gz", [
        (member("a/mp-1.cif", len(text)), text),
        (member("a/big.cif", 3 << 20), b"#" * (3 << 20)),
        (member("a/link.cif", 0, tarfile.SYMTYPE, "/etc/passwd"), b""),
        (member("a/dev.cif", 0, tarfile.CHRTYPE), b""),
        (member("a/readme.txt", 4), b"text"),
        (member("a/mp-2.cif", len(text)), text),
    ])  # fmt: skip

    items = dict(iter_tar_cifs(archive))

    assert sorted(items) == ["a/big.cif", "a/dev.cif", "a/link.cif", "a/mp-1.cif", "a/mp-2.cif"]
    assert items["a/mp-1.cif"] == items["a/mp-2.cif"] == text.decode()
    codes = {name: item.reason_code for name, item in items.items() if isinstance(item, Rejection)}
    assert codes == {
        "a/big.cif": "file_too_large",
        "a/link.cif": "not_a_regular_file",
        "a/dev.cif": "not_a_regular_file",
    }
    assert items["a/link.cif"].reason == (
        "a/link.cif is a symbolic link in the archive, not a file; it was not read"
    )


def test_an_archive_that_is_a_fifo_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "mp.tar.gz")
    with deadline(5), pytest.raises(FileRefusedError, match="is a FIFO, not a regular file"):
        list(iter_tar_cifs(tmp_path / "mp.tar.gz"))


class ProbedSource:
    """The literature CIFs, whose ``build`` first asks another process to open the database
    for writing: it can only while the pipeline holds no connection."""

    info = literature_structures.info

    def __init__(self, db: Path) -> None:
        self.db = db
        self.writable_while_reading: bool | None = None

    def fingerprint(self, path: Path) -> str:
        return literature_structures.fingerprint(path)

    def build(self, path, params, fingerprint):
        script = f"import duckdb; duckdb.connect({str(self.db)!r}).close()"
        probe = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
        self.writable_while_reading = probe.returncode == 0
        return literature_structures.build(path, params, fingerprint)


def test_reading_a_source_holds_no_database(migrated_db, sources):
    probed = ProbedSource(migrated_db)
    registry = Registry((Group("probe", "a probe"),), (Registered("probe", probed),), "")

    (outcome,) = pipeline.ingest(Database(migrated_db), "probe", sources, registry=registry)

    assert probed.writable_while_reading is True
    assert outcome.status == "succeeded" and outcome.n_loaded == 1
