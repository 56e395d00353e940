"""Every ``--help`` answers without loading a heavy library.

A help is what a user types to find a command, so it must answer at once: TensorFlow,
pymatgen, pandas, scikit-learn, DuckDB … are imported inside the commands that use them, and the
settings (pydantic-settings) are read only when a command first needs them. How long each help
takes is measured by ``benchmarks/help_latency.py``; here, what each one loads.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.commands import REPO

HEAVY = (
    "tensorflow",
    "tf_keras",
    "cvnn",
    "pymatgen",
    "spglib",
    "sklearn",
    "lightgbm",
    "pandas",
    "numpy",
    "scipy",
    "pyarrow",
    "duckdb",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "ray",
    "plotly",
    "mendeleev",
    "mp_api",
    "pydantic_settings",
)

# In one fresh process: `tcdb --help` and the help of every command and group under it, walked
# from the click command typer builds (built once: typer builds it again on every call of the
# app, a cost each user's process pays once); then which heavy libraries were loaded.
EVERY_HELP = """
import contextlib, io, json, sys, typer
from tcdb.cli import app

def paths(command, path=()):
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from paths(sub, (*path, name))

command = typer.main.get_command(app)
helps, failed = 0, []
for path in paths(command):
    with contextlib.redirect_stdout(io.StringIO()) as shown:
        try:
            command.main(args=[*path, "--help"], prog_name="tcdb")
        except SystemExit as exc:
            if exc.code or "--help" not in shown.getvalue():
                failed.append(" ".join(path))
    helps += 1
loaded = [name for name in json.loads(HEAVY) if name in sys.modules]
print(json.dumps({"helps": helps, "failed": failed, "loaded": loaded}))
"""


def test_no_help_loads_a_heavy_library():
    code = f"HEAVY = {json.dumps(json.dumps(HEAVY))}\n{EVERY_HELP}"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome["helps"] > 30, outcome  # the root, the groups and their commands
    assert outcome["failed"] == []
    assert outcome["loaded"] == []
