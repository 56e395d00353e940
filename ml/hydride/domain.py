"""The applicability domain of a hydride (T_c, P) ensemble: which EH_n it may be trusted on.

Why: the screen asks the network about every E × n = 1 … 31, and without a domain the
hydrides that look closest to ambient are extrapolations (n beyond any trained n, elements
unlike any trained one, members that disagree). The domain is computed deterministically from
a loaded run's own training points (``HydrideEnsemble.X_train_``, ``x_std_``), with the rules
of ``ml.hydride.parameters.HydrideDomainParameters``; it depends on no screening result, so a new
training changes the thresholds and nothing else.

Four checks, each failure written into ``domain_reason``:

- E a noble gas when no training point is a noble-gas hydride (``noble_gases``);
- n outside [min, max] of the trained n;
- the element's 7 descriptors, standardised by the run's input spread, further from the
  nearest trained element than the trained elements are from each other when one is left out
  (quantile ``element_quantile`` of those leave-one-element-out distances; 1.0 is the largest);
- the T_c or P spread above quantile ``spread_quantile`` of the same model's own spreads on
  its training points (the network's over its members, the forest's over its trees: each model
  that predicts a screen has its domain, which differs only in these two thresholds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tcdb.ml import element_data as ed
from tcdb.ml.hydride.parameters import HYDRIDE_DOMAIN, HydrideDomainParameters

Z_COLUMN = 2  # descriptor columns: n_H, vdw_radius, Z, mass_number, n_s, n_p, n_d, n_f
ELEMENT_COLUMNS = slice(1, 8)
NOBLE_GAS_REASON = "noble gas: no noble-gas hydride among the training points"


@dataclass(frozen=True)
class HydrideDomain:
    """The thresholds of one run's domain and the trained points they were read from."""

    parameters: HydrideDomainParameters
    model: str  # whose spread the spread thresholds are: "network" or "forest"
    untrained_noble_gases: tuple[str, ...]  # flagged: no training point holds a noble gas
    n_range: tuple[float, float]
    trained_elements: tuple[str, ...]
    trained_descriptors: np.ndarray  # (elements, 7), standardised
    element_scale: np.ndarray  # (7,) the run's input standard deviations of columns 1..7
    element_threshold: float
    tc_spread_threshold_K: float
    pressure_spread_threshold_GPa: float

    def thresholds(self) -> dict:
        """The numbers every flag was decided with, as stored beside each prediction."""
        return {
            "parameters": self.parameters.as_dict(),
            "model": self.model,
            "untrained_noble_gases": list(self.untrained_noble_gases),
            "n_range": list(self.n_range),
            "trained_elements": len(self.trained_elements),
            "element_threshold": self.element_threshold,
            "tc_spread_threshold_K": self.tc_spread_threshold_K,
            "pressure_spread_threshold_GPa": self.pressure_spread_threshold_GPa,
        }

    def describe(self) -> str:
        """One line naming each threshold."""
        low, high = self.n_range
        noble = "; no noble gas (none trained)" if self.untrained_noble_gases else ""
        return (
            f"domain: n in {low:g}–{high:g}; element within {self.element_threshold:.2f} of one "
            f"of {len(self.trained_elements)} trained elements; {self.model} spread at most "
            f"{self.tc_spread_threshold_K:.0f} K and {self.pressure_spread_threshold_GPa:.0f} GPa"
            f"{noble}"
        )

    def nearest(self, X: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Standardised distance of each row's element to the nearest trained element, and
        that element (distance 0 for a trained element itself)."""
        points = np.asarray(X, dtype=float)[:, ELEMENT_COLUMNS] / self.element_scale
        gaps = np.linalg.norm(points[:, None, :] - self.trained_descriptors[None], axis=2)
        closest = gaps.argmin(axis=1)
        return gaps[np.arange(len(points)), closest], [self.trained_elements[i] for i in closest]

    def assess(self, elements: Sequence[str], X: np.ndarray, spread: np.ndarray) -> pd.DataFrame:
        """Per row of ``X`` (descriptors of ``elements[i]`` H_n) with member spreads
        ``spread`` (rows, 2: K, GPa): in_domain, domain_reason (None when in domain),
        element_distance, nearest_trained_element."""
        X = np.asarray(X, dtype=float)
        spread = np.asarray(spread, dtype=float)
        distance, nearest = self.nearest(X)
        low, high = self.n_range
        rows = []
        for i, element in enumerate(elements):
            n, (tc_spread, p_spread) = X[i, 0], spread[i]
            failed = []
            if element in self.untrained_noble_gases:
                failed.append(NOBLE_GAS_REASON)
            if self.parameters.check_n_range and not low <= n <= high:
                failed.append(f"n {n:g} outside the trained range {low:g}–{high:g}")
            if distance[i] > self.element_threshold:
                failed.append(
                    f"{element} is {distance[i]:.1f} from its nearest trained element "
                    f"{nearest[i]} (threshold {self.element_threshold:.1f})"
                )
            if tc_spread > self.tc_spread_threshold_K:
                failed.append(
                    f"T_c spread {tc_spread:.0f} K above {self.tc_spread_threshold_K:.0f} K"
                )
            if p_spread > self.pressure_spread_threshold_GPa:
                failed.append(
                    f"P spread {p_spread:.0f} GPa above "
                    f"{self.pressure_spread_threshold_GPa:.0f} GPa"
                )
            rows.append(
                {
                    "in_domain": not failed,
                    "domain_reason": "; ".join(failed) or None,
                    "element_distance": float(distance[i]),
                    "nearest_trained_element": nearest[i],
                }
            )
        return pd.DataFrame(rows, columns=["in_domain", "domain_reason", "element_distance",
                                           "nearest_trained_element"])  # fmt: skip


def check_counts(assessed: pd.DataFrame) -> dict[str, int]:
    """How many rows each check flags (a row may fail several) and how many are out."""
    reasons = assessed["domain_reason"].fillna("")
    return {
        "n range": int(reasons.str.contains("outside the trained range").sum()),
        "element distance": int(reasons.str.contains("from its nearest trained").sum()),
        "T_c spread": int(reasons.str.contains("T_c spread").sum()),
        "P spread": int(reasons.str.contains("P spread").sum()),
        "noble gas": int(reasons.str.startswith("noble gas:").sum()),
        "out of domain": int((~assessed["in_domain"].astype(bool)).sum()),
    }


def domain_of(
    ensemble,
    parameters: HydrideDomainParameters = HYDRIDE_DOMAIN,
    forest=None,
) -> HydrideDomain:
    """The domain of a fitted or loaded ``HydrideEnsemble``, from its training points only;
    with ``forest`` (an ``ml.forest_trees.ForestTrees`` fitted on the same points), the domain
    of the forest's predictions: its spread thresholds are the forest's."""
    X = np.asarray(ensemble.X_train_, dtype=float)
    scale = np.asarray(ensemble.x_std_, dtype=float)[ELEMENT_COLUMNS]
    scale = np.where(scale > 0, scale, 1.0)
    z, first = np.unique(X[:, Z_COLUMN].astype(int), return_index=True)
    names = ed.symbols()
    trained = tuple(names[zi - 1] for zi in z)
    points = X[first][:, ELEMENT_COLUMNS] / scale
    element_threshold = _leave_one_out_threshold(points, parameters.element_quantile)
    _, spread = (ensemble if forest is None else forest).predict(X)
    tc_limit, p_limit = np.quantile(spread, parameters.spread_quantile, axis=0)
    noble = set(parameters.noble_gases)
    return HydrideDomain(
        parameters=parameters,
        model="network" if forest is None else "forest",
        untrained_noble_gases=() if noble & set(trained) else parameters.noble_gases,
        n_range=(float(X[:, 0].min()), float(X[:, 0].max())),
        trained_elements=trained,
        trained_descriptors=points,
        element_scale=scale,
        element_threshold=element_threshold,
        tc_spread_threshold_K=float(tc_limit),
        pressure_spread_threshold_GPa=float(p_limit),
    )


def _leave_one_out_threshold(points: np.ndarray, quantile: float) -> float:
    """The ``quantile`` of each trained element's distance to its nearest other trained
    element (0 with a single trained element: only that element is in the domain)."""
    if len(points) < 2:
        return 0.0
    gaps = np.linalg.norm(points[:, None, :] - points[None], axis=2)
    np.fill_diagonal(gaps, np.inf)
    return float(np.quantile(gaps.min(axis=1), quantile))
