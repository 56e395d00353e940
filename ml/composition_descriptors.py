"""The 175 numerical descriptors of the structural model (Novakovic et al. 2023, Sec. III).

Why: the network's numerical branch takes 86 element counts per unit cell (Z 1-86), the 81
composition descriptors of Hamidieh (2018) and 8 lattice descriptors; the 81 alone feed the
composition-only baseline ("T_c chem"). Each set is a small matminer-style class with
``featurize``, ``feature_labels`` and ``citations``; the composition statistics also have a batch
path vectorised over a padded (materials x elements) matrix, which returns per-row errors instead
of raising, so that a whole SuperCon snapshot can be featurised in one call.

Composition statistics, for atomic fractions p_i (sum 1) and element values t_i of one property
(labels follow Hamidieh's published column names, e.g. ``wtd_gmean_ElectronAffinity``):

* mean Σt/n; wtd_mean Σp t; gmean (Πt)^(1/n); wtd_gmean Πt^p;
* entropy -Σw ln w with w = t/Σt; wtd_entropy the same with w = p t/Σ p t;
* range max t - min t; wtd_range max(p t) - min(p t);
* std population standard deviation of t; wtd_std (Σp (t - wtd_mean)²)^(1/2).

Values <= 0 (only electron affinity: an unbound anion has EA < 0) in the four log-based
statistics: with ``nonpositive="clip"`` (default) those statistics use max(t, 0). A zero factor
makes a geometric mean 0 (the limit of the product); an entropy term with w = 0 is 0 (0 ln 0 = 0);
when every clipped value is 0, Σt = 0 and the entropy is defined as 0. The other six statistics
use the signed values. With ``nonpositive="error"`` such a composition is an error instead.

Missing element data (see ``ml.element_data.gaps``) is filled only with ``impute="mean"`` (the
default), by ``ml.element_data.IMPUTATION_RULE``, and every filled value is counted; with
``impute="none"`` a composition touching a gap is an error naming element and property.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from pymatgen.core.periodic_table import Element

from tcdb.ml import element_data as ed
from tcdb.ml.magpie_descriptors import (
    FRACTION_LABELS,
    MAGPIE_LABELS,
    element_fractions,
    magpie_statistics,
)

STATISTICS: tuple[str, ...] = (
    "mean",
    "wtd_mean",
    "gmean",
    "wtd_gmean",
    "entropy",
    "wtd_entropy",
    "range",
    "wtd_range",
    "std",
    "wtd_std",
)
PROPERTIES: tuple[str, ...] = ed.HAMIDIEH_PROPERTIES
HAMIDIEH_NAMES: dict[str, str] = {
    "atomic_mass": "atomic_mass",
    "first_ionisation_energy": "fie",
    "atomic_radius": "atomic_radius",
    "density": "Density",
    "electron_affinity": "ElectronAffinity",
    "fusion_heat": "FusionHeat",
    "thermal_conductivity": "ThermalConductivity",
    "valence": "Valence",
}
COMPOSITION_LABELS: tuple[str, ...] = (
    "number_of_elements",
    *(f"{stat}_{HAMIDIEH_NAMES[prop]}" for prop in PROPERTIES for stat in STATISTICS),
)
MAX_COUNT_Z = 86
ELEMENT_COUNT_LABELS: tuple[str, ...] = tuple(
    f"count_{Element.from_Z(z).symbol}" for z in range(1, MAX_COUNT_Z + 1)
)
LATTICE_LABELS: tuple[str, ...] = (
    "a",
    "b",
    "c",
    "alpha",
    "beta",
    "gamma",
    "space_group_number",
    "volume",
)
NUMERICAL_LABELS: tuple[str, ...] = ELEMENT_COUNT_LABELS + COMPOSITION_LABELS + LATTICE_LABELS
DEFAULT_SYMPREC = 0.1
DEFAULT_ANGLE_TOLERANCE = 5.0

HAMIDIEH_2018 = (
    "K. Hamidieh, A data-driven statistical model for predicting the critical temperature of a "
    "superconductor, Comput. Mater. Sci. 154, 346-354 (2018), doi:10.1016/j.commatsci.2018.07.052"
)
NOVAKOVIC_2023 = (
    "L. Novakovic, A. Salamat, K. V. Lawler, Machine learning using structural representations "
    "for discovery of high temperature superconductors, arXiv:2301.10474 (2023)"
)
PYMATGEN = (
    "S. P. Ong et al., Python Materials Genomics (pymatgen), Comput. Mater. Sci. 68, 314-319 "
    "(2013), doi:10.1016/j.commatsci.2012.10.028"
)
SPGLIB = (
    "A. Togo, I. Tanaka, spglib: a software library for crystal symmetry search, arXiv:1808.01590"
)
MENDELEEV = (
    "L. M. Mentel, mendeleev - a Python package with properties of chemical elements (2014-)"
)

Impute = Literal["mean", "none"]
Nonpositive = Literal["clip", "error"]


@dataclass(frozen=True)
class CompositionDescriptorConfig:
    """Choices behind the 81 composition descriptors (record ``as_dict()`` with every run)."""

    impute: Impute = "mean"
    nonpositive: Nonpositive = "clip"

    def __post_init__(self) -> None:
        if self.impute not in ("mean", "none"):
            raise ValueError(f"impute must be 'mean' or 'none', not {self.impute!r}")
        if self.nonpositive not in ("clip", "error"):
            raise ValueError(f"nonpositive must be 'clip' or 'error', not {self.nonpositive!r}")

    def as_dict(self) -> dict[str, Any]:
        """The configuration plus the element-data sources and rules it implies."""
        return {
            "impute": self.impute,
            "imputation_rule": ed.IMPUTATION_RULE if self.impute == "mean" else None,
            "nonpositive": self.nonpositive,
            "properties": {p: ed.SOURCES[p].as_dict() for p in PROPERTIES},
            "labels": "Hamidieh (2018) column names",
        }


DEFAULT_CONFIG = CompositionDescriptorConfig()


@dataclass
class DescriptorBatch:
    """Descriptors of many inputs: NaN rows where ``errors`` says why a row failed."""

    X: np.ndarray
    labels: tuple[str, ...]
    errors: dict[int, str] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)
    imputed_rows: int = 0

    @property
    def valid(self) -> np.ndarray:
        """Boolean mask of the rows that were computed."""
        mask = np.ones(len(self.X), dtype=bool)
        mask[list(self.errors)] = False
        return mask

    def report(self) -> dict[str, Any]:
        """Counts for a run manifest."""
        return {
            "rows": len(self.X),
            "failed_rows": len(self.errors),
            "imputed_values": dict(self.imputed),
            "rows_with_imputed_values": self.imputed_rows,
        }


# --- element data as arrays -------------------------------------------------------------------


@cache
def _property_arrays(impute: Impute) -> tuple[np.ndarray, np.ndarray]:
    """(values, missing) of shape (119, 8) indexed by Z; row 0 is NaN (padding, unknown)."""
    table = ed.element_table()[list(PROPERTIES)]
    missing = np.zeros((ed.MAX_Z + 1, len(PROPERTIES)), dtype=bool)
    missing[1:] = table.isna().to_numpy()
    if impute == "mean":
        table = table.fillna(ed.imputation_values(PROPERTIES))
    values = np.full((ed.MAX_Z + 1, len(PROPERTIES)), np.nan)
    values[1:] = table.to_numpy(dtype=float)
    values.setflags(write=False)
    missing.setflags(write=False)
    return values, missing


def _symbol(key: Any) -> str:
    """Element symbol of a mapping key: a string, a pymatgen Element or Species."""
    return getattr(key, "symbol", key) if not isinstance(key, str) else key


def normalise_amounts(composition: Mapping[Any, float]) -> dict[str, float]:
    """Atomic fractions (summing to 1) of an element -> amount mapping.

    Keys are symbols or pymatgen Element/Species (repeated elements are summed); amounts must be
    finite and positive. Raises :class:`ml.element_data.ElementDataError` for an unknown element
    and ``ValueError`` for a bad amount or an empty mapping.
    """
    amounts: dict[str, float] = {}
    for key, amount in composition.items():
        symbol = _symbol(key)
        ed.atomic_number(symbol)
        value = float(amount)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"amount of {symbol} must be positive and finite, got {amount!r}")
        amounts[symbol] = amounts.get(symbol, 0.0) + value
    if not amounts:
        raise ValueError("empty composition")
    total = sum(amounts.values())
    return {symbol: value / total for symbol, value in amounts.items()}


# --- one composition: direct, readable implementation ----------------------------------------


def _entropy(x: np.ndarray) -> float:
    """-Σ w ln w with w = x/Σx; 0 ln 0 = 0 and Σx = 0 gives 0."""
    total = x.sum()
    if total <= 0:
        return 0.0
    w = x[x > 0] / total
    return float(0.0 - (w * np.log(w)).sum())


def _geometric(x: np.ndarray, weights: np.ndarray) -> float:
    """exp(Σ weights ln x), 0 when any x is 0."""
    if np.any(x <= 0):
        return 0.0
    return float(np.exp((weights * np.log(x)).sum()))


def statistics(t: np.ndarray, p: np.ndarray, nonpositive: Nonpositive = "clip") -> np.ndarray:
    """The 10 statistics of values ``t`` with fractions ``p``, in the order of ``STATISTICS``."""
    t = np.asarray(t, dtype=float)
    p = np.asarray(p, dtype=float)
    if nonpositive == "error" and np.any(t <= 0):
        raise ValueError("values <= 0 in a log-based statistic (nonpositive='error')")
    n = len(t)
    clipped = np.maximum(t, 0.0)
    wmean = float((p * t).sum())
    pt = p * t
    return np.array(
        [
            t.mean(),
            wmean,
            _geometric(clipped, np.full(n, 1.0 / n)),
            _geometric(clipped, p),
            _entropy(clipped),
            _entropy(p * clipped),
            t.max() - t.min(),
            pt.max() - pt.min(),
            t.std(),
            math.sqrt(float((p * (t - wmean) ** 2).sum())),
        ]
    )


def _element_values(symbols: Sequence[str], config: CompositionDescriptorConfig) -> np.ndarray:
    """(elements x 8) property values; raises for a gap unless imputing."""
    values, missing = _property_arrays(config.impute)
    z = [ed.atomic_number(s) for s in symbols]
    if config.impute == "none":
        for symbol, zi in zip(symbols, z, strict=True):
            lacking = [p for p, gap in zip(PROPERTIES, missing[zi], strict=True) if gap]
            if lacking:
                raise ed.ElementDataError(symbol, lacking)
    return values[z]


def composition_features(
    composition: Mapping[Any, float], config: CompositionDescriptorConfig = DEFAULT_CONFIG
) -> np.ndarray:
    """The 81 composition descriptors (``COMPOSITION_LABELS``) of one element -> amount mapping."""
    fractions = normalise_amounts(composition)
    symbols = list(fractions)
    p = np.array([fractions[s] for s in symbols])
    values = _element_values(symbols, config)
    out = [float(len(symbols))]
    for j, prop in enumerate(PROPERTIES):
        try:
            out.extend(statistics(values[:, j], p, config.nonpositive))
        except ValueError as err:
            raise ValueError(f"{prop}: {err}") from None
    return np.array(out)


def imputed_values(
    composition: Mapping[Any, float], config: CompositionDescriptorConfig = DEFAULT_CONFIG
) -> list[tuple[str, str]]:
    """The (element, property) pairs that ``composition_features`` fills for this composition."""
    if config.impute == "none":
        return []
    _, missing = _property_arrays(config.impute)
    return [
        (symbol, prop)
        for symbol in normalise_amounts(composition)
        for prop, gap in zip(PROPERTIES, missing[ed.atomic_number(symbol)], strict=True)
        if gap
    ]


# --- many compositions: padded arrays ----------------------------------------------------------


@dataclass
class _Padded:
    """Compositions as padded arrays: Z (0 = padding) and atomic fractions, shape (m, k)."""

    z: np.ndarray
    fractions: np.ndarray
    errors: dict[int, str]

    @property
    def mask(self) -> np.ndarray:
        return self.z > 0


def _flatten(
    compositions: Sequence[Any],
) -> tuple[np.ndarray, list[str], list[Any], dict[int, str]]:
    """Row index, symbol and amount of every entry; rows that are not mappings become errors."""
    rows: list[int] = []
    keys: list[str] = []
    amounts: list[Any] = []
    errors: dict[int, str] = {}
    for i, comp in enumerate(compositions):
        if not isinstance(comp, Mapping) or not comp:
            errors[i] = "empty composition" if isinstance(comp, Mapping) else "not a mapping"
            continue
        rows.extend([i] * len(comp))
        keys.extend(_symbol(k) for k in comp)
        amounts.extend(comp.values())
    return np.asarray(rows, dtype=np.int64), keys, amounts, errors


def _first_error(rows: np.ndarray, bad: np.ndarray, message: Any, errors: dict[int, str]) -> None:
    """Record ``message(index)`` for the first bad entry of each row not yet in ``errors``."""
    for idx in np.flatnonzero(bad):
        errors.setdefault(int(rows[idx]), message(idx))


def _pad(compositions: Sequence[Any]) -> _Padded:
    """Validate, merge repeated elements and normalise, vectorised over all entries."""
    m = len(compositions)
    rows, keys, raw_amounts, errors = _flatten(compositions)
    z = ed.atomic_numbers(str(k) for k in keys)
    amounts = pd.to_numeric(pd.Series(raw_amounts, dtype=object), errors="coerce").to_numpy(float)
    _first_error(rows, z == 0, lambda i: f"unknown element {keys[i]!r}", errors)
    bad_amount = ~np.isfinite(amounts) | (amounts <= 0)
    _first_error(
        rows, bad_amount, lambda i: f"amount of {keys[i]} must be positive and finite", errors
    )
    keep = ~np.isin(rows, np.fromiter(errors, dtype=np.int64, count=len(errors)))
    rows, z, amounts = rows[keep], z[keep], amounts[keep]
    pair, inverse = np.unique(rows * (ed.MAX_Z + 1) + z, return_inverse=True)
    merged = np.bincount(inverse, weights=amounts, minlength=len(pair))
    rows, z = pair // (ed.MAX_Z + 1), pair % (ed.MAX_Z + 1)
    starts = np.searchsorted(rows, rows, side="left")
    position = np.arange(len(rows)) - starts
    width = int(position.max()) + 1 if len(rows) else 1
    z_pad = np.zeros((m, width), dtype=np.int64)
    a_pad = np.zeros((m, width))
    z_pad[rows, position] = z
    a_pad[rows, position] = merged
    totals = a_pad.sum(axis=1, keepdims=True)
    fractions = np.divide(a_pad, totals, out=np.zeros_like(a_pad), where=totals > 0)
    return _Padded(z_pad, fractions, errors)


def _gap_errors(padded: _Padded, missing: np.ndarray, errors: dict[int, str]) -> None:
    """Name element and property for each row that touches a gap (impute='none')."""
    gap = missing[padded.z] & padded.mask[..., None]
    for row in np.flatnonzero(gap.any(axis=(1, 2))):
        col = int(np.flatnonzero(gap[row].any(axis=1))[0])
        symbol = ed.symbols()[padded.z[row, col] - 1]
        lacking = [p for p, g in zip(PROPERTIES, gap[row, col], strict=True) if g]
        errors.setdefault(int(row), str(ed.ElementDataError(symbol, lacking)))


def _nonpositive_errors(padded: _Padded, values: np.ndarray, errors: dict[int, str]) -> None:
    """Rows with a value <= 0 when the configuration forbids them."""
    bad = (values <= 0) & padded.mask[..., None]
    for row in np.flatnonzero(bad.any(axis=(1, 2))):
        col, prop = (int(i[0]) for i in np.nonzero(bad[row]))
        symbol = ed.symbols()[padded.z[row, col] - 1]
        errors.setdefault(int(row), f"{PROPERTIES[prop]}: {symbol} has a value <= 0")


def _batch_entropy(x: np.ndarray) -> np.ndarray:
    """Entropy along axis 1 of non-negative ``x`` (m, k, P), zeros contributing nothing."""
    total = x.sum(axis=1, keepdims=True)
    w = np.divide(x, total, out=np.zeros_like(x), where=total > 0)
    safe = np.where(w > 0, w, 1.0)
    return 0.0 - (w * np.log(safe)).sum(axis=1)


def batch_statistics(values: np.ndarray, fractions: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The 10 statistics for padded ``values`` (m, k, P): result (m, P, 10).

    ``fractions`` (m, k) are 0 and ``mask`` (m, k) False at padding; rows need >= 1 element.
    Values <= 0 are clipped to 0 in the log-based statistics, as in :func:`statistics`.
    """
    inside = mask[..., None]
    n = np.maximum(mask.sum(axis=1), 1)[:, None]
    p = fractions[..., None]
    t = np.where(inside, values, 0.0)
    mean = t.sum(axis=1) / n
    wmean = (p * t).sum(axis=1)
    clipped = np.where(inside, np.maximum(t, 0.0), 0.0)
    has_zero = (inside & (clipped <= 0)).any(axis=1)
    logs = np.log(np.where(inside & (clipped > 0), clipped, 1.0))
    gmean = np.where(has_zero, 0.0, np.exp(logs.sum(axis=1) / n))
    wgmean = np.where(has_zero, 0.0, np.exp((p * logs).sum(axis=1)))
    pt = p * t
    spread = np.where(inside, t, -np.inf).max(axis=1) - np.where(inside, t, np.inf).min(axis=1)
    wspread = np.where(inside, pt, -np.inf).max(axis=1) - np.where(inside, pt, np.inf).min(axis=1)
    std = np.sqrt(np.where(inside, (t - mean[:, None, :]) ** 2, 0.0).sum(axis=1) / n)
    wstd = np.sqrt((p * (t - wmean[:, None, :]) ** 2).sum(axis=1))
    stats = (mean, wmean, gmean, wgmean, _batch_entropy(clipped), _batch_entropy(p * clipped))
    return np.stack((*stats, spread, wspread, std, wstd), axis=-1)


