"""``--engine``, ``--address`` and ``--job``: the options every bulk command shares.

Why one place: ``tcdb morph run``, ``tcdb predict`` and ``tcdb screen hydrides`` take the
same three options with the same meaning (docs/scaling.md); a user who never passes them sees
the local engine, as before.
"""

from __future__ import annotations

from typing import Annotated

import typer

EngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        help="local (this machine, the default) | ray (a Ray cluster: sharded and resumable, "
        "see docs/scaling.md)",
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="With --engine ray: 'auto' (the cluster 'ray start' started on this machine), "
        "HOST:PORT of its head or ray://HOST:PORT; default: Ray started here for this command",
        show_default=False,
    ),
]
JobOption = Annotated[
    str | None,
    typer.Option(
        "--job",
        help="With --engine ray: the name of the screening job to run or resume: letters, "
        "digits, '-' and '_' (default: an id made from the inputs, so the same command "
        "resumes its job)",
        show_default=False,
    ),
]


def engine_choice(engine: str, address: str | None, job: str | None):
    """The options checked together (``ml.screening_engine.EngineChoice``)."""
    from tcdb.ml.screening_engine import EngineChoice

    return EngineChoice(engine, address, job)


def describe(outcome) -> str:
    """One line on what a run of a job did: how many shards were computed, loaded, skipped."""
    job = outcome.job
    parts = [f"{outcome.computed} computed"]
    if outcome.loaded_from_files:
        parts.append(f"{outcome.loaded_from_files} loaded from earlier files")
    if outcome.already_finished:
        parts.append(f"{outcome.already_finished} already stored")
    return f"job {job.id}: {job.shards} shard(s), {', '.join(parts)}; shards in {job.folder}"
