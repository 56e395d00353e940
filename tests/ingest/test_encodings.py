"""One bad byte rejects its row or its file, never the run; a UTF-8 byte-order mark is accepted.

The attacks: a byte that is not UTF-8 in a CSV row or a TSV row, a binary or garbage CIF among
the literature structures and in the Materials Project archive, and files saved with a BOM.
"""

from __future__ import annotations

import codecs
import io
import shutil
import tarfile

import pytest

from tcdb.ingest.sources.nims_supercon import build as build_nims_batch
from tests.conftest import ingest_into, query
from tests.ingest.slices import LITERATURE, MP_TAR, NIMS, STANEV, STRUCTURES, head_lines, tar_slice

HEADER = 3
N_CIFS = 4


@pytest.fixture
def sources(real_sources, tmp_path):
    """Small slices of every source: 50 SuperCon rows each, 3 Materials Project structures,
    the literature CSV, four literature CIFs and the reference structures."""
    folder = tmp_path / "sources"
    head_lines(real_sources / NIMS, folder / NIMS, HEADER + 50)
    head_lines(real_sources / STANEV, folder / STANEV, 1 + 50)
    tar_slice(real_sources / MP_TAR, folder / MP_TAR, 3)
    head_lines(real_sources / LITERATURE, folder / LITERATURE, 10_000)
    (folder / STRUCTURES).mkdir()
    for cif in sorted((real_sources / STRUCTURES).glob("*.cif"))[:N_CIFS]:
        shutil.copy(cif, folder / STRUCTURES / cif.name)
    shutil.copytree(real_sources / "reference", folder / "reference")
    return folder


def _insert_byte(path, line_index: int, byte: bytes = b"\xff") -> int:
    """Put ``byte`` at the start of the last field of a line; its offset in the file."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    before = sum(len(line) + 1 for line in lines[:line_index])
    cut = lines[line_index].rfind(b",") + 1 or lines[line_index].rfind(b"\t") + 1
    lines[line_index] = lines[line_index][:cut] + byte + lines[line_index][cut:]
    path.write_bytes(b"\n".join(lines))
    return before + cut


def _rejections(db, source: str) -> dict[str, tuple[str, str]]:
    rows = query(
        db,
        "SELECT record_ref, reason_code, reason FROM ingest_rejection WHERE source_id = ?",
        source,
    )
    return {ref: (code, reason) for ref, code, reason in rows}


def test_a_bad_byte_in_the_literature_csv_rejects_its_row_only(migrated_db, sources):
    offset = _insert_byte(sources / LITERATURE, 4)  # line 5 of the file
    outcomes = ingest_into(migrated_db, sources, "literature")
    hydrides = outcomes["literature_hydrides"]
    assert hydrides.status == "succeeded" and hydrides.n_loaded > 200
    code, reason = _rejections(migrated_db, "literature_hydrides")["line 5"]
    assert code == "undecodable_text"
    assert reason == f"line 5: byte 0xff at byte offset {offset:,} of the file is not UTF-8 text"
    assert outcomes["reference_structures"].status == "succeeded"  # ingested after it


def test_a_bad_byte_in_a_nims_row_rejects_that_row_and_keeps_it_verbatim(migrated_db, sources):
    clean = build_nims_batch(sources / NIMS)
    assert "line 13" not in {r.record_ref for r in clean.rejected}
    _insert_byte(sources / NIMS, HEADER + 9)  # line 13
    outcome = ingest_into(migrated_db, sources, "supercon")["nims_supercon"]
    assert outcome.n_rejected == len(clean.rejected) + 1
    assert _rejections(migrated_db, "nims_supercon")["line 13"][0] == "undecodable_text"
    stored = query(migrated_db, "SELECT journal FROM raw_nims_supercon WHERE line_number = 13")
    assert "\\xff" in stored[0][0]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (bytes(range(256)) * 4, "binary_file"),
        (b"data_x\n_cell_length_a 4.0\n# caf\xe9\n", "undecodable_text"),
        (b"this is not a CIF at all\n", "cif_unparsable"),
    ],
)
def test_a_garbage_cif_is_rejected_and_the_next_sources_still_run(
    migrated_db, sources, content, code
):
    (sources / STRUCTURES / "100GPa_Fm-3m_Garbage.cif").write_bytes(content)
    outcomes = ingest_into(migrated_db, sources, "literature")
    structures = outcomes["literature_structures"]
    assert (structures.n_loaded, structures.n_rejected) == (N_CIFS, 1)
    assert _rejections(migrated_db, "literature_structures")["100GPa_Fm-3m_Garbage.cif"][0] == code
    assert outcomes["literature_hydrides"].n_loaded > 200
    assert outcomes["reference_structures"].status == "succeeded"


def test_a_latin1_cif_in_the_archive_is_rejected_not_read_as_latin1(
    migrated_db, real_sources, sources
):
    with tarfile.open(real_sources / MP_TAR, "r:gz") as archive:
        member = next(m for m in archive if m.name.endswith(".cif"))
        text = archive.extractfile(member).read()
    data = text.replace(b"\n", b"\n# r\xe9sum\xe9\n", 1)
    with tarfile.open(sources / MP_TAR, "w:gz") as archive:
        info = tarfile.TarInfo("mp_structures/mp-999999.cif")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    outcome = ingest_into(migrated_db, sources, "materials-project")["mp_mirror"]
    assert (outcome.n_loaded, outcome.n_rejected) == (0, 1)
    [(code, reason)] = _rejections(migrated_db, "mp_mirror").values()
    assert code == "undecodable_text" and "byte 0xe9" in reason


@pytest.mark.parametrize("target", [LITERATURE, STANEV, NIMS])
def test_a_file_with_a_byte_order_mark_is_read_as_without(migrated_db, sources, target):
    group = "supercon" if target != LITERATURE else "literature"
    plain = ingest_into(migrated_db, sources, group)
    path = sources / target
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    with_bom = ingest_into(migrated_db, sources, group)
    for source, outcome in with_bom.items():
        if outcome.status == "unchanged":
            continue
        assert outcome.status == "succeeded", outcome.message
        assert outcome.n_unchanged == plain[source].n_loaded
        assert (outcome.n_loaded, outcome.n_retired) == (0, 0)


def test_add_entry_reads_a_bom_file_and_rejects_a_binary_cif(tmp_path):
    """The hand-entry path reads files too: a CSV saved with a BOM gives its columns, and a
    binary --cif is a one-sentence refusal rather than a UnicodeDecodeError."""
    from tcdb.ingest.hand_entries import EntryError, check_cif, read_entries_file

    entries = tmp_path / "entries.csv"
    entries.write_bytes(codecs.BOM_UTF8 + b"formula,tc_K\nLaH10,250\n")
    assert read_entries_file(entries) == [{"formula": "LaH10", "tc_K": "250"}]
    cif = tmp_path / "garbage.cif"
    cif.write_bytes(bytes(range(256)))
    with pytest.raises(EntryError, match="a NUL byte at offset 0; the file is binary"):
        check_cif(cif, "mat-any")