def composition_matrix(
    compositions: Sequence[Mapping[Any, float]],
    config: CompositionDescriptorConfig = DEFAULT_CONFIG,
) -> DescriptorBatch:
    """The 81 descriptors of many compositions: (m, 81) floats, failures collected per row."""
    padded = _pad(compositions)
    table, missing = _property_arrays(config.impute)
    errors = padded.errors
    values = table[padded.z]  # (m, k, 8)
    if config.impute == "none":
        _gap_errors(padded, missing, errors)
    if config.nonpositive == "error":
        _nonpositive_errors(padded, values, errors)
    failed = np.fromiter(errors, dtype=np.int64, count=len(errors))
    mask = padded.mask.copy()
    mask[failed] = False
    stats = batch_statistics(values, padded.fractions, mask)
    X = np.empty((len(compositions), len(COMPOSITION_LABELS)))
    X[:, 0] = mask.sum(axis=1)
    X[:, 1:] = stats.reshape(len(compositions), -1)
    X[failed] = np.nan
    filled = missing[padded.z] & mask[..., None]
    if config.impute == "none":
        filled[:] = False
    imputed = {prop: int(filled[..., j].sum()) for j, prop in enumerate(PROPERTIES)}
    rows_imputed = int(filled.any(axis=(1, 2)).sum())
    return DescriptorBatch(
        X, COMPOSITION_LABELS, dict(sorted(errors.items())), imputed, rows_imputed
    )


