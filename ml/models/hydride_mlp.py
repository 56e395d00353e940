"""The (T_c, P) ensemble of Hutcheon et al. (2020) under the model contract.

Training is ``ml.hydride_training`` over ``ml.hydride_ensemble``; screening every EH_n is
``tcdb screen hydrides``. Heavy modules are imported by the methods that need them.
"""

from __future__ import annotations

from core.parameters import HYDRIDE_PROFILES
from ml.contract import FitContext, Fitted, Model, Override
from ml.model_names import HYDRIDE_MLP


class HydrideMLP(Model):
    name = HYDRIDE_MLP
    kind = "hydrides"
    help = (
        "The (T_c, P) network of Hutcheon et al. (2020): 64 members, each on its own random "
        "25 % validation split; out-of-fold metrics beside a linear baseline."
    )
    profiles = HYDRIDE_PROFILES
    overrides = (
        Override("members", int, "ensemble members (validation splits)"),
        Override("max_epochs", int, "epochs (each member keeps its best)"),
    )

    @property
    def config_class(self) -> type:
        from ml.hydride_ensemble import HydrideMLPConfig

        return HydrideMLPConfig

    def record(self, config) -> dict:
        from ml.hydride_training import record

        return record(config)

    def fit(self, snapshot, config, context: FitContext) -> Fitted:
        from ml.hydride_training import fit

        return fit(snapshot, config)

    def load(self, run):
        """Predicts (T_c K, P GPa) of (element, n_h) pairs."""
        from ml.hydride_training import load

        return load(run)

    def summary(self, run, config, profile) -> list[str]:
        mlp, linear = run.metrics["mlp_ensemble"], run.metrics["linear_baseline"]
        lines = [
            f"model run {run.id} on snapshot {run.snapshot_id} ({run.metrics['n_points']} "
            f"points, profile {profile}: {config.members} members, up to {config.max_epochs} "
            "epochs)",
            f"{'out of fold':<16} {'T_c RMSE K':>10} {'T_c MAE K':>10} {'T_c R²':>7} "
            f"{'P RMSE GPa':>11} {'P R²':>6}",
        ]
        for label, m in (("MLP ensemble", mlp), ("linear baseline", linear)):
            lines.append(
                f"{label:<16} {m['tc_rmse']:>10.1f} {m['tc_mae']:>10.1f} {m['tc_r2']:>7.3f} "
                f"{m['pressure_rmse']:>11.1f} {m['pressure_r2']:>6.3f}"
            )
        return lines
