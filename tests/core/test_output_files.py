"""The atomic writer and the protected paths on their own: a failed or interrupted write
leaves the old file as it was and no temporary file behind; a link at the target is replaced,
not written through; the folders the check protects are the ones the store uses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tcdb.core.atomic_files import atomic_open, replacing, write_text_atomically
from tcdb.core.errors import OutputPathError
from tcdb.core.output_paths import protected_paths
from tcdb.core.settings import Settings
from tcdb.store.screening_jobs import jobs_folder
from tests.cli.test_output_paths import file_size_limit


def _settings(tmp_path: Path) -> Settings:
    return Settings(db=tmp_path / "data" / "tcdb.duckdb", sources=tmp_path / "sources",
                    curated=tmp_path / "curated")  # fmt: skip


def test_the_jobs_folder_protected_is_the_one_screenings_use(tmp_path):
    settings = _settings(tmp_path)
    folders = dict(protected_paths(settings).folders)
    assert folders["screening jobs folder"] == jobs_folder(settings.db)
    assert folders["model runs folder"] == settings.runs


def test_a_write_the_kernel_refuses_half_way_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    with file_size_limit(4096), pytest.raises(OutputPathError, match="left as it was"):
        write_text_atomically(path, "x" * 100_000)
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_an_interrupted_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old\n")
    with pytest.raises(KeyboardInterrupt), atomic_open(path) as handle:
        handle.write("half")
        raise KeyboardInterrupt
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


@pytest.mark.parametrize("durable", (True, False))
def test_a_link_at_the_target_is_replaced_not_followed(tmp_path, durable):
    """A link planted in a report folder (``index.html`` → the database) is replaced by the
    page, synced or not (the site's files are not); the file it pointed at is untouched."""
    victim = tmp_path / "tcdb.duckdb"
    victim.write_bytes(b"database")
    link = tmp_path / "index.html"
    link.symlink_to(victim)
    write_text_atomically(link, "<html>", durable=durable)
    assert victim.read_bytes() == b"database"
    assert not link.is_symlink() and link.read_text() == "<html>"


def test_replacing_gives_a_path_with_the_suffix_and_a_new_file_the_usual_mode(tmp_path):
    path = tmp_path / "figure.png"
    with replacing(path) as temp:
        assert temp.parent == tmp_path and temp.suffix == ".png" and temp.name.startswith(".")
        temp.write_bytes(b"png")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_file_in_a_missing_folder_is_one_sentence(tmp_path):
    with pytest.raises(OutputPathError, match=r"Could not write .*No such file"):
        write_text_atomically(tmp_path / "nowhere" / "x.csv", "x")


def test_a_database_reached_through_a_linked_folder_is_still_the_database(tmp_path):
    """``--db`` given through a linked folder: its WAL is named after the path DuckDB was
    given, and a path to it through the real folder is refused too."""
    real = tmp_path / "real"
    real.mkdir()
    (real / "tcdb.duckdb").write_bytes(b"db")
    (tmp_path / "linked").symlink_to(real)
    protected = protected_paths(Settings(db=tmp_path / "linked" / "tcdb.duckdb"))
    for path in (real / "tcdb.duckdb", real / "tcdb.duckdb.wal", tmp_path / "linked" / "x.csv"):
        if path.name == "x.csv":
            assert protected.check_file(path) == real / "x.csv"
        else:
            with pytest.raises(OutputPathError, match="Refusing to write"):
                protected.check_file(path)
