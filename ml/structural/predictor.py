"""A trained structural model (a ``cvcnn`` run) loaded back, predicting any parsed structure.

Why: predictions for new structures and the morphism scans both need the same three things the
training run saved — the networks (``model.keras``, and ``model-1.keras`` … for an ensemble),
the standardisation of the numerical descriptors (``scaling.npz``) and the feature
configuration — applied exactly as in training. Features are computed once and predicted by
every member in batches, so memory stays bounded (a Fourier array is 35 kB per structure)
however many structures are asked for. A prediction is the mean over members and their spread
(standard deviation); a one-member run has no spread: NaN, stored as NULL, never 0 (a single
network says nothing about its own uncertainty, see ``ml.structural.ensemble``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from tcdb.ml.model_names import CVCNN
from tcdb.ml.structure_features import FeatureConfig, compute_features, recorded_features
from tcdb.store.model_runs import RunError, VerifiedRun

log = logging.getLogger(__name__)

DEFAULT_BATCH = 1024
# Structures per forward pass. The first convolution's output alone is 11³ × 32 complex values
# per structure, so 2,048 at once held 3.5 GB; 256 holds 1.6 GB at the same speed (measured on
# the MgH13 map benchmark).
INFERENCE_BATCH = 256


@dataclass
class StructuralModel:
    """The network, its input scaling and feature configuration, from one run folder."""

    run_id: str
    path: Path
    networks: list[Any]  # member 0 first; one network for a one-member run
    mean: np.ndarray
    std: np.ndarray
    features: FeatureConfig

    @property
    def members(self) -> int:
        return len(self.networks)

    @classmethod
    def load(cls, run: VerifiedRun) -> StructuralModel:
        """Load a checked run written by ``tcdb train cvcnn``; refuse other models' runs.

        Every file is read through the run's manifest check, and the network only as a
        ``.keras`` archive in safe mode (``ml.structural.cvcnn.load_model``)."""
        return ModelPackage.of(run).load()

    def predict(
        self,
        structures: Sequence[Structure],
        space_groups: Sequence[int],
        batch_size: int = DEFAULT_BATCH,
        *,
        standard_cells: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
        """T_c (K) per structure, the mean over members (NaN where refused), its spread over
        members (NaN for a one-member run) and the reasons by position. Each structure is
        reduced to the cell the run was trained on, unless ``standard_cells`` says the caller
        already gave standard cells."""
        tc = np.full(len(structures), np.nan)
        spread = np.full(len(structures), np.nan)
        errors: dict[int, str] = {}
        for start in range(0, len(structures), batch_size):
            stop = min(start + batch_size, len(structures))
            fourier, numerical, failed = featurise(
                self.features, structures[start:stop], space_groups[start:stop], standard_cells
            )
            errors.update({start + i: reason for i, reason in failed.items()})
            ok = np.setdiff1d(np.arange(stop - start), list(failed))
            if len(ok):
                values, spreads = self.predict_features(fourier[ok], numerical[ok])
                tc[start + ok], spread[start + ok] = values, spreads
        return tc, spread, errors

    def predict_features(
        self, fourier: np.ndarray, numerical: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The members' mean and spread for features already computed (``featurise``): what a
        screening's predicting actor does with the shards featurised elsewhere."""
        from tcdb.ml.structural.cvcnn import predict
        from tcdb.ml.structural.ensemble import mean_and_spread

        per_member = [
            predict(net, fourier, numerical, self.mean, self.std, INFERENCE_BATCH)
            for net in self.networks
        ]
        return mean_and_spread(np.stack(per_member))


@dataclass(frozen=True)
class ModelPackage:
    """A checked run's networks as bytes with its scaling and features: what is sent to the
    workers of a cluster, which may not see the run folder."""

    run_id: str
    path: Path
    networks: tuple[bytes, ...]
    mean: np.ndarray
    std: np.ndarray
    features: FeatureConfig

    @classmethod
    def of(cls, run: VerifiedRun) -> ModelPackage:
        """Read through the run's manifest check, as ``StructuralModel.load`` reads it."""
        from tcdb.ml.structural.ensemble import member_file

        run.require_model(CVCNN)
        features = recorded_features(run)
        members = int(run.manifest["config"].get("cvcnn", {}).get("members", 1))
        scaling = run.read_npz("scaling.npz")
        networks = tuple(run.read_bytes(member_file(k)) for k in range(members))
        return cls(run.id, run.path, networks, scaling["mean"], scaling["std"], features)

    def load(self) -> StructuralModel:
        """The networks built from their ``.keras`` archives in safe mode."""
        from tcdb.ml.structural.cvcnn import ModelFileError, load_model_bytes
        from tcdb.ml.structural.ensemble import member_file

        networks = []
        for k, data in enumerate(self.networks):
            try:
                networks.append(load_model_bytes(data))
            except (ModelFileError, ValueError, TypeError, KeyError, OSError) as exc:
                raise RunError(
                    f"Run {self.run_id}: the network {member_file(k)} was not loaded: {exc}."
                ) from None
        return StructuralModel(self.run_id, self.path, networks, self.mean, self.std,
                               self.features)  # fmt: skip


def featurise(
    features: FeatureConfig,
    structures: Sequence[Structure],
    space_groups: Sequence[int],
    standard_cells: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Both feature kinds of a batch and the reasons by position (no network needed: a
    screening's featurising tasks call this)."""
    fourier, numerical, failed, _, _ = compute_features(
        structures, space_groups, features, standard_cells=standard_cells
    )
    return fourier, numerical, failed


def finite_or_none(value: float) -> float | None:
    """A value as the database stores it: NaN (no spread, a refused input) becomes NULL."""
    return float(value) if value is not None and np.isfinite(value) else None
