"""A trained structural model (a ``cvcnn`` run) loaded back, predicting any parsed structure.

Why: predictions for new structures and the morphism scans both need the same three things the
training run saved — the network (``model.keras``), the standardisation of the numerical
descriptors (``scaling.npz``) and the feature configuration — applied exactly as in training.
Features are computed and predicted in batches, so memory stays bounded (a Fourier array is
35 kB per structure) however many structures are asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from ml.model_names import CVCNN
from ml.structure_features import FeatureConfig, compute_features
from store.model_runs import RunError, VerifiedRun

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
    network: Any
    mean: np.ndarray
    std: np.ndarray
    features: FeatureConfig

    @classmethod
    def load(cls, run: VerifiedRun) -> StructuralModel:
        """Load a checked run written by ``tcdb train cvcnn``; refuse other models' runs.

        Every file is read through the run's manifest check, and the network only as a
        ``.keras`` archive in safe mode (``ml.cvcnn.load_model``)."""
        from ml.cvcnn import ModelFileError, load_model_bytes

        run.require_model(CVCNN)
        manifest = run.manifest
        features = FeatureConfig.matching(manifest["config"].get("features"))
        if features is None:
            raise RunError(
                f"Run {run.id} was trained on features this version computes "
                "differently; retrain it with 'tcdb train cvcnn'."
            )
        scaling = run.read_npz("scaling.npz")
        try:
            network = load_model_bytes(run.read_bytes("model.keras"))
        except (ModelFileError, ValueError, TypeError, KeyError, OSError) as exc:
            raise RunError(f"Run {run.id}: the network was not loaded: {exc}.") from None
        return cls(run.id, run.path, network, scaling["mean"], scaling["std"], features)

    def predict(
        self,
        structures: Sequence[Structure],
        space_groups: Sequence[int],
        batch_size: int = DEFAULT_BATCH,
        *,
        standard_cells: bool = False,
    ) -> tuple[np.ndarray, dict[int, str]]:
        """T_c (K) per structure (NaN where refused) and the reasons by position. Each
        structure is reduced to the cell the run was trained on, unless ``standard_cells``
        says the caller already gave standard cells."""
        from ml.cvcnn import predict

        tc = np.full(len(structures), np.nan)
        errors: dict[int, str] = {}
        for start in range(0, len(structures), batch_size):
            stop = min(start + batch_size, len(structures))
            fourier, numerical, failed, _, _ = compute_features(
                structures[start:stop],
                space_groups[start:stop],
                self.features,
                standard_cells=standard_cells,
            )
            errors.update({start + i: reason for i, reason in failed.items()})
            ok = np.setdiff1d(np.arange(stop - start), list(failed))
            if len(ok):
                tc[start + ok] = predict(
                    self.network, fourier[ok], numerical[ok], self.mean, self.std, INFERENCE_BATCH
                )
        return tc, errors
