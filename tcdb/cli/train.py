"""``tcdb train MODEL``: any registered model trained on a frozen snapshot, never on the live
database. The models, their snapshot kinds, profiles and own options come from
``ml.registry``; this command only reads the options and prints the model's summary."""

from __future__ import annotations

from typing import Annotated

import typer

from tcdb.cli.context import database, settings_of
from tcdb.core.errors import TcdbError

VALUE_KINDS = {int: "a whole number", float: "a number", str: "a word"}


def _models_help() -> str:
    """One paragraph per registered model: name, snapshot kind, what it is, its own options."""
    from tcdb.ml.registry import MODELS

    paragraphs = ["Train a model on a frozen snapshot (never the live database)."]
    for model in MODELS.values():
        options = "; ".join(
            f"{o.option} {o.type.__name__.upper()}: {o.help}" for o in model.overrides
        )
        paragraphs.append(
            f"{model.name} ({model.kind} snapshot): {model.help}"
            + (f" Its own options, over the profile's values: {options}." if options else "")
        )
    return "\n\n".join(paragraphs)


def _overrides(model, args: list[str]) -> dict[str, object]:
    """The model's own options among the extra arguments (``--max-epochs 300`` or
    ``--max-epochs=300``), converted to their declared types."""
    declared = {o.option: o for o in model.overrides}
    values: dict[str, object] = {}
    rest = list(args)
    while rest:
        word = rest.pop(0)
        option, _, given = word.partition("=")
        if option not in declared:
            accepted = ", ".join(declared) or "none besides --snapshot, --seed and --profile"
            raise TcdbError(f"{model.name} takes no option {word!r}; its own options: {accepted}.")
        if not given:
            if not rest:
                raise TcdbError(f"{option} needs a value.")
            given = rest.pop(0)
        override = declared[option]
        try:
            values[override.field] = override.type(given)
        except ValueError:
            kind = VALUE_KINDS.get(override.type, override.type.__name__)
            raise TcdbError(f"{option} takes {kind}, not {given!r}.") from None
    return values


def train(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="One of the models above", show_default=False)],
    snapshot: Annotated[
        str, typer.Option(help="A snapshot of the model's kind: id, id prefix or name")
    ],
    seed: Annotated[int, typer.Option(help="Seed of the splits, the weights or the trees")] = 0,
    profile: Annotated[
        str, typer.Option(help="paper | quick | smoke (a tiny test run); cvcnn also ensemble")
    ] = "quick",
) -> None:
    from tcdb.ml.contract import FitContext
    from tcdb.ml.registry import get
    from tcdb.ml.training import train as train_model
    from tcdb.store.snapshots import load_snapshot

    chosen = get(model)
    config = chosen.configure(profile, seed, **_overrides(chosen, ctx.args))
    settings = settings_of(ctx)
    frozen = load_snapshot(settings.snapshots, snapshot, db=settings.db)
    db = database(ctx, write=True)
    context = FitContext(cache_dir=settings.cache)
    run = train_model(chosen, db, frozen, settings.runs, config, profile, context)
    for line in chosen.summary(run, config, profile):
        typer.echo(line)
    typer.echo(f"artefacts: {run.path}")


train.__doc__ = _models_help()

COMMAND_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True}
