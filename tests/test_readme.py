"""Every command the README shows is run: here, in the README's order, or by CI (.ci/run).

A ``make`` command runs the lines its recipe gives for the README's arguments (``make -n``
prints them, expanding the recursive ``$(MAKE)`` too); a ``tcdb`` line, the README's or a
recipe's, runs through the entry point in this process, which saves a new Python and its
imports per command. A command line that has already run is not run again: ``make run``
(``tcdb pipeline``, whose ``--dry-run`` lists its steps) runs the same ``tcdb train``,
``predict`` and ``report`` lines the README then shows one by one, and
running them twice only repeats the trainings (what a rerun does, skipping unchanged files or
migrations, is guarded by the ingest and db tests).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from tests.commands import REPO, invoke_tcdb

README = (REPO / "README.md").read_text()
RUN_BY_CI = ("make install", "make test")


def readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    lines = (line.split("  #")[0].strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def recipe_lines(command: list[str], env: dict[str, str]) -> list[list[str]]:
    """The commands ``make`` would run for ``command``, as argument lists, nested makes
    expanded."""
    printed = subprocess.run(
        [command[0], "-n", "--no-print-directory", *command[1:]],
        cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    lines = [shlex.split(line) for line in printed.stdout.splitlines() if line.strip()]
    return [argv for argv in lines if Path(argv[0]).name != "make"]


def pipeline_steps(
    args: tuple[str, ...], settings: dict[str, str], printed: str
) -> list[tuple[str, ...]]:
    """The commands ``tcdb pipeline`` (``make run``) ran, as its ``--dry-run`` lists them; each
    has its line in the table the job ended with."""
    if "pipeline" not in args:
        return []
    listed = invoke_tcdb(*args, "--dry-run", env=settings)
    assert listed.returncode == 0, listed.stderr
    steps = [tuple(shlex.split(line)[1:]) for line in listed.stdout.splitlines() if line]
    table = printed[printed.rindex("\nstep ") + 1 :].splitlines()
    assert len(table) == 1 + len(steps) + 1 and table[-1].startswith("total "), printed
    assert all(re.match(r"\S.* +\d+\.\d  \S", row) for row in table[1:-1]), printed
    return steps


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
    settings = {"TCDB_DB": str(tmp_path / "tcdb.duckdb"), "TCDB_SOURCES": str(sources),
                "TCDB_CURATED": str(tmp_path / "curated"),
                "TCDB_REPORTS": str(tmp_path / "reports")}  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    env.pop("MP_API_KEY", None)
    env.update(settings, PROFILE="smoke")
    commands = [c for c in readme_commands() if c not in RUN_BY_CI]
    assert commands[0] == "make run", "the README starts with the main job"

    ran: list[tuple[str, ...]] = []  # the tcdb argument lists, in the order they ran
    trainings_asked = []
    for command in commands:
        words = shlex.split(command)
        lines = recipe_lines(words, env) if words[0] == "make" else [words]
        assert lines, f"{command} runs nothing"
        for argv in lines:
            if Path(argv[0]).name == "tcdb":
                args = tuple(argv[1:])
                if args[:1] == ("train",):
                    trainings_asked.append(args)
                if args in ran:
                    continue
                result = invoke_tcdb(*args, env=settings)
                ran.append(args)
                steps = pipeline_steps(args, settings, result.stdout)
                ran += steps
                trainings_asked += [step for step in steps if step[:1] == ("train",)]
            else:
                result = subprocess.run(argv, cwd=REPO, env=env, capture_output=True,
                                        text=True, timeout=300)  # fmt: skip
            shown = " ".join(argv)
            assert result.returncode == 0, f"{command}: {shown}:\n{result.stdout}\n{result.stderr}"
            assert "Traceback" not in result.stderr, f"{command}: {shown}:\n{result.stderr}"

    frozen = [p for p in (tmp_path / "snapshots").iterdir() if p.is_dir()]
    assert len(frozen) == 4  # two from make run, plus demo and stanev
    runs = sorted(p.name.split("-2")[0] for p in (tmp_path / "runs").iterdir())
    # make run trains the hydride, composition and structural models, the structural network
    # under the grouped protocol and then the paper one, and the structure experts; the
    # README's make train lines ask for trainings it already ran
    assert runs == ["composition", "cvcnn", "cvcnn", "hydride-mlp", "structure-experts"]
    assert len(set(trainings_asked)) == len(runs) < len(trainings_asked)
