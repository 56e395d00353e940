"""The hydride model's training and its three error figures, as the report shows them.

Why apart from ``reports.figures`` and ``reports.tables``: both read the same run artefacts
(the inner search's curves, the kept members' per-epoch errors, the metrics named by protocol)
and say the same thing: how the network was trained, how closely it fits, how well it
predicts, whether the simple models beat it, how often the spreads cover the labels, and which
model ranks the screen.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from tcdb.reports.inputs import MissingInput, ReportInputs

PAPER_IN_SAMPLE_K = 33.7  # Hutcheon et al. 2020, as the 2024 review quotes it
PROTOCOLS = {
    "in-sample": "in-sample (fitted and scored on every point)",
    "random-folds": "out of fold (random folds)",
    "grouped-by-composition": "grouped by formula EH_n (folds)",
    "random-repeated": "paper's estimate (points each member held out)",
}
MODELS = ("network", "linear", "forest")


def run_with_protocols(inputs: ReportInputs):
    """The latest hydride run, if it has the three error figures."""
    run = inputs.latest_run("hydride-mlp")
    if "network in-sample" not in run.manifest["metrics"]:
        raise MissingInput(
            f"run {run.id} predates the three error figures: `make train MODEL=hydride-mlp`"
        )
    return run


def error_frame(metrics: dict) -> pd.DataFrame:
    """Every (protocol, model) figure of a run's metrics, the paper's beside its own kind."""
    rows = []
    for protocol, label in PROTOCOLS.items():
        for model in MODELS:
            m = metrics.get(f"{model} {protocol}")
            if m is None:
                continue
            paper = PAPER_IN_SAMPLE_K if (protocol, model) == ("in-sample", "network") else None
            rows.append({"protocol": label, "model": model, "n": m["n"],
                         "tc_rmse_K": m["tc_rmse"], "tc_mae_K": m["tc_mae"], "tc_r2": m["tc_r2"],
                         "pressure_rmse_GPa": m["pressure_rmse"],
                         "pressure_r2": m["pressure_r2"],
                         **{key: m.get(key, np.nan) for key in COVERAGE},
                         "paper_tc_rmse_K": paper})  # fmt: skip
    return pd.DataFrame(rows)


# The share of labels within ±1σ and ±2σ of the prediction (models with a spread).
COVERAGE = ("tc_within_1sd", "tc_within_2sd", "pressure_within_1sd", "pressure_within_2sd")


def ranking_text(metrics: dict) -> str:
    """Which model ranks the screen, by which rule and on which scores, in words."""
    chosen = metrics.get("screening_model")
    if chosen is None:
        return "The screen ranks with the network (the run predates the choice of a model)."
    scores = ", ".join(f"{model} {value:.1f} K" for model, value in chosen["scores"].items())
    return (f"The screen ranks with the {chosen['model']}: {chosen['rule']} ({scores}); the "
            "network's rows are kept as the paper's reproduction.")  # fmt: skip


def verdict(metrics: dict) -> str:
    """Which model predicts unseen points best, in words, for each out-of-fold protocol."""
    said = []
    for protocol in ("random-folds", "grouped-by-composition"):
        scores = {m: metrics[f"{m} {protocol}"]["tc_rmse"] for m in MODELS
                  if f"{m} {protocol}" in metrics}  # fmt: skip
        best = min(scores, key=scores.get)
        network = scores["network"]
        if best == "network":
            said.append(f"{PROTOCOLS[protocol]}: the network predicts T_c best "
                        f"({network:.1f} K RMSE).")  # fmt: skip
        else:
            said.append(f"{PROTOCOLS[protocol]}: the {best} beats the paper's network on T_c "
                        f"({scores[best]:.1f} K against {network:.1f} K RMSE).")  # fmt: skip
    said.append(ranking_text(metrics))
    fit = metrics["network in-sample"]["tc_rmse"]
    said.append(
        f"In-sample the network's mean misses its own points by {fit:.1f} K (the paper: "
        f"{PAPER_IN_SAMPLE_K} K); an in-sample figure measures fit, not skill."
    )
    return " ".join(said)


def chosen_text(metrics: dict) -> str:
    chosen = metrics["hyperparameters"]
    batch = f"batches of {chosen['batch_size']}" if chosen["batch_size"] else "full batch"
    return (f"Training chosen by inner cross-validation: Adam {chosen['learning_rate']:g}, "
            f"L2 {chosen['l2']:g}, {batch}, {chosen['epochs']} epochs.")  # fmt: skip


def draw_training(left, right, run) -> None:
    """Left: the inner search's held-out error per candidate against epochs (the choice
    starred); right: the kept members' training and held-out error per epoch."""
    if "search.json" in run.manifest["artefacts"]:
        searched = run.checked.read_json("search.json")[0]
        marks = searched["checkpoints"]
        for c in searched["candidates"]:
            batch = c["batch_size"] or "full"
            label = f"Adam {c['learning_rate']:g}, L2 {c['l2']:g}, batch {batch}"
            left.plot(marks, _rms(np.asarray(c["curve"])), marker=".", label=label)
        chosen = searched["chosen"]
        left.scatter([chosen["epochs"]], [_rms(np.asarray(searched["inner_score"]))], s=150,
                     marker="*", color="black", zorder=3, label="chosen")  # fmt: skip
        left.set_xlabel("epochs")
        left.set_ylabel("inner held-out RMS error (K, GPa)")
        left.set_title("inner cross-validation on all points")
        left.legend(fontsize=7)
    history = np.load(io.BytesIO(run.checked.read_bytes("ensemble/history.npz")))
    epochs = np.arange(1, history["train"].shape[0] + 1)
    for key, label in (("train", "own 75 % (training)"), ("validation", "held-out 25 %")):
        rms = _rms(history[key])
        low, high = np.nanpercentile(rms, [10, 90], axis=1)
        right.plot(epochs, np.nanmedian(rms, axis=1), label=f"{label}, median member")
        right.fill_between(epochs, low, high, alpha=0.25)
    right.set_xlabel("epoch")
    right.set_ylabel("RMS error over T_c (K) and P (GPa)")
    right.set_title(f"the {history['train'].shape[1]} kept members (10–90 % band)")
    right.legend(fontsize=8)


def _rms(scaled_mse: np.ndarray, scale: float = 100.0) -> np.ndarray:
    """Mean |(ΔT_c, ΔP)|² in units of 100 K / 100 GPa → RMS per target in K and GPa."""
    return np.sqrt(np.asarray(scaled_mse, dtype=float) / 2.0) * scale


def parity_columns(oof: pd.DataFrame) -> tuple[str, str]:
    """The network's out-of-fold columns of out_of_fold.parquet (older runs: oof_*)."""
    if "network_random_folds_tc_K" in oof:
        return "network_random_folds_tc_K", "network_random_folds_pressure_GPa"
    return "oof_tc_K", "oof_pressure_GPa"
