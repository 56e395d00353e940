"""The structure experts under the model contract (``predictor.py`` loads a run back)."""

from __future__ import annotations

from tcdb.ml.contract import FitContext, Fitted, Model, Override
from tcdb.ml.structure_experts.parameters import EXPERTS_PROFILES


class StructureExperts(Model):
    name = "structure-experts"
    kind = "structures"
    help = (
        "Composition trees (on SuperCon entries and on the training structures) for compounds "
        "and a structure forest for hydrides (more than half of atoms H), each with a "
        "calibrated spread and an applicability domain; scored on the structural network's "
        "split beside each kind of composition trees alone and a descriptor forest (grouped "
        "by formula unless --protocol says otherwise)."
    )
    profiles = EXPERTS_PROFILES
    overrides = (
        Override(
            "protocol",
            str,
            "grouped (default: training, validation and test grouped "
            "by reduced formula), grouped-by-system, by-time (the spread set on the latest "
            "years up to --last-training-year, kept out of training) or paper (random 80/20), "
            "the structural network's protocols on the same rows",
        ),
        Override("last_training_year", int, "by-time: the last year before the test (2007)"),
        Override("test_fraction", float, "share of the formulas (systems) in the test part"),
    )

    @property
    def config_class(self) -> type:
        from tcdb.ml.structure_experts.training import ExpertsConfig

        return ExpertsConfig

    def record(self, config) -> dict:
        from tcdb.ml.structure_experts.training import record

        return record(config)

    def fit(self, snapshot, config, context: FitContext) -> Fitted:
        from tcdb.ml.structure_experts.training import fit

        return fit(snapshot, config, context)

    def load(self, run):
        from tcdb.ml.structure_experts.predictor import ExpertsPredictor, load_experts

        return ExpertsPredictor(load_experts(run))

    def summary(self, run, config, profile) -> list[str]:
        from tcdb.ml.structure_experts.reporting import summary_lines

        return [
            f"model run {run.id} on snapshot {run.snapshot_id} (profile {profile})",
            *summary_lines(run.metrics),
        ]
