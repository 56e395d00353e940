"""Every command the README shows is run: here, in the README's order, or by CI (.ci/run)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.conftest import REPO

README = (REPO / "README.md").read_text()
RUN_BY_CI = ("make install", "make test")


def readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    lines = (line.split("  #")[0].strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def test_ci_runs_the_install_and_test_commands():
    ci = (REPO / ".ci" / "run").read_text()
    for command in RUN_BY_CI:
        assert command in readme_commands()
        assert command in ci


def test_every_readme_command_runs_in_order(real_sources, tmp_path: Path):
    """A reader following the README: each command runs on what the ones before it left.

    The sources are the first rows of every real file and training uses the smoke profile
    (PROFILE=smoke), so that the whole README runs in a few minutes; `make run` on all the data
    with the quick profile is the same commands on more rows."""
    from tests.ingest.slices import make_sources

    sources = make_sources(real_sources, tmp_path / "sources", nims_rows=800, mp_structures=40)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    env.pop("MP_API_KEY", None)
    env.update(
        TCDB_DB=str(tmp_path / "tcdb.duckdb"),
        TCDB_SOURCES=str(sources),
        TCDB_CURATED=str(tmp_path / "curated"),
        PROFILE="smoke",
        PATH=f"{REPO / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    commands = [c for c in readme_commands() if c not in RUN_BY_CI]
    assert commands[0] == "make run", "the README starts with the main job"
    for command in commands:
        result = subprocess.run(
            command, shell=True, cwd=REPO, env=env, capture_output=True, text=True, timeout=900
        )
        assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, command
    frozen = [p for p in (tmp_path / "snapshots").iterdir() if p.is_dir()]
    assert len(frozen) == 3  # two from make run, plus demo
    runs = sorted(p.name.split("-2")[0] for p in (tmp_path / "runs").iterdir())
    # make run trains the hydride, composition and structural models; each of the README's
    # make train lines adds one run
    trains = [c for c in commands if c.startswith("make train")]
    assert len(runs) == 3 + len(trains)
