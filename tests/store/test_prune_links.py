"""``tcdb prune`` meeting symbolic links in the runs and cache folders: a link is never
followed, deleted through or removed, and pruning goes on with everything else."""

from __future__ import annotations

import pytest

from tcdb.schema.database import connect
from tcdb.store.model_runs import finish_run, start_run
from tcdb.store.prune import apply, plan_runs
from tests.commands import invoke_tcdb
from tests.conftest import query


def _train(conn, root, model: str = "composition") -> str:
    run = start_run(model, "snap-c", {"model": model}, 0, root)
    (run.path / "weights.bin").write_bytes(b"\1" * 4096)
    finish_run(conn, run)
    return run.id


@pytest.fixture
def linked(migrated_db, tmp_path):
    """Three composition runs; beside them, links planted in runs/ and cache/: one to a folder
    outside holding a file someone cares about, one to a kept run, one to a file, one dangling;
    and the oldest run's folder replaced by a link to a folder outside."""
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    conn = connect(migrated_db)
    try:
        oldest, older, newest = (_train(conn, runs) for _ in range(3))
    finally:
        conn.close()
    precious = tmp_path / "home" / "thesis"
    precious.mkdir(parents=True)
    (precious / "chapter1.tex").write_text("years of work")
    moved = tmp_path / "other-disk" / oldest
    moved.parent.mkdir()
    (runs / oldest).rename(moved)
    (runs / oldest).symlink_to(moved, target_is_directory=True)
    links = {
        "out": runs / "evil",
        "in": runs / "alias",
        "file": runs / "note",
        "dangling": runs / "gone",
        "cache": cache / ("a" * 64),
    }
    links["out"].symlink_to(precious, target_is_directory=True)
    links["in"].symlink_to(runs / newest, target_is_directory=True)
    links["file"].symlink_to(precious / "chapter1.tex")
    links["dangling"].symlink_to(tmp_path / "nowhere")
    cache.mkdir()
    links["cache"].symlink_to(precious, target_is_directory=True)
    return {"db": migrated_db, "runs": runs, "oldest": oldest, "older": older,
            "newest": newest, "precious": precious, "moved": moved, "links": links}  # fmt: skip


def _status(db, run_id: str) -> str:
    return query(db, "SELECT status FROM model_run WHERE id = ?", run_id)[0][0]


def test_prune_goes_on_past_links_and_never_deletes_what_they_point_at(linked):
    result = invoke_tcdb("--db", str(linked["db"]), "prune", "--keep", "1")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert not (linked["runs"] / linked["older"]).exists()
    assert _status(linked["db"], linked["older"]) == "pruned"
    assert (linked["precious"] / "chapter1.tex").read_text() == "years of work"
    assert (linked["runs"] / linked["newest"] / "weights.bin").is_file()
    for name, link in linked["links"].items():
        assert link.is_symlink(), link
        if name != "cache":  # cache links are logged; runs links are listed as kept too
            assert f"kept: {link} stays: it is a symbolic link" in result.stdout, link
    # a registered run whose folder is a link keeps its row and what the link points at
    assert _status(linked["db"], linked["oldest"]) == "succeeded"
    assert (linked["moved"] / "weights.bin").is_file()
    assert f"kept: {linked['runs'] / linked['oldest']} stays: it is a symbolic link" in (
        result.stdout
    )


def test_a_folder_swapped_for_a_link_after_the_plan_is_left_and_the_rest_goes(linked):
    conn = connect(linked["db"])
    try:
        plan = plan_runs(conn, linked["runs"], keep=1)
        doomed = linked["runs"] / linked["older"]
        assert [r.path for r in plan.removals] == [doomed]
        victim = linked["runs"] / "victim"
        doomed.rename(victim)
        doomed.symlink_to(victim, target_is_directory=True)  # now points at a folder inside
        stray = linked["runs"] / "stray"
        stray.mkdir()
        plan.removals.append(type(plan.removals[0])(stray, 0, "test"))
        deleted, _ = apply(conn, plan.removals, [linked["runs"]])
    finally:
        conn.close()
    assert deleted == 1 and not stray.exists()
    assert doomed.is_symlink() and (victim / "weights.bin").is_file()