# --- presets: the 81 alone, or with element fractions and Magpie-style statistics -------------

HAMIDIEH81 = "hamidieh81"
RICH_PRESET = "hamidieh81+fractions+magpie"
PRESET_LABELS: dict[str, tuple[str, ...]] = {
    HAMIDIEH81: COMPOSITION_LABELS,
    RICH_PRESET: COMPOSITION_LABELS + FRACTION_LABELS + MAGPIE_LABELS,
}


def preset_matrix(
    compositions: Sequence[Mapping[Any, float]],
    preset: str = HAMIDIEH81,
    config: CompositionDescriptorConfig = DEFAULT_CONFIG,
) -> DescriptorBatch:
    """The columns of a descriptor preset (``PRESET_LABELS``) for many compositions."""
    if preset not in PRESET_LABELS:
        raise ValueError(f"unknown descriptor preset {preset!r}; choose {', '.join(PRESET_LABELS)}")
    batch = composition_matrix(compositions, config)
    if preset == HAMIDIEH81:
        return batch
    padded = _pad(compositions)
    z = np.where(batch.valid[:, None], padded.z, 0)
    extra = np.hstack(
        [
            element_fractions(z, padded.fractions),
            magpie_statistics(z, padded.fractions, impute=config.impute == "mean"),
        ]
    )
    X = np.hstack([batch.X, extra])
    X[~batch.valid] = np.nan
    return DescriptorBatch(
        X, PRESET_LABELS[preset], batch.errors, batch.imputed, batch.imputed_rows
    )


