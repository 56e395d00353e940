"""The composition-only baseline ("T_c chem", Hamidieh 2018) under the model contract.

Training, the trees and predictions of compositions are ``ml.composition.training``; heavy
modules are imported by the methods that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tcdb.ml.composition.parameters import COMPOSITION_PROFILES
from tcdb.ml.contract import FitContext, Fitted, Model, Override
from tcdb.ml.model_names import COMPOSITION


@dataclass(frozen=True)
class CompositionPredictor:
    """A composition run loaded back; predicts T_c of compositions (element → amount), and of
    reduced formulas as the rows shown beside a structural model's (``FormulaPredictor``)."""

    run: Any  # store.model_runs.VerifiedRun
    model: Any  # its trees, loaded once (training.StoredEnsemble)

    def predict(self, inputs):
        from tcdb.ml.composition.training import predict_compositions

        return predict_compositions(self.run, list(inputs), self.model)[0]

    def prediction_rows(self, formulas) -> list[dict]:
        from tcdb.ml.composition.training import composition_prediction_rows

        return composition_prediction_rows(self.run, list(formulas), self.model)


class CompositionBaseline(Model):
    name = COMPOSITION
    kind = "structures"
    help = (
        'The composition-only model ("T_c chem"): gradient-boosted trees on the 81 Hamidieh '
        "descriptors plus element fractions and Magpie-style statistics, leaves and stopping "
        "chosen by inner validation in each training part, 3 members and a spread per "
        "prediction; 10-fold cross-validation grouped by composition unless --protocol says "
        "otherwise. Profile 'paper': Hamidieh's (2018) trees on the 81 alone; "
        "'hamidieh-quick': those capped at 63 leaves."
    )
    profiles = COMPOSITION_PROFILES
    overrides = (
        Override("protocol", str, "grouped-by-composition (default: k folds, no composition "
                 "on both sides), grouped-by-chemical-system (k folds, no element set on both "
                 "sides) or by-time (trained on the compositions first reported up to "
                 "--last-training-year, scored on the later ones, with a table per family)"),
        Override("last_training_year", int, "by-time: the last year trained on (default 2007)"),
    )  # fmt: skip

    @property
    def config_class(self) -> type:
        from tcdb.ml.composition.training import CompositionModelConfig

        return CompositionModelConfig

    def record(self, config) -> dict:
        from tcdb.ml.composition.training import record

        return record(config)

    def fit(self, snapshot, config, context: FitContext) -> Fitted:
        from tcdb.ml.composition.training import fit

        return fit(snapshot, config)

    def load(self, run) -> CompositionPredictor:
        from tcdb.ml.composition.training import load_model

        # refuses another model's run or trees that do not load, now; predictions reuse them
        return CompositionPredictor(run, load_model(run))

    def summary(self, run, config, profile) -> list[str]:
        cv = run.metrics[run.metrics.get("evaluated", "cross_validation")]
        lines = [
            f"model run {run.id} on snapshot {run.snapshot_id} (profile {profile}, "
            f"descriptors {config.descriptors}, method {config.method})",
            f"{run.metrics['protocol']}, {cv['n']:,} labels: RMSE {cv['rmse_K']:.2f} K, "
            f"MAE {cv['mae_K']:.2f} K, R² {cv['r2']:.3f} (Hamidieh 2018, grouped by "
            "composition: RMSE 9.5 K, R² 0.92)",
        ]
        if "n_without_year" in cv:
            lines.append(f"{cv['n_without_year']:,} compositions without a year left out")
        for f in run.metrics.get("by_time_families", []):
            lines.append(
                f"  {f['family']}: {f['n']:,} later, {f['n_true_above']:,} above "
                f"{f['high_K']:g} K, {f['n_predicted_above']:,} predicted above, "
                f"{f['n_found']:,} of those found; RMSE {f['rmse_K']:.2f} K"
            )
        spread = run.metrics.get("uncertainty", {})
        if spread.get("n"):
            lines.append(
                f"spread: {spread['within_1_sigma']:.1%} of labels within ±1σ, "
                f"{spread['within_2_sigma']:.1%} within ±2σ (normal: 68.3 %, 95.4 %)"
            )
        return lines
