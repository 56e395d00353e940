"""A structure-experts run loaded back, predicting featurised structures with their domain.

A loaded run (``ExpertsModel``) reads the same features as the structural network
(``ml.structure_features``, its ``features`` preset), so the morph engine and ``tcdb predict``
featurise a batch once and hand it to either: ``predict_features`` ignores the Fourier
coefficients and answers with T_c and the calibrated spread, and ``judge`` with the
applicability domain of every structure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class ExpertsModel:
    """A structure-experts run loaded back: the experts, their domain and features."""

    run_id: str
    experts: Any  # ml.structure_experts.experts.Experts
    domain: Any  # ml.structure_experts.domain.StructureDomain
    features: Any  # ml.structure_features.FeatureConfig
    members: int = 1  # the morph engine's count of networks: the experts are one model

    def predict_features(self, fourier, numerical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """T_c and its calibrated spread of featurised structures (Fourier unused); the
        spread widens with the distance to the training structures where the run says so."""
        numerical = np.asarray(numerical, dtype=float)
        expert = self.experts.which(numerical)
        distance = None
        if any(w > 0 for w in self.experts.distance_weight.values()):
            distance = self.domain.distances(numerical, expert)
        tc, spread, _ = self.experts.predict(numerical, distance, expert)
        return tc, spread

    def assess(self, numerical: np.ndarray):
        """T_c, calibrated spread, in the domain, the reason where not, and the expert of
        featurised structures: each structure's expert and distance found once for both."""
        numerical = np.asarray(numerical, dtype=float)
        expert = self.experts.which(numerical)
        inside, reasons, distance, _ = self.domain.check(numerical, expert)
        tc, spread, _ = self.experts.predict(numerical, distance, expert)
        return tc, spread, inside, reasons, expert

    def judge(self, numerical: np.ndarray) -> tuple[np.ndarray, list[str | None], np.ndarray]:
        """Per structure: in the domain, the reason where not, and the expert."""
        numerical = np.asarray(numerical, dtype=float)
        expert = self.experts.which(numerical)
        inside, reasons, _, _ = self.domain.check(numerical, expert)
        return inside, reasons, expert

    def predict(
        self, structures, space_groups, batch_size: int = 1024, *, standard_cells: bool = False
    ):
        """T_c, spread and refusals of parsed structures, as ``StructuralModel.predict``."""
        judged = self.predict_judged(
            structures, space_groups, batch_size, standard_cells=standard_cells
        )
        return judged[:3]

    def predict_judged(
        self, structures, space_groups, batch_size: int = 1024, *, standard_cells: bool = False
    ):
        """``predict`` and the domain verdict: T_c, spread, refusals by position, in the
        domain (False where refused) and the reason where not."""
        from tcdb.ml.structure_features import compute_features

        n = len(structures)
        tc, spread = np.full(n, np.nan), np.full(n, np.nan)
        inside = np.zeros(n, dtype=bool)
        reasons: list[str | None] = [None] * n
        errors: dict[int, str] = {}
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            _, numerical, failed, _, _ = compute_features(
                structures[start:stop],
                space_groups[start:stop],
                self.features,
                standard_cells=standard_cells,
            )
            errors.update({start + i: reason for i, reason in failed.items()})
            ok = np.setdiff1d(np.arange(stop - start), list(failed))
            if len(ok):
                tc[start + ok], spread[start + ok], verdict, why, _ = self.assess(numerical[ok])
                inside[start + ok] = verdict
                for i, reason in zip(ok, why, strict=True):
                    reasons[start + i] = reason
        return tc, spread, errors, inside, reasons


def load_experts(run) -> ExpertsModel:
    """The experts of a checked run, every file read through the manifest check; trees only
    from LightGBM's checked text and arrays (nothing runs on load)."""
    from tcdb.ml.boosted_trees import BoostedTrees, TreeFormatError, load_booster
    from tcdb.ml.composition_descriptors import NUMERICAL_LABELS
    from tcdb.ml.forest_trees import ForestTrees
    from tcdb.ml.structure_experts.domain import StructureDomain
    from tcdb.ml.structure_experts.experts import Experts
    from tcdb.ml.structure_experts.training import (
        COMPOSITION_FILE,
        DOMAIN_FILE,
        EXPERTS_FILE,
        FOREST_OUTPUT,
        HYDRIDE_FILE,
        MODEL_NAME,
        STRUCTURES_FILE,
    )
    from tcdb.ml.structure_features import recorded_features
    from tcdb.store.model_runs import RunError

    run.require_model(MODEL_NAME)
    features = recorded_features(run)
    settings = json.loads(run.read_bytes(EXPERTS_FILE))
    try:
        members = [
            load_booster(run.read_bytes(COMPOSITION_FILE.format(k=k)))
            for k in range(int(settings["composition_members"]))
        ]
        forest = None
        if settings.get("hydride_expert", True):
            forest = ForestTrees.from_bytes(
                run.read_bytes(HYDRIDE_FILE), FOREST_OUTPUT, len(NUMERICAL_LABELS)
            )
        share = float(settings.get("structures_share", 0.0))  # 0 in runs from before
        structures = BoostedTrees.from_bytes(run.read_bytes(STRUCTURES_FILE)) if share else None
    except (TreeFormatError, ValueError, KeyError) as exc:
        raise RunError(f"Run {run.id}: its trees were not loaded: {exc}.") from None
    domain = StructureDomain.from_arrays(run.read_npz(DOMAIN_FILE))
    scale = {str(k): float(v) for k, v in settings["scale"].items()}
    weight = {str(k): float(v) for k, v in settings.get("distance_weight", {}).items()}
    per_tc = {str(k): float(v) for k, v in settings.get("tc_weight", {}).items()}
    experts = Experts(
        members, forest, float(settings["h_fraction"]), scale, weight, structures, share, per_tc
    )
    return ExpertsModel(run.id, experts, domain, features)


@dataclass(frozen=True)
class ExpertsPredictor:
    """The contract's predictor: T_c of (structure, space group number) pairs."""

    model: ExpertsModel

    def predict(self, inputs):
        structures = [structure for structure, _ in inputs]
        groups = [group for _, group in inputs]
        return self.model.predict(structures, groups)[0]