# --- structures -------------------------------------------------------------------------------


def element_counts(structure: Any) -> np.ndarray:
    """Number of atoms of each element Z 1-86 in the unit cell (occupancies summed)."""
    counts = np.zeros(MAX_COUNT_Z)
    for species, amount in structure.composition.items():
        z = getattr(species, "Z", None)
        if z is None or not 1 <= z <= MAX_COUNT_Z:
            message = f"{species} is outside Z 1-{MAX_COUNT_Z}, which the counts cover"
            raise ed.ElementDataError(str(species), message=message)
        counts[z - 1] += amount
    return counts


def space_group_number(
    structure: Any,
    symprec: float = DEFAULT_SYMPREC,
    angle_tolerance: float = DEFAULT_ANGLE_TOLERANCE,
) -> int:
    """International space-group number from pymatgen's SpacegroupAnalyzer (spglib)."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    analyzer = SpacegroupAnalyzer(structure, symprec=symprec, angle_tolerance=angle_tolerance)
    return int(analyzer.get_space_group_number())


def lattice_descriptors(
    structure: Any, space_group: int | None = None, symprec: float = DEFAULT_SYMPREC
) -> np.ndarray:
    """a, b, c (Å), α, β, γ (degrees), space-group number, volume (Å³) of the cell as given."""
    lattice = structure.lattice
    number = space_group if space_group is not None else space_group_number(structure, symprec)
    return np.array([*lattice.abc, *lattice.angles, float(number), lattice.volume])


def structure_composition(structure: Any) -> dict[str, float]:
    """Element amounts of a structure (species merged into their elements)."""
    return {el.symbol: amt for el, amt in structure.composition.element_composition.items()}


def numerical_descriptors(
    structure: Any,
    composition: Mapping[Any, float] | None = None,
    space_group: int | None = None,
    config: CompositionDescriptorConfig = DEFAULT_CONFIG,
    symprec: float = DEFAULT_SYMPREC,
) -> np.ndarray:
    """The 175 descriptors (``NUMERICAL_LABELS``) of one structure.

    The composition descriptors use ``composition`` when given (e.g. the SuperCon formula the
    structure was matched to), else the structure's own composition.
    """
    comp = composition if composition is not None else structure_composition(structure)
    return np.concatenate(
        [
            element_counts(structure),
            composition_features(comp, config),
            lattice_descriptors(structure, space_group, symprec),
        ]
    )


def numerical_matrix(
    structures: Sequence[Any],
    compositions: Sequence[Mapping[Any, float] | None] | None = None,
    space_groups: Sequence[int | None] | None = None,
    config: CompositionDescriptorConfig = DEFAULT_CONFIG,
    symprec: float = DEFAULT_SYMPREC,
) -> DescriptorBatch:
    """The 175 descriptors of many structures; failures collected per row, never raised."""
    m = len(structures)
    compositions = compositions if compositions is not None else [None] * m
    space_groups = space_groups if space_groups is not None else [None] * m
    counts = np.full((m, MAX_COUNT_Z), np.nan)
    lattice = np.full((m, len(LATTICE_LABELS)), np.nan)
    comps: list[Any] = []
    errors: dict[int, str] = {}
    for i, (structure, comp, sg) in enumerate(
        zip(structures, compositions, space_groups, strict=True)
    ):
        try:
            counts[i] = element_counts(structure)
            lattice[i] = lattice_descriptors(structure, sg, symprec)
            comps.append(comp if comp is not None else structure_composition(structure))
        except Exception as err:  # one bad structure must not stop a batch
            errors[i] = f"{type(err).__name__}: {err}"
            comps.append({})
    chem = composition_matrix(comps, config)
    for i, message in chem.errors.items():
        errors.setdefault(i, message)
    X = np.hstack([counts, chem.X, lattice])
    X[list(errors)] = np.nan
    return DescriptorBatch(
        X, NUMERICAL_LABELS, dict(sorted(errors.items())), chem.imputed, chem.imputed_rows
    )


# --- matminer-style featurizers ----------------------------------------------------------------


class CompositionStatistics:
    """Hamidieh's 81 composition descriptors (8 properties x 10 statistics + element count)."""

    def __init__(self, config: CompositionDescriptorConfig = DEFAULT_CONFIG) -> None:
        self.config = config

    def featurize(self, composition: Mapping[Any, float]) -> np.ndarray:
        return composition_features(composition, self.config)

    def featurize_many(self, compositions: Sequence[Mapping[Any, float]]) -> DescriptorBatch:
        return composition_matrix(compositions, self.config)

    def feature_labels(self) -> list[str]:
        return list(COMPOSITION_LABELS)

    def citations(self) -> list[str]:
        return [HAMIDIEH_2018, MENDELEEV, PYMATGEN]


