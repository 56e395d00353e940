"""The hydride model's parameters, with their defaults: its training profiles, the rules of
its applicability domain and the rule that chooses which of its models ranks the screen.

Why here: they are this model's alone, so changing the model never edits the domain core. A run
records every value it used (``record`` in ``ml.hydride.training``; the domain's rules beside
each screening), so a result can still be traced to them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# hydride-mlp: "quick" is HydrideMLPConfig's defaults (inner search over 2 learning rates × 2 L2
# × 2 batch sizes, 3 inner folds of 2 members, up to 800 epochs; 8-member ensembles per outer
# fold); "paper" searches a wider grid up to the old 2,000 epochs and keeps 64 members per fold.
HYDRIDE_PROFILES: dict[str, dict[str, object]] = {
    "paper": {
        "learning_rates": (1e-3, 3e-3, 1e-2),
        "l2_values": (1e-4, 1e-3, 1e-2),
        "batch_sizes": (0, 16, 32),
        "inner_folds": 4,
        "inner_members": 4,
        "max_epochs": 2000,
        "evaluation_members": 64,
    },
    "quick": {},
    "smoke": {
        "members": 4,
        "max_epochs": 40,
        "checkpoint_every": 20,
        "learning_rates": (1e-2,),
        "l2_values": (1e-4,),
        "batch_sizes": (0,),
        "inner_folds": 2,
        "inner_members": 1,
        "outer_folds": 2,
        "evaluation_members": 2,
        "forest_trees": 20,
    },
}


@dataclass(frozen=True)
class HydrideDomainParameters:
    """Where the hydride (T_c, P) ensemble is trusted: the rules of ``ml.hydride.domain``.

    Why: screening every E × n = 1 … 31 asks the network about hydrogen contents and elements it
    never saw, and its best-looking answers are exactly those extrapolations. Each threshold is
    read off the run's own training points, so nothing here is a number tuned to one run:

    - n must lie within the trained range [min n, max n] (``check_n_range``);
    - the element's 7 descriptors, each divided by the run's input standard deviation, must lie
      within ``element_quantile`` of the trained elements' leave-one-element-out
      nearest-neighbour distances from the nearest trained element (1.0: the largest of them,
      so every trained element would pass if it were left out);
    - the spread over members of T_c and of P must not exceed the ``spread_quantile`` of the
      same spreads on the training points (the spread of the model that predicted the row: the
      network's members, or the forest's trees);
    - an EH_n of one of the ``noble_gases`` is out when no training point is a noble-gas
      hydride: none of the literature's hydrides is one, yet their descriptors lie close to
      those of trained halogens and chalcogens, so the element check passes them and the
      network ranked ArH2 and XeH5 among its top 20. () switches the rule off.
    """

    check_n_range: bool = True
    element_rule: str = "leave-one-element-out nearest-neighbour distance"
    element_quantile: float = 1.0
    spread_quantile: float = 0.95
    noble_gases: tuple[str, ...] = ("He", "Ne", "Ar", "Kr", "Xe", "Rn", "Og")

    def __post_init__(self) -> None:
        for name in ("element_quantile", "spread_quantile"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], not {value}")
        object.__setattr__(self, "noble_gases", tuple(str(e) for e in self.noble_gases))

    def as_dict(self) -> dict[str, Any]:
        """The rules as plain JSON types, as each prediction records them."""
        return asdict(self) | {"noble_gases": list(self.noble_gases)}


HYDRIDE_DOMAIN = HydrideDomainParameters()


# The models a hydride-mlp run holds that can rank a screen: each gives a spread (the linear
# baseline gives none, and the domain's spread check and D ± σ need one).
SCREENING_MODELS = ("network", "forest")
OUT_OF_FOLD_PROTOCOLS = ("grouped-by-composition", "random-folds")
METRIC_WORDS = {"tc_rmse": "T_c RMSE", "tc_mae": "T_c MAE", "pressure_rmse": "P RMSE",
                "pressure_mae": "P MAE"}  # fmt: skip


@dataclass(frozen=True)
class HydrideSelectionParameters:
    """Which of a run's models ranks its screen (``ml.hydride.selection``).

    Rule: the candidate with the lowest out-of-fold ``metric`` under ``protocol`` ranks; on
    equal scores, ``tie`` (the paper's network). Why these: the screen ranks hydrides that
    no training point holds, so the model is chosen by how it predicts formulas it never saw
    (folds grouped by formula EH_n, where the same hydride at another pressure cannot leak its
    answer), on T_c, the figure the paper reports; the scores are the run's own, computed
    before any screening, and the grouped protocol has no test part, so nothing scored as a
    test is ever read to choose. Fixed here, before any run, and recorded with each run.
    """

    protocol: str = "grouped-by-composition"
    metric: str = "tc_rmse"
    candidates: tuple[str, ...] = SCREENING_MODELS
    tie: str = "network"

    def __post_init__(self) -> None:
        object.__setattr__(self, "candidates", tuple(self.candidates))
        if self.protocol not in OUT_OF_FOLD_PROTOCOLS:
            raise ValueError(
                f"the choice is made on an out-of-fold protocol "
                f"({', '.join(OUT_OF_FOLD_PROTOCOLS)}), not {self.protocol!r}"
            )
        if self.metric not in METRIC_WORDS:
            raise ValueError(f"the choice is made on an error (RMSE or MAE), not {self.metric!r}")
        if not self.candidates or not set(self.candidates) <= set(SCREENING_MODELS):
            raise ValueError(f"candidates must be among {SCREENING_MODELS}, not {self.candidates}")
        if self.tie not in self.candidates:
            raise ValueError(f"the tie goes to a candidate, not {self.tie!r}")

    def rule(self) -> str:
        """The rule in words."""
        return (
            f"of the {' and '.join(self.candidates)}, the one with the lowest out-of-fold "
            f"{METRIC_WORDS[self.metric]} under {self.protocol} ranks; on equal scores the "
            f"{self.tie}"
        )

    def as_dict(self) -> dict[str, Any]:
        """The rule as plain JSON types, as a run records it."""
        return asdict(self) | {"candidates": list(self.candidates)}


HYDRIDE_SELECTION = HydrideSelectionParameters()
