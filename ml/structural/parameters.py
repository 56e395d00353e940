"""The structural model's parameters, with their defaults: its training profiles and named
network configurations, the baselines it is scored beside, the T_c bands of ``tcdb evaluate``,
and how morphs of reference structures are generated and predicted.

Why here: they are this model's alone, so changing the model never edits the domain core. A run
records every value it used (its configuration and the baselines' settings in its manifest, a
morph family its parameters), so a result can still be traced to them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# baseline_trees: the composition profile of the baselines a cvcnn run is compared with.
CVCNN_PROFILES: dict[str, dict[str, object]] = {
    "paper": {"epochs": 300},  # the paper: best validation loss of 300 epochs
    "quick": {"epochs": 40, "baseline_trees": "quick"},  # what `make run` trains
    "smoke": {"epochs": 2, "baseline_trees": "smoke"},
    # the paper's 300 epochs, five networks on one split: every prediction gets a spread
    "ensemble": {"epochs": 300, "members": 5},
}

# A run of at least this many epochs fits its baselines in a spawned process beside the network
# (ml.structural.training): scikit-learn's boosting grows its trees in Python, and in a thread
# it held the interpreter lock the network's steps wait for (a quick-profile fit 130-146 s
# beside a thread, 121-123 s beside a process, 2026-12-07). A shorter run keeps the thread:
# starting the process and importing the libraries again (3-5 s) would cost more than it saves.
BASELINES_IN_A_PROCESS_FROM_EPOCHS = 10

# The structural model's named configurations, each a dict of ml.structural.cvcnn.CVCNNConfig
# fields. `tcdb train cvcnn --configuration NAME` takes one; its values are overridden by the
# profile's (epochs) and those by options given explicitly. "tcdb" is the network as built from
# the paper's prose with our stated choices; "authors" follows the authors' public code (METHODS.md
# section 3, "What the authors' public code does"): two poolings each followed by dropout,
# batch normalisation after every dense layer and no dense dropout, a ReLU output, Adam 2.7e-4
# with batches of 500, and their Fourier widths, metric and normalisation (feature preset
# "authors" of ml.structure_features).
CVCNN_CONFIGURATIONS: dict[str, dict[str, object]] = {
    "tcdb": {
        "configuration": "tcdb",
        "spatial_pools": 1,
        "dense_normalisation": "none",
        "head_dropout": 0.5,
        "output_activation": "linear",
        "learning_rate": 1e-3,
        "batch_size": 32,
        "features": "tcdb",
    },
    "authors": {
        "configuration": "authors",
        "spatial_pools": 2,
        "dense_normalisation": "batch",
        "head_dropout": 0.0,
        "output_activation": "relu",
        "learning_rate": 2.7e-4,
        "batch_size": 500,
        "features": "authors",
    },
}
DEFAULT_CVCNN_CONFIGURATION = "tcdb"  # until the grouped protocol shows which is better
# T_c bands (K) that `tcdb evaluate` scores separately: below 10, 10-30, 30-77 (boiling
# nitrogen), 77 and above. Each edge opens the next band.
EVALUATION_BAND_EDGES_K: tuple[float, ...] = (10.0, 30.0, 77.0)


@dataclass(frozen=True)
class StructuralBaselineParameters:
    """The descriptor baselines a structural run is compared with on its own split (ridge
    regression and a random forest on the 175 numerical descriptors of the training
    structures). Our choices, fixed before any evaluation: ridge's alpha on standardised
    descriptors, and a forest of regression trees trying a third of the descriptors per split
    (Breiman's rule for regression)."""

    ridge_alpha: float = 1.0
    forest_trees: int = 200
    forest_max_features: float = 1 / 3
    forest_min_samples_leaf: int = 1

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


STRUCTURAL_BASELINES = StructuralBaselineParameters()


NOBLE_GASES: tuple[str, ...] = ("He", "Ne", "Ar", "Kr", "Xe", "Rn")


@dataclass(frozen=True)
class MorphParameters:
    """How morphisms of reference structures are generated (Novakovic et al. 2023, Sec. V.B).

    The paper states the element range (Z 1-86, noble gases skipped), that the maps scale the
    lattice uniformly up to a primitive a of 6.0 Å, and that the random search replaced the Mg
    atoms and pairs of Li atoms of Li4Mg2H32. The rest are our choices: where a scan starts
    (a fraction of the reference a, so the compressed side of the dome is seen), the number of
    scales, the Li pairs, the sample count and seed, and the ranges of the Fig. 5/6 scans.
    """

    z_min: int = 1
    z_max: int = 86
    skip: tuple[str, ...] = NOBLE_GASES
    # Uniform scans of the X/Y maps: primitive a from scan_start_factor x the reference a
    # to scan_end_a_A, in scan_points steps.
    scan_points: int = 16
    scan_start_factor: float = 0.8
    scan_end_a_A: float = 6.0
    # Random search over Li4Mg2H32: each Mg atom and each Li pair gets a random element.
    random_samples: int = 2000
    random_seed: int = 0
    li_pairs: tuple[tuple[str, str], ...] = (("X32", "X33"), ("X34", "X35"))
    # Fig. 5: uniform scale factors; Fig. 6: (a, c) scale factors, both of the reference cell.
    dome_factors: tuple[float, float, int] = (0.7, 1.5, 33)
    grid_factors: tuple[float, float, int] = (0.7, 1.5, 17)
    # Structures featurised and predicted at once (bounded memory: ~35 kB each).
    batch_size: int = 2048

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


MORPH = MorphParameters()

# Morph profiles: "paper" runs the paper's maps in full (16 scales per pair); "quick" halves
# the scans and samples for `make run`; "smoke" uses the elements up to Mg for tests.
MORPH_PROFILES: dict[str, dict[str, object]] = {
    "paper": {},
    "quick": {"scan_points": 8, "random_samples": 500},
    "smoke": {
        "z_max": 12,
        "scan_points": 2,
        "random_samples": 10,
        "dome_factors": (0.8, 1.2, 3),
        "grid_factors": (0.9, 1.1, 2),
    },
}