class ElementCounts:
    """Atoms of each element Z 1-86 per unit cell (Novakovic et al. 2023)."""

    def featurize(self, structure: Any) -> np.ndarray:
        return element_counts(structure)

    def feature_labels(self) -> list[str]:
        return list(ELEMENT_COUNT_LABELS)

    def citations(self) -> list[str]:
        return [NOVAKOVIC_2023, PYMATGEN]


class LatticeDescriptors:
    """Cell lengths and angles, space-group number (spglib at ``symprec``) and volume."""

    def __init__(self, symprec: float = DEFAULT_SYMPREC) -> None:
        self.symprec = symprec

    def featurize(self, structure: Any, space_group: int | None = None) -> np.ndarray:
        return lattice_descriptors(structure, space_group, self.symprec)

    def feature_labels(self) -> list[str]:
        return list(LATTICE_LABELS)

    def citations(self) -> list[str]:
        return [NOVAKOVIC_2023, PYMATGEN, SPGLIB]


class NumericalDescriptors:
    """All 175 numerical descriptors: 86 element counts + 81 composition + 8 lattice."""

    def __init__(
        self, config: CompositionDescriptorConfig = DEFAULT_CONFIG, symprec: float = DEFAULT_SYMPREC
    ) -> None:
        self.config = config
        self.symprec = symprec

    def featurize(
        self,
        structure: Any,
        composition: Mapping[Any, float] | None = None,
        space_group: int | None = None,
    ) -> np.ndarray:
        return numerical_descriptors(structure, composition, space_group, self.config, self.symprec)

    def featurize_many(
        self,
        structures: Sequence[Any],
        compositions: Sequence[Mapping[Any, float] | None] | None = None,
        space_groups: Sequence[int | None] | None = None,
    ) -> DescriptorBatch:
        return numerical_matrix(structures, compositions, space_groups, self.config, self.symprec)

    def feature_labels(self) -> list[str]:
        return list(NUMERICAL_LABELS)

    def citations(self) -> list[str]:
        return [NOVAKOVIC_2023, HAMIDIEH_2018, MENDELEEV, PYMATGEN, SPGLIB]

    def as_dict(self) -> dict[str, Any]:
        """Configuration for a run manifest."""
        return {
            "composition": self.config.as_dict(),
            "symprec": self.symprec,
            "angle_tolerance": DEFAULT_ANGLE_TOLERANCE,
        }
