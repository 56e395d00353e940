"""The (T_c, P) ensemble of Hutcheon et al. (2020) under the model contract.

Training is ``ml.hydride.training`` over ``ml.hydride.ensemble``; screening every EH_n is
``tcdb screen hydrides``. Heavy modules are imported by the methods that need them.
"""

from __future__ import annotations

from tcdb.ml.contract import FitContext, Fitted, Model, Override
from tcdb.ml.hydride.parameters import HYDRIDE_PROFILES
from tcdb.ml.model_names import HYDRIDE_MLP


class HydrideMLP(Model):
    name = HYDRIDE_MLP
    kind = "hydrides"
    help = (
        "The (T_c, P) network of Hutcheon et al. (2020): 64 members, each on a random 75 %, "
        "trained as an inner cross-validation chooses; in-sample, out-of-fold and grouped "
        "errors beside linear and forest baselines, and the one of network and forest that "
        "ranks the screen."
    )
    profiles = HYDRIDE_PROFILES
    overrides = (
        Override("members", int, "ensemble members (validation splits)"),
        Override("max_epochs", int, "most epochs the inner search may choose"),
        Override("evaluation_members", int, "members of each outer fold's ensemble"),
    )

    @property
    def config_class(self) -> type:
        from tcdb.ml.hydride.ensemble import HydrideMLPConfig

        return HydrideMLPConfig

    def record(self, config) -> dict:
        from tcdb.ml.hydride.training import record

        return record(config)

    def fit(self, snapshot, config, context: FitContext) -> Fitted:
        from tcdb.ml.hydride.training import fit

        return fit(snapshot, config)

    def load(self, run):
        """Predicts (T_c K, P GPa) of (element, n_h) pairs."""
        from tcdb.ml.hydride.training import load

        return load(run)

    def summary(self, run, config, profile) -> list[str]:
        m = run.metrics
        chosen = m["hyperparameters"]
        batch = chosen["batch_size"] or "full"
        lines = [
            f"model run {run.id} on snapshot {run.snapshot_id} ({m['n_points']} points, profile "
            f"{profile}: {config.members} members)",
            f"chosen by inner cross-validation: learning rate {chosen['learning_rate']:g}, L2 "
            f"{chosen['l2']:g}, batch {batch}, {chosen['epochs']} epochs"
            if config.search
            else f"fixed: learning rate {chosen['learning_rate']:g}, L2 {chosen['l2']:g}, "
            f"batch {batch}, {chosen['epochs']} epochs",
            f"{'protocol':<24} {'model':<8} {'n':>4} {'T_c RMSE K':>10} {'T_c R²':>7} "
            f"{'P RMSE GPa':>11} {'P R²':>6} {'T_c in ±1σ/±2σ':>15} {'P in ±1σ/±2σ':>13}",
        ]
        for protocol in PROTOCOLS_SHOWN:
            for model in ("network", "linear", "forest"):
                s = m.get(f"{model} {protocol}")
                if s is None:
                    continue
                lines.append(
                    f"{protocol:<24} {model:<8} {s['n']:>4} {s['tc_rmse']:>10.1f} "
                    f"{s['tc_r2']:>7.3f} {s['pressure_rmse']:>11.1f} {s['pressure_r2']:>6.3f}"
                    + _coverage(s)
                )
        chosen = m.get("screening_model")
        if chosen is not None:
            from tcdb.ml.hydride.parameters import METRIC_WORDS

            unit = "K" if chosen["metric"].startswith("tc") else "GPa"
            scores = ", ".join(f"{model} {v:.1f} {unit}" for model, v in chosen["scores"].items())
            lines.append(
                f"the screen ranks with the {chosen['model']}: {chosen['rule']} "
                f"({METRIC_WORDS.get(chosen['metric'], chosen['metric'])}: {scores})"
            )
        return lines


def _coverage(scored: dict) -> str:
    """The shares of labels within ±1σ and ±2σ of T_c and of P, when the model has a spread."""
    if "tc_within_1sd" not in scored:
        return ""
    shares = [f"{scored[f'{t}_within_1sd']:.0%}/{scored[f'{t}_within_2sd']:.0%}"
              for t in ("tc", "pressure")]  # fmt: skip
    return f" {shares[0]:>15} {shares[1]:>13}"


# The three figures of ml.hydride.evaluation, then the paper's own estimate.
PROTOCOLS_SHOWN = ("in-sample", "random-folds", "grouped-by-composition", "random-repeated")
