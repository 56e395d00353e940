"""The structural model of Novakovic et al. (2023), a complex-valued CNN on Fourier densities
and 175 descriptors, under the model contract.

The network is ``ml.structural.cvcnn``, its training ``ml.structural.training``, a run loaded back
``ml.structural.predictor`` (which ``tcdb predict`` and ``tcdb morph`` use); heavy modules are
imported by the methods that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tcdb.ml.contract import FitContext, Fitted, Model, Override
from tcdb.ml.model_names import CVCNN
from tcdb.ml.structural.parameters import (
    CVCNN_CONFIGURATIONS,
    CVCNN_PROFILES,
    DEFAULT_CVCNN_CONFIGURATION,
)


@dataclass(frozen=True)
class StructurePredictor:
    """A cvcnn run loaded back; predicts T_c (K) of (structure, space group number) pairs."""

    model: Any  # ml.structural.predictor.StructuralModel

    def predict(self, inputs):
        structures = [structure for structure, _ in inputs]
        groups = [group for _, group in inputs]
        return self.model.predict(structures, groups)[0]  # the mean over members


class StructuralCNN(Model):
    name = CVCNN
    kind = "structures"
    help = (
        "The complex-valued CNN on Fourier densities + 175 descriptors (Novakovic et al. "
        "2023); r², RMSE and MAE under an evaluation protocol, beside composition and "
        "descriptor baselines fitted and scored on the same split. Profile 'ensemble': "
        "300 epochs and 5 networks, so every prediction has a spread."
    )
    profiles = CVCNN_PROFILES
    overrides = (
        Override("configuration", str,
                 f"{' | '.join(CVCNN_CONFIGURATIONS)} (default {DEFAULT_CVCNN_CONFIGURATION}), "
                 "the network, optimiser and Fourier input as built from the paper's text "
                 "(tcdb) or as the authors' public code has them (authors), under the "
                 "profile's epochs and --epochs (docs/models.md)"),
        Override("epochs", int, "epochs (the best validation epoch is kept)"),
        Override("members", int, "networks on the same split, each from its own weight seed "
                 "(seed + k); predictions are their mean with a spread"),
        Override("protocol", str, "paper (default: seeded random 80/20 over structures, "
                 "checkpoint picked and scored on the same 20 %, so optimistic) or grouped "
                 "(training, validation and test grouped by reduced formula; the checkpoint is "
                 "picked on validation, the test part is scored once), grouped-by-system "
                 "(the same grouped by element set: systems never seen) or by-time (trained "
                 "on structures first reported up to --last-training-year but the latest of "
                 "those years, which pick the checkpoint; tested on later ones, with a "
                 "per-family table)"),
        Override("last_training_year", int, "by-time: the last year before the test (2007)"),
        Override("test_fraction", float, "share of the formulas (systems) in the test part "
                 "(grouped, grouped-by-system)"),
        Override("baseline_trees", str, "paper | quick | smoke: the composition baselines' "
                 "tree settings (a composition profile; default: the profile's)"),
    )  # fmt: skip

    @property
    def config_class(self) -> type:
        from tcdb.ml.structural.cvcnn import CVCNNConfig

        return CVCNNConfig

    def configure(self, profile: str = "quick", seed: int = 0, **overrides: Any) -> Any:
        """The named configuration's values, under the profile's (epochs), under the options
        given explicitly."""
        from tcdb.ml.structural.cvcnn import configured

        super().configure(profile, seed, **overrides)  # checks the profile and option names
        name = overrides.pop("configuration", None) or DEFAULT_CVCNN_CONFIGURATION
        given = {k: v for k, v in overrides.items() if v is not None}
        return configured(name, seed=seed, **(dict(self.profiles[profile]) | given))

    def record(self, config) -> dict:
        from tcdb.ml.structural.training import record

        return record(config)

    def fit(self, snapshot, config, context: FitContext) -> Fitted:
        from tcdb.ml.structural.training import fit

        return fit(snapshot, config, context)

    def load(self, run) -> StructurePredictor:
        from tcdb.ml.structural.predictor import StructuralModel

        return StructurePredictor(StructuralModel.load(run))

    def summary(self, run, config, profile) -> list[str]:
        from tcdb.ml.structural.training import summary_lines

        m = run.metrics
        best = ", ".join(str(e + 1) for e in m.get("member_best_epochs", [m["best_epoch"]]))
        return [
            f"model run {run.id} on snapshot {run.snapshot_id} (profile {profile}, "
            f"configuration {config.configuration}: {config.epochs} epochs, best {best}, "
            f"{m['training_seconds']:.0f} s)",
            *summary_lines(m),
        ]
