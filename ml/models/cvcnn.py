"""The structural model of Novakovic et al. (2023), a complex-valued CNN on Fourier densities
and 175 descriptors, under the model contract.

The network is ``ml.cvcnn``, its training ``ml.cvcnn_training``, a run loaded back
``ml.structural_model`` (which ``tcdb predict`` and ``tcdb morph`` use); heavy modules are
imported by the methods that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.parameters import CVCNN_PROFILES
from ml.contract import FitContext, Fitted, Model, Override
from ml.model_names import CVCNN


@dataclass(frozen=True)
class StructurePredictor:
    """A cvcnn run loaded back; predicts T_c (K) of (structure, space group number) pairs."""

    model: Any  # ml.structural_model.StructuralModel

    def predict(self, inputs):
        structures = [structure for structure, _ in inputs]
        groups = [group for _, group in inputs]
        return self.model.predict(structures, groups)[0]


class StructuralCNN(Model):
    name = CVCNN
    kind = "structures"
    help = (
        "The complex-valued CNN on Fourier densities + 175 descriptors (Novakovic et al. "
        "2023); validation r², RMSE and MAE on a seeded 80/20 split."
    )
    profiles = CVCNN_PROFILES
    overrides = (Override("epochs", int, "epochs (the best validation epoch is kept)"),)

    @property
    def config_class(self) -> type:
        from ml.cvcnn import CVCNNConfig

        return CVCNNConfig

    def record(self, config) -> dict:
        from ml.cvcnn_training import record

        return record(config)

    def fit(self, snapshot, config, context: FitContext) -> Fitted:
        from ml.cvcnn_training import fit

        return fit(snapshot, config, context.cache_dir, context.progress)

    def load(self, run) -> StructurePredictor:
        from ml.structural_model import StructuralModel

        return StructurePredictor(StructuralModel.load(run))

    def summary(self, run, config, profile) -> list[str]:
        v, m = run.metrics["validation"], run.metrics
        return [
            f"model run {run.id} on snapshot {run.snapshot_id} (profile {profile}: "
            f"{config.epochs} epochs, best {m['best_epoch'] + 1}, {m['training_seconds']:.0f} s)",
            f"validation ({v['n']} structures): r² {v['r2']:.4f}, RMSE {v['rmse_K']:.2f} K, "
            f"MAE {v['mae_K']:.2f} K (paper: r² 0.9429 after 300 epochs)",
        ]
