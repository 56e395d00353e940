"""The hydride model's parameters, with their defaults: its training profiles and the rules of
its applicability domain.

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
      same spreads on the training points.
    """

    check_n_range: bool = True
    element_rule: str = "leave-one-element-out nearest-neighbour distance"
    element_quantile: float = 1.0
    spread_quantile: float = 0.95

    def __post_init__(self) -> None:
        for name in ("element_quantile", "spread_quantile"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], not {value}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


HYDRIDE_DOMAIN = HydrideDomainParameters()
