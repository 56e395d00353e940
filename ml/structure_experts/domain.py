"""Which structures lie inside what an expert was trained on: the applicability domain.

Why: a morph compressed to 0.8 of its reference lattice, or a substitution no training
structure resembles, gets a number from any model; ranked beside structures like the
training data it reads as a discovery. Each structure is judged against the training
structures of the expert that predicts it, with two checks whose thresholds are learnt from
those training structures alone and stored with the run:

- **volume per atom** (Å³, from the cell volume and its element counts) inside the range the
  expert's training structures span: compression or expansion beyond it is extrapolation;
- **distance in descriptor space**: the mean Euclidean distance to the ``neighbours`` nearest
  training structures, on the 175 descriptors standardised with the training part's mean and
  standard deviation, no larger than the ``quantile`` of the same distance of each training
  structure to the others (itself left out).

A structure failing either is out of the domain, with every failed check in its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tcdb.ml.composition_descriptors import NUMERICAL_LABELS
from tcdb.ml.structure_experts.experts import COUNT_COLUMNS, EXPERTS

VOLUME_COLUMN = NUMERICAL_LABELS.index("volume")
CHUNK = 4096  # rows whose distances to the reference are computed at once


def volume_per_atom(numerical: np.ndarray) -> np.ndarray:
    """Cell volume over the number of atoms in the cell (Å³)."""
    atoms = numerical[:, COUNT_COLUMNS].sum(axis=1)
    return np.divide(
        numerical[:, VOLUME_COLUMN], atoms, out=np.full(len(numerical), np.nan), where=atoms > 0
    )


@dataclass
class ExpertDomain:
    """One expert's training structures, standardised, and its two thresholds."""

    reference: np.ndarray  # (m, 175) standardised training descriptors
    volume_range: tuple[float, float]  # Å³ per atom
    distance_threshold: float

    def distance(self, standardised: np.ndarray, neighbours: int, itself: bool = False):
        """Mean distance of each row to its ``neighbours`` nearest reference rows (leaving out
        the row itself when the rows are the reference)."""
        k = min(neighbours, len(self.reference) - (1 if itself else 0))
        if k < 1 or not len(standardised):
            return np.full(len(standardised), np.nan)
        squares = np.einsum("ij,ij->i", self.reference, self.reference)
        out = np.empty(len(standardised))
        for start in range(0, len(standardised), CHUNK):
            rows = standardised[start : start + CHUNK]
            d2 = (
                np.einsum("ij,ij->i", rows, rows)[:, None]
                + squares[None, :]
                - 2.0 * rows @ self.reference.T
            )
            np.maximum(d2, 0.0, out=d2)
            if itself:
                d2[np.arange(len(rows)), np.arange(start, start + len(rows))] = np.inf
            nearest = np.partition(d2, k - 1, axis=1)[:, :k]
            out[start : start + len(rows)] = np.sqrt(nearest).mean(axis=1)
        return out


@dataclass
class StructureDomain:
    """The domain of both experts: standardisation, each expert's reference and thresholds."""

    mean: np.ndarray
    std: np.ndarray
    experts: dict[str, ExpertDomain]
    neighbours: int
    quantile: float

    @classmethod
    def fit(cls, numerical: np.ndarray, expert: np.ndarray, neighbours: int, quantile: float):
        """Thresholds from the training structures (``numerical``, with the expert of each)."""
        mean = numerical.mean(axis=0)
        std = numerical.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        standardised = (numerical - mean) / std
        volumes = volume_per_atom(numerical)
        domains = {}
        for name in EXPERTS:
            rows = expert == name
            if not rows.any():
                continue
            span = (float(np.nanmin(volumes[rows])), float(np.nanmax(volumes[rows])))
            domain = ExpertDomain(standardised[rows], span, np.inf)
            own = domain.distance(standardised[rows], neighbours, itself=True)
            finite = own[np.isfinite(own)]
            domain.distance_threshold = (
                float(np.quantile(finite, quantile)) if len(finite) else np.inf
            )
            domains[name] = domain
        return cls(mean, std, domains, neighbours, quantile)

    def distances(self, numerical: np.ndarray, expert: np.ndarray) -> np.ndarray:
        """Per row, the mean distance to the ``neighbours`` nearest training structures of
        its expert (NaN where that expert had none)."""
        standardised = (numerical - self.mean) / self.std
        distance = np.full(len(numerical), np.nan)
        for name, domain in self.experts.items():
            rows = np.flatnonzero(expert == name)
            if len(rows):
                distance[rows] = domain.distance(standardised[rows], self.neighbours)
        return distance

    def check(self, numerical: np.ndarray, expert: np.ndarray):
        """Per row: in the domain or not, the reason (None inside), the distance and the
        volume per atom."""
        volumes = volume_per_atom(numerical)
        distance = self.distances(numerical, expert)
        reasons: list[list[str]] = [[] for _ in range(len(numerical))]
        for name in EXPERTS:
            rows = np.flatnonzero(expert == name)
            if not len(rows):
                continue
            domain = self.experts.get(name)
            if domain is None:
                for i in rows:
                    reasons[i].append(f"the {name} expert had no training structure")
                continue
            low, high = domain.volume_range
            for i in rows:
                v = volumes[i]
                if not np.isfinite(v) or v < low or v > high:
                    reasons[i].append(
                        f"volume per atom {v:.2f} Å³ outside the {name} expert's "
                        f"training range {low:.2f}–{high:.2f} Å³"
                    )
                if not distance[i] <= domain.distance_threshold:
                    reasons[i].append(
                        f"descriptor distance {distance[i]:.2f} above the {name} expert's "
                        f"{self.quantile:.0%} training quantile {domain.distance_threshold:.2f}"
                    )
        inside = np.array([not r for r in reasons], dtype=bool)
        return inside, ["; ".join(r) if r else None for r in reasons], distance, volumes

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything the domain needs, as arrays (stored as ``domain.npz``)."""
        out = {
            "mean": self.mean,
            "std": self.std,
            "settings": np.array([self.neighbours, self.quantile], dtype=float),
        }
        for name, d in self.experts.items():
            out[f"{name}_reference"] = d.reference
            out[f"{name}_limits"] = np.array([*d.volume_range, d.distance_threshold])
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> StructureDomain:
        neighbours, quantile = arrays["settings"]
        experts = {}
        for name in EXPERTS:
            if f"{name}_reference" in arrays:
                low, high, threshold = (float(v) for v in arrays[f"{name}_limits"])
                experts[name] = ExpertDomain(arrays[f"{name}_reference"], (low, high), threshold)
        return cls(arrays["mean"], arrays["std"], experts, int(neighbours), float(quantile))

    def summary(self) -> dict:
        """The thresholds, as the run's metrics record them."""
        return {
            "neighbours": self.neighbours,
            "quantile": self.quantile,
            "experts": {
                name: {
                    "training_structures": len(d.reference),
                    "volume_per_atom_A3": list(d.volume_range),
                    "distance_threshold": d.distance_threshold,
                }
                for name, d in self.experts.items()
            },
        }
