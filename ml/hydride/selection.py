"""Which of a hydride run's models ranks its screen: the rule of
``ml.hydride.parameters.HydrideSelectionParameters`` applied to the run's own out-of-fold
scores.

Why: the model reproduces the paper's network, but on our data a random forest predicts T_c
better out of fold (docs/models.md). A screen is a ranking of predictions for hydrides no
training point holds, so it ranks with the model that predicts unseen formulas best. The
choice reads only the scores the run computed under the grouped protocol (each point
predicted by models that never saw its formula; the protocol has no test part), by a rule
fixed before any run; it is recorded in the run's metrics (``screening_model``) and in every
prediction row, and the network's rows are stored beside as the reproduction.
"""

from __future__ import annotations

import math

from tcdb.ml.hydride.parameters import HYDRIDE_SELECTION, HydrideSelectionParameters

RECORD_KEY = "screening_model"  # where a run's metrics hold the choice


def choose(
    metrics: dict,
    parameters: HydrideSelectionParameters = HYDRIDE_SELECTION,
    available: tuple[str, ...] | None = None,
) -> dict:
    """The model that ranks, with the rule and the scores it was chosen from: the candidate
    (among ``available``, default all) with the lowest ``metric`` of ``metrics["<model>
    <protocol>"]``; on equal scores the tie's model. A candidate the run did not score (or
    scored NaN) cannot be chosen; with none scored, the tie's model ranks."""
    candidates = [c for c in parameters.candidates if available is None or c in available]
    scores, n = {}, {}
    for model in candidates:
        scored = metrics.get(f"{model} {parameters.protocol}")
        value = None if scored is None else scored.get(parameters.metric)
        if value is not None and not math.isnan(value):
            scores[model], n[model] = float(value), scored.get("n")
    if scores:
        best = min(scores.values())
        lowest = [m for m in candidates if scores.get(m) == best]
        chosen = parameters.tie if parameters.tie in lowest else lowest[0]
    else:
        chosen = parameters.tie
    return {
        "model": chosen,
        "rule": parameters.rule(),
        "scored_on": parameters.protocol,
        "metric": parameters.metric,
        "scores": scores,
        "n": n,
        "parameters": parameters.as_dict(),
    }


def chosen_model(metrics: dict, available: tuple[str, ...]) -> str:
    """The model a run ranks with, as it recorded it; a run recorded before the choice (or
    whose choice it no longer holds) ranks with the network, the only model it screened."""
    recorded = metrics.get(RECORD_KEY)
    model = recorded.get("model") if isinstance(recorded, dict) else None
    return model if model in available else "network"
