"""Files nothing vouches for: a FIFO, a link to /dev/zero, a file past its limit, an .npz
whose header claims 7 TiB. Each is refused at once with one sentence, never read."""

from __future__ import annotations

import io
import os
import signal
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy

from tcdb.core.hashing import file_sha256, folder_sha256
from tcdb.core.safe_reads import (
    ArrayArchiveError,
    FileRefusedError,
    folder_member_problem,
    npz_arrays,
    read_limited,
)
from tcdb.core.text import read_source_text

TIB = 1 << 40


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """A read that blocks (a FIFO waiting for a writer) fails the test instead of hanging it."""

    def expired(signum, frame):
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "fifo.cif"
    os.mkfifo(path)
    return path


@pytest.fixture
def zero_link(tmp_path) -> Path:
    path = tmp_path / "zero.cif"
    path.symlink_to("/dev/zero")
    return path


def test_a_fifo_is_refused_at_once_and_never_opened(fifo):
    with deadline(5), pytest.raises(FileRefusedError) as refused:
        read_limited(fifo, 1 << 20)
    assert refused.value.reason_code == "not_a_regular_file"
    assert str(refused.value) == f"{fifo} is a FIFO, not a regular file"


def test_a_link_to_dev_zero_is_refused_as_a_device_not_read_into_memory(zero_link):
    with deadline(5), pytest.raises(FileRefusedError) as refused:
        read_limited(zero_link, 1 << 20)
    assert refused.value.reason_code == "not_a_regular_file"
    assert "is a character device, not a regular file" in str(refused.value)


def test_a_file_past_its_limit_is_refused_before_it_is_read_and_one_at_it_is_read(tmp_path):
    path = tmp_path / "big.cif"
    with open(path, "wb") as handle:  # sparse: 1 GiB on disk costs nothing
        handle.truncate(1 << 30)
    with pytest.raises(FileRefusedError) as refused:
        read_limited(path, 1 << 20, limit_name="max_structure_bytes")
    assert refused.value.reason_code == "file_too_large"
    assert str(refused.value) == (
        f"{path} holds 1,073,741,824 bytes, more than the limit of 1,048,576 bytes "
        "(max_structure_bytes)"
    )
    exact = tmp_path / "exact.cif"
    exact.write_bytes(b"x" * 100)
    assert read_limited(exact, 100) == b"x" * 100


def test_a_dangling_link_and_a_folder_are_refused_by_what_they_are(tmp_path):
    (tmp_path / "nothing.cif").symlink_to(tmp_path / "missing")
    (tmp_path / "folder.cif").mkdir()
    for name, words in (("nothing.cif", "a symbolic link to nothing"), ("folder.cif", "a folder")):
        with pytest.raises(FileRefusedError, match=words):
            read_limited(tmp_path / name, 100)


def test_hashing_refuses_a_fifo_and_a_folder_hash_names_it_without_opening_it(
    tmp_path, fifo, zero_link
):
    (tmp_path / "real.cif").write_text("data_x\n")
    with deadline(5):
        with pytest.raises(FileRefusedError, match="is a FIFO"):
            file_sha256(fifo)
        first = folder_sha256(tmp_path, "*.cif")
        assert folder_sha256(tmp_path, "*.cif") == first
    assert folder_member_problem(tmp_path, fifo).reason_code == "not_a_regular_file"
    assert folder_member_problem(tmp_path, zero_link).reason_code == "outside_folder"
    assert folder_member_problem(tmp_path, tmp_path / "real.cif") is None


def test_a_source_table_that_is_a_fifo_or_too_large_is_refused(tmp_path, fifo):
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n")
    with deadline(5), pytest.raises(FileRefusedError, match="is a FIFO"):
        read_source_text(fifo)
    with pytest.raises(FileRefusedError, match="max_table_bytes"):
        read_source_text(table, limit=4)
    assert read_source_text(table).text == "a,b\n1,2\n"


# ---------------------------------------------------------------------------------- .npz


def npz_claiming(shape: tuple[int, ...], payload: bytes = b"\0" * 16) -> bytes:
    """An uncompressed .npz whose one member's header claims ``shape`` of float64 but holds
    only ``payload``."""
    member = io.BytesIO()
    npy.write_array_header_1_0(member, {"descr": "<f8", "fortran_order": False, "shape": shape})
    member.write(payload)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as out:
        out.writestr("w0.npy", member.getvalue())
    return archive.getvalue()


def test_an_npz_header_claiming_7_tib_is_refused_before_numpy_allocates():
    crafted = npz_claiming((7 * TIB // 8,))
    with pytest.raises(ArrayArchiveError) as refused:
        npz_arrays(crafted, "weights.npz")
    assert str(refused.value) == (
        "weights.npz: array 'w0.npy' claims shape (962072674304,) of float64 "
        "(7,696,581,394,432 bytes) but holds 16 bytes"
    )


def test_an_npz_refuses_object_arrays_members_that_are_no_arrays_and_unpacking_bombs():
    buffer = io.BytesIO()
    np.savez(buffer, bad=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ArrayArchiveError, match="Python objects"):
        npz_arrays(buffer.getvalue(), "a.npz")

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr("payload.pkl", b"cos\nsystem\n")
    with pytest.raises(ArrayArchiveError, match=r"is not an \.npy array"):
        npz_arrays(buffer.getvalue(), "b.npz")

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("w.npy", npz_member(np.zeros(1 << 20)))  # 8 MiB of zeros, deflated
    with pytest.raises(ArrayArchiveError, match="would unpack to 8,388,736 bytes"):
        npz_arrays(buffer.getvalue(), "c.npz", max_unpacked_bytes=1 << 20)

    with pytest.raises(ArrayArchiveError, match=r"is not an \.npz archive"):
        npz_arrays(b"not a zip", "d.npz")


def npz_member(array: np.ndarray) -> bytes:
    member = io.BytesIO()
    npy.write_array(member, array)
    return member.getvalue()


def test_good_npz_archives_read_whole_in_memory_and_from_a_file(tmp_path):
    arrays = {"a": np.arange(5.0), "b": np.array(["x", "yz"]), "c": np.eye(3, dtype=np.float32)}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    (tmp_path / "f.npz").write_bytes(buffer.getvalue())
    for source in (buffer.getvalue(), tmp_path / "f.npz"):
        loaded = npz_arrays(source, "f.npz")
        assert sorted(loaded) == ["a", "b", "c"]
        for key, value in arrays.items():
            assert np.array_equal(loaded[key], value) and loaded[key].dtype == value.dtype
