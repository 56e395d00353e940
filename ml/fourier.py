"""Fourier coefficients of a crystal's charge and mass densities (Novakovic et al. 2023).

Why: the structural branch of the T_c model sees a crystal not as a list of atoms but as the
low-order Fourier coefficients of two smooth periodic densities built from it, one for charge
and one for mass. The coefficients do not depend on the order of the sites, a shift of the
origin only changes their phases, and they have a fixed shape (δ×δ×δ×2) whatever the number of
atoms, so a convolutional network can read them like a 3-D image.

Each atom j (element Z, fractional position f_j, cell volume V) contributes to density Γ a
Gaussian of weight N_{Z,Γ} and variance σ²_{Z,Γ}; by Poisson summation the coefficients are

    F_Γ(h) = Σ_j N_{Z_j,Γ}/V · exp(−½ σ²_{Z_j,Γ} |G_h|²) · exp(−2πi h·f_j),   G_h = 2π B h,

with B the reciprocal basis (paper Eq. 11, ``metric="reciprocal"``) or |G_h|² taken per axis
from h/a, k/b, l/c (paper Eq. 10, ``metric="per_axis"``; equal for orthogonal cells). Weights are
N = (Z, atomic mass) for (charge, mass). The sum is divided by the cell volume V
(``normalisation="volume"``, the paper's density per volume) or by the product of the cell
lengths a·b·c (``normalisation="abc"``, what the authors' public code does; equal for
orthogonal cells). Only 0 ≤ h, k, l < δ is kept (the paper's choice);
the density is real, so F(−h) = conj(F(h)) and the other octants with all signs flipped are
redundant (the mixed-sign octants are not kept, as in the paper).

The optional von Mises density (paper Eqs. 14–16) has coefficients

    F_Γ(h) = N/V · Π_i I_{h_i}(κ_i)/I_0(κ_i) · exp(−2πi h·f_j)

per axis i. The paper only says κ ∝ 1/σ²; here κ_i = (|v_i| / (2π σ))², with |v_i| the length
of lattice vector i. That is the one choice for which the large-κ limit
I_h(κ)/I_0(κ) → exp(−h²/(2κ)) (paper Eq. 16) is exactly the per-axis Gaussian: the von Mises
bump then has the same width σ in Å as the Gaussian along each axis. It is therefore only
defined with ``metric="per_axis"``. Bessel ratios use scipy's exponentially scaled ``ive``,
which does not overflow for large κ.

The authors' public code (METHODS.md, "What the authors' public code does") writes the
per-axis envelope as exp(−2π² σ (h/a)²) with a width parameter σ. Ours is
exp(−½ σ² |G|²) with |G|² = (2πh/a)² per axis, i.e. exp(−½ σ² 4π² (h/a)²) = exp(−2π² σ² (h/a)²):
their σ is our σ² (a variance in Å²), so their σ = 0.25·r(Z) for charge and σ = 0.0025·m(Z)
for mass are ``width_assignment="authors"`` with γ_charge = 0.25 and γ_mass = 0.0025
(σ²_charge = γ_charge·r(Z), σ²_mass = γ_mass·m(Z), m the atomic mass in amu), together with
``metric="per_axis"`` and ``normalisation="abc"``. The ``authors`` feature preset of
``ml.structure_features`` is that configuration.

Element data come from pymatgen: the atomic mass and the empirical atomic radius
(``Element.atomic_radius``), falling back to the calculated radius
(``atomic_radius_calculated``) where the empirical one is missing (in the default table this
only concerns He, Ne, Kr, Xe and Rn). Elements with no radius in either table (At, Fr and
Cm…Og) cannot be represented, and noble gases are refused by default because the paper
predicts no T_c for structures containing them (its Fig. 4 leaves them blank). Refused
structures raise ``ValueError`` in ``coefficients`` and are reported per structure by
``batch_coefficients``.

``batch_coefficients`` is vectorised over structures, atoms and indices: the phase factor
separates per axis, exp(−2πi h·f) = e₁[h]·e₂[k]·e₃[l], so each sum over atoms is a batched
matrix product of per-axis tables; the Gaussian envelope with the reciprocal metric does not
separate for oblique cells, so it is evaluated on the δ³ grid once per (structure, element)
rather than per atom.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, ClassVar, Literal

import numpy as np
from pymatgen.core import DummySpecies, Element, Structure
from scipy.special import ive

Density = Literal["gaussian", "von_mises"]
Metric = Literal["reciprocal", "per_axis"]
WidthAssignment = Literal["eq4", "swapped", "authors"]
Normalisation = Literal["volume", "abc"]
RadiusTable = Literal["empirical", "calculated"]
ComplexDtype = Literal["complex64", "complex128"]

CHANNELS: tuple[str, str] = ("charge", "mass")
NOBLE_GASES: tuple[str, ...] = ("He", "Ne", "Ar", "Kr", "Xe", "Rn")
MAX_Z = 118
# Structures per chunk: bounds the working memory (about 0.2 MB per structure at δ = 13) and
# was the fastest setting measured by benchmarks/fourier.py.
DEFAULT_CHUNK_SIZE = 64

_TWO_PI = 2.0 * math.pi
_REAL_DTYPE = {"complex64": np.float32, "complex128": np.float64}


@dataclass(frozen=True)
class FourierConfig:
    """Every parameter of the Fourier density representation, with the paper's defaults."""

    delta: int = 13
    gamma_charge: float = 0.0025
    gamma_mass: float = 0.25
    density: Density = "gaussian"
    metric: Metric = "reciprocal"
    width_assignment: WidthAssignment = "eq4"
    radius_table: RadiusTable = "empirical"
    refuse_noble_gases: bool = True
    dtype: ComplexDtype = "complex64"
    normalisation: Normalisation = "volume"

    labels: ClassVar[dict[str, str]] = {
        "delta": "cutoff δ: indices 0 ≤ h, k, l < δ are kept",
        "gamma_charge": "γ of the charge density's width (paper γ_e)",
        "gamma_mass": "γ of the mass density's width (paper γ_m)",
        "density": "atomic density shape: 'gaussian' (Eq. 13) or 'von_mises' (Eq. 15)",
        "metric": "|G_h|² from the reciprocal basis (Eq. 11) or per axis from h/a, k/b, l/c "
        "(Eq. 10)",
        "width_assignment": "'eq4': σ²_charge = γ_charge·Z, σ²_mass = γ_mass·r(Z) [Å²]; "
        "'swapped': σ²_charge = γ_charge·r(Z), σ²_mass = γ_mass·Z; "
        "'authors': σ²_charge = γ_charge·r(Z), σ²_mass = γ_mass·m(Z) (atomic mass, amu)",
        "radius_table": "r(Z) in Å: pymatgen's 'empirical' atomic_radius or "
        "'calculated' atomic_radius_calculated, each falling back to the other",
        "refuse_noble_gases": "refuse structures containing He, Ne, Ar, Kr, Xe or Rn",
        "dtype": "complex dtype of the coefficients",
        "normalisation": "the sum over atoms divided by the cell 'volume' (the paper) or by "
        "the product of the cell lengths 'abc' (the authors' code)",
    }
    citations: ClassVar[tuple[str, ...]] = (
        "Novakovic, Salamat, Lawler, Machine learning using structural representations for "
        "discovery of high temperature superconductors, arXiv:2301.10474 (2023), Secs. III-IV, "
        "Eqs. 4-17",
        "Ong, S. P. et al. (2013), Python Materials Genomics (pymatgen), Comput. Mater. Sci. 68, "
        "314-319: atomic masses and atomic radii (Element.atomic_mass, .atomic_radius, "
        ".atomic_radius_calculated)",
    )

    def __post_init__(self) -> None:
        if self.delta < 1:
            raise ValueError(f"delta must be at least 1, got {self.delta}")
        if not (self.gamma_charge > 0 and self.gamma_mass > 0):
            raise ValueError("gamma_charge and gamma_mass must be positive")
        _check_choice("density", self.density, ("gaussian", "von_mises"))
        _check_choice("metric", self.metric, ("reciprocal", "per_axis"))
        _check_choice("width_assignment", self.width_assignment, ("eq4", "swapped", "authors"))
        _check_choice("normalisation", self.normalisation, ("volume", "abc"))
        _check_choice("radius_table", self.radius_table, ("empirical", "calculated"))
        _check_choice("dtype", self.dtype, tuple(_REAL_DTYPE))
        if self.density == "von_mises" and self.metric != "per_axis":
            raise ValueError(
                "the von Mises density is defined per lattice axis (paper Eq. 14); "
                "use metric='per_axis' with density='von_mises'"
            )

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Shape of one structure's coefficients: (δ, δ, δ, channel)."""
        return (self.delta, self.delta, self.delta, len(CHANNELS))

    def as_dict(self) -> dict[str, Any]:
        """The parameter values, for recording next to results. ``normalisation`` is left out
        at its default ("volume"), exactly as runs recorded before it existed, so their
        records still match (and their feature caches keep their keys)."""
        values = asdict(self)
        if self.normalisation == "volume":
            del values["normalisation"]
        return values


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


DEFAULT_CONFIG = FourierConfig()


# --- element data -------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementData:
    """Per-element data indexed by atomic number (index 0 unused); NaN where missing."""

    symbols: tuple[str, ...]
    mass: np.ndarray  # amu
    radius: np.ndarray  # Å
    radius_fallback: frozenset[str]  # elements whose radius came from the other table


@lru_cache(maxsize=4)
def element_data(radius_table: RadiusTable = "empirical") -> ElementData:
    """Masses and radii for Z = 1…118 from pymatgen, with the other radius table as fallback."""
    symbols = [""]
    mass = np.full(MAX_Z + 1, np.nan)
    radius = np.full(MAX_Z + 1, np.nan)
    fallback = set()
    for z in range(1, MAX_Z + 1):
        element = Element.from_Z(z)
        symbols.append(element.symbol)
        if element.atomic_mass is not None:
            mass[z] = float(element.atomic_mass)
        with warnings.catch_warnings():  # pymatgen warns for every missing value
            warnings.simplefilter("ignore", UserWarning)
            empirical, calculated = element.atomic_radius, element.atomic_radius_calculated
        first, second = (
            (empirical, calculated) if radius_table == "empirical" else (calculated, empirical)
        )
        if first is not None:
            radius[z] = float(first)
        elif second is not None:
            radius[z] = float(second)
            fallback.add(element.symbol)
    return ElementData(tuple(symbols), mass, radius, frozenset(fallback))


@dataclass(frozen=True)
class _Parameters:
    weight: np.ndarray  # (MAX_Z + 1, 2): N_{Z,Γ}
    sigma2: np.ndarray  # (MAX_Z + 1, 2): σ²_{Z,Γ} in Å²
    refusals: dict[int, str]  # Z -> why structures containing it are refused


@lru_cache(maxsize=16)
def _parameters(config: FourierConfig) -> _Parameters:
    data = element_data(config.radius_table)
    z = np.arange(MAX_Z + 1, dtype=np.float64)
    weight = np.stack([z, data.mass], axis=1)
    by_z, by_radius, by_mass = z, data.radius, data.mass
    if config.width_assignment == "eq4":
        sigma2 = np.stack([config.gamma_charge * by_z, config.gamma_mass * by_radius], axis=1)
    elif config.width_assignment == "swapped":
        sigma2 = np.stack([config.gamma_charge * by_radius, config.gamma_mass * by_z], axis=1)
    else:
        sigma2 = np.stack([config.gamma_charge * by_radius, config.gamma_mass * by_mass], axis=1)
    refusals: dict[int, str] = {}
    for number in range(1, MAX_Z + 1):
        symbol = data.symbols[number]
        if config.refuse_noble_gases and symbol in NOBLE_GASES:
            refusals[number] = f"{symbol} is a noble gas (refuse_noble_gases=True)"
        elif not (np.isfinite(data.radius[number]) and np.isfinite(data.mass[number])):
            refusals[number] = f"{symbol} has no atomic radius or mass in pymatgen"
    weight[0] = sigma2[0] = np.nan
    return _Parameters(weight, sigma2, refusals)


# --- reading structures -------------------------------------------------------------------


@dataclass(frozen=True)
class _Atoms:
    """The atoms of several structures, flattened; ``owner`` is non-decreasing."""

    z: np.ndarray  # (n,) atomic numbers
    frac: np.ndarray  # (n, 3) fractional coordinates
    occupancy: np.ndarray  # (n,) site occupancy (1 for ordered sites)
    owner: np.ndarray  # (n,) index of the structure each atom belongs to
    lattices: np.ndarray  # (s, 3, 3) lattice vectors as rows, Å


def _site_arrays(structure: Structure) -> tuple[list[int], list[float], list[int], list[str]]:
    """Atomic numbers, occupancies and site indices of every (site, species); unknown names."""
    numbers: list[int] = []
    occupancies: list[float] = []
    site_index: list[int] = []
    unknown: list[str] = []
    for index, species in enumerate(structure.species_and_occu):
        for specie, occupancy in species.items():
            number = 0 if isinstance(specie, DummySpecies) else getattr(specie, "Z", 0)
            if not (isinstance(number, int) and 1 <= number <= MAX_Z):
                unknown.append(str(specie))
                number = 0
            numbers.append(number)
            occupancies.append(occupancy)
            site_index.append(index)
    return numbers, occupancies, site_index, unknown


def _refusal(
    structure: Structure,
    numbers: Sequence[int],
    unknown: Sequence[str],
    config: FourierConfig,
    index: int | None,
) -> str | None:
    """Why a structure cannot be represented (naming it and the elements), or None."""
    if len(structure) == 0:
        reason = "it has no sites"
    elif unknown:
        reason = f"{', '.join(sorted(set(unknown)))}: no element data (not an element 1…118)"
    else:
        refusals = _parameters(config).refusals
        reason = "; ".join(sorted({refusals[z] for z in set(numbers) if z in refusals}))
    if not reason:
        return None
    with warnings.catch_warnings():  # the formula's ordering warns for noble gases
        warnings.simplefilter("ignore", UserWarning)
        formula = structure.composition.formula if len(structure) else "no sites"
    name = f"structure ({formula})" if index is None else f"structure {index} ({formula})"
    return f"{name} refused: {reason}"


def _read(
    structures: Sequence[Structure], config: FourierConfig, first_index: int
) -> tuple[_Atoms, list[int], dict[int, str]]:
    """Flatten the representable structures; report the others by their position."""
    numbers: list[int] = []
    occupancies: list[float] = []
    fractional: list[np.ndarray] = []
    counts: list[int] = []
    lattices: list[np.ndarray] = []
    kept: list[int] = []
    errors: dict[int, str] = {}
    for position, structure in enumerate(structures):
        z, occupancy, sites, unknown = _site_arrays(structure)
        index = first_index + position
        reason = _refusal(structure, z, unknown, config, index)
        if reason is not None:
            errors[index] = reason
            continue
        frac = structure.frac_coords
        fractional.append(frac if len(sites) == len(frac) else frac[sites])
        numbers.extend(z)
        occupancies.extend(occupancy)
        counts.append(len(z))
        lattices.append(structure.lattice.matrix)
        kept.append(position)
    atoms = _Atoms(
        z=np.asarray(numbers, dtype=np.int64),
        frac=np.concatenate(fractional) if fractional else np.zeros((0, 3)),
        occupancy=np.asarray(occupancies, dtype=np.float64),
        owner=np.repeat(np.arange(len(counts)), np.asarray(counts, dtype=np.int64)),
        lattices=np.asarray(lattices, dtype=np.float64).reshape(-1, 3, 3),
    )
    return atoms, kept, errors


def _normalisers(lattices: np.ndarray, normalisation: Normalisation) -> np.ndarray:
    """What each structure's sum is divided by: its cell volume or a·b·c; (s,) float64."""
    if normalisation == "abc":
        return np.prod(np.linalg.norm(lattices, axis=-1), axis=-1)
    return np.abs(np.linalg.det(lattices))


# --- numerical kernels --------------------------------------------------------------------


def _phase_tables(frac: np.ndarray, indices: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """exp(−2πi h f) per atom, axis and index: shape (atoms, 3, len(indices))."""
    turns = frac[:, :, None] * indices
    turns -= np.rint(turns)  # whole turns are exact no-ops; keep the angle within ±π
    angle = turns * -_TWO_PI
    return (np.cos(angle) + 1j * np.sin(angle)).astype(dtype)


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values of sorted ``keys``, where each run of equal keys starts and its length."""
    values, start, size = np.unique(keys, return_index=True, return_counts=True)
    return values, start, size


def _triple_products(tables: np.ndarray, start: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Σ_{j in run} t₀[j,h] t₁[j,k] t₂[j,l] for each run of rows of ``tables``; (runs, m³).

    Runs of equal length are processed together as one batched matrix product, so there is
    no padding and no Python loop over atoms or indices (only over distinct run lengths).
    """
    m = tables.shape[2]
    out = np.empty((len(start), m * m, m), dtype=tables.dtype)
    for n in np.unique(size):
        chosen = np.flatnonzero(size == n)
        rows = tables[start[chosen, None] + np.arange(n)]  # (g, n, 3, m)
        if n == 1:
            plane = rows[:, 0, 0, :, None] * rows[:, 0, 1, None, :]
            out[chosen] = plane.reshape(len(chosen), m * m, 1) * rows[:, 0, 2, None, :]
            continue
        plane = rows[:, :, 0, :, None] * rows[:, :, 1, None, :]  # (g, n, m, m)
        plane = plane.reshape(len(chosen), n, m * m).transpose(0, 2, 1)
        out[chosen] = np.matmul(plane, rows[:, :, 2, :])
    return out.reshape(len(start), m**3)


def _squared_g(lattices: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """|G_h|² = (2π)² hᵀ g* h on the index grid, g* the reciprocal metric; (s, m³) float64."""
    metric = lattices @ lattices.transpose(0, 2, 1)
    inverse = np.linalg.inv(metric)
    h, k, l = np.meshgrid(indices, indices, indices, indexing="ij")  # noqa: E741
    monomials = np.stack([h * h, k * k, l * l, 2 * h * k, 2 * h * l, 2 * k * l]).reshape(6, -1)
    parts = inverse[:, [0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]
    return (_TWO_PI**2) * (parts @ monomials.astype(np.float64))


def _element_groups(atoms: _Atoms) -> tuple[np.ndarray, ...]:
    """Runs of atoms of one element within one structure, ordered by (rank, structure).

    Returns the atom order and, per group, its start, size, structure, Z and rank (0 for the
    first element of each structure). Rank-major order makes the rank-0 groups exactly the
    structures in order, so they can be written to the output without an index.
    """
    key = atoms.owner * (MAX_Z + 1) + atoms.z
    order = np.argsort(key, kind="stable")
    keys, start, size = _runs(key[order])
    owner, z = keys // (MAX_Z + 1), keys % (MAX_Z + 1)
    first_of_owner = np.flatnonzero(np.diff(owner, prepend=-1))
    rank = np.arange(len(keys)) - np.repeat(
        first_of_owner, np.diff(first_of_owner, append=len(keys))
    )
    by_rank = np.argsort(rank, kind="stable")
    return order, start[by_rank], size[by_rank], owner[by_rank], z[by_rank], rank[by_rank]


def _reciprocal_gaussian(
    atoms: _Atoms, config: FourierConfig, indices: np.ndarray, out: np.ndarray
) -> None:
    """Gaussian densities with the reciprocal metric, written to ``out`` (structures, m³, 2).

    Per (structure, element) group: the phase sum S_g(h) (batched matrix products), then
    F_Γ += S_g · N/V · exp(−½σ²|G|²), with the envelope evaluated once per group and channel.
    """
    real = _REAL_DTYPE[config.dtype]
    params = _parameters(config)
    order, start, size, owner, z, rank = _element_groups(atoms)
    tables = _phase_tables(atoms.frac[order], indices, np.dtype(config.dtype))
    tables[:, 0, :] *= atoms.occupancy[order, None]
    sums = _triple_products(tables, start, size)  # (groups, m³)

    squared = _squared_g(atoms.lattices, indices).astype(real)  # (structures, m³)
    volume = _normalisers(atoms.lattices, config.normalisation)
    minus_half_sigma2 = (-0.5 * params.sigma2[z]).astype(real)  # (groups, 2)
    log_weight = (np.log(params.weight[z]) - np.log(volume[owner])[:, None]).astype(real)
    bounds = np.flatnonzero(np.diff(rank, prepend=-1, append=rank[-1] + 1))
    for lo, hi in itertools.pairwise(bounds):
        block = slice(lo, hi)
        first = lo == 0  # the rank-0 block covers every structure, in order
        grid = squared if first else squared[owner[block]]
        for channel in range(len(CHANNELS)):
            envelope = grid * minus_half_sigma2[block, channel, None]
            envelope += log_weight[block, channel, None]
            np.exp(envelope, out=envelope)  # N/V · exp(−½σ²|G|²)
            if first:
                np.multiply(sums[block], envelope, out=out[:, :, channel])
            else:
                out[owner[block], :, channel] += sums[block] * envelope


def _axis_factors(
    sigma2: np.ndarray, lengths: np.ndarray, indices: np.ndarray, density: Density
) -> np.ndarray:
    """Per-axis envelope for σ² (groups,) and lattice lengths (groups, 3): (groups, 3, m)."""
    if density == "gaussian":
        wave = _TWO_PI * indices / lengths[:, :, None]
        return np.exp(-0.5 * sigma2[:, None, None] * wave * wave)
    kappa = (lengths / _TWO_PI) ** 2 / sigma2[:, None]
    return ive(np.abs(indices), kappa[:, :, None]) / ive(0, kappa)[:, :, None]


def _separable(atoms: _Atoms, config: FourierConfig, indices: np.ndarray, out: np.ndarray) -> None:
    """Per-axis Gaussian or von Mises densities, which factor over the three axes.

    The envelope folds into the per-axis tables, so each channel is one set of batched
    matrix products over all atoms of a structure. Written to ``out`` (structures, m³, 2).
    """
    params = _parameters(config)
    _, start, size = _runs(atoms.owner)
    lengths = np.linalg.norm(atoms.lattices, axis=2)
    volume = _normalisers(atoms.lattices, config.normalisation)
    # The factors depend only on (structure, element): evaluate them once per pair.
    pairs, inverse = np.unique(atoms.owner * (MAX_Z + 1) + atoms.z, return_inverse=True)
    pair_owner, pair_z = pairs // (MAX_Z + 1), pairs % (MAX_Z + 1)

    phases = _phase_tables(atoms.frac, indices, np.dtype(config.dtype))
    for channel in range(len(CHANNELS)):
        sigma2 = params.sigma2[pair_z, channel]
        factors = _axis_factors(sigma2, lengths[pair_owner], indices, config.density)
        factors[:, 0, :] *= (params.weight[pair_z, channel] / volume[pair_owner])[:, None]
        tables = phases * factors[inverse]
        tables[:, 0, :] *= atoms.occupancy[:, None]
        out[:, :, channel] = _triple_products(tables, start, size)


def _batch_on_indices(
    structures: Sequence[Structure],
    config: FourierConfig,
    indices: np.ndarray,
    chunk_size: int,
) -> tuple[np.ndarray, dict[int, str]]:
    """Coefficients on the grid ``indices``³ (any integers) for every structure."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    indices = np.asarray(indices, dtype=np.int64)
    m = len(indices)
    out = np.empty((len(structures), m**3, len(CHANNELS)), dtype=config.dtype)
    kernel = (
        _reciprocal_gaussian
        if config.density == "gaussian" and config.metric == "reciprocal"
        else _separable
    )
    errors: dict[int, str] = {}
    for first in range(0, len(structures), chunk_size):
        chunk = structures[first : first + chunk_size]
        atoms, kept, chunk_errors = _read(chunk, config, first)
        errors.update(chunk_errors)
        out[list(chunk_errors)] = np.nan
        if len(kept) == len(chunk):  # nothing refused: write in place
            kernel(atoms, config, indices, out[first : first + len(chunk)])
        elif kept:
            rows = np.empty((len(kept), m**3, len(CHANNELS)), dtype=config.dtype)
            kernel(atoms, config, indices, rows)
            out[first + np.asarray(kept)] = rows
    return out.reshape(len(structures), m, m, m, len(CHANNELS)), errors


# --- public API ---------------------------------------------------------------------------


def batch_coefficients(
    structures: Sequence[Structure],
    config: FourierConfig = DEFAULT_CONFIG,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> tuple[np.ndarray, dict[int, str]]:
    """Coefficients of many structures: an (n, δ, δ, δ, 2) array and the refusals by position.

    A refused structure's row is NaN and ``errors[i]`` says why; the others are computed.
    ``chunk_size`` structures are processed at a time (memory ~0.2 MB each at δ = 13).
    """
    return _batch_on_indices(structures, config, np.arange(config.delta), chunk_size)


def coefficients(structure: Structure, config: FourierConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Coefficients F_Γ(h), 0 ≤ h, k, l < δ, of one structure: (δ, δ, δ, 2), Γ = charge, mass.

    Raises ValueError naming the structure and element if it cannot be represented.
    """
    numbers, _, _, unknown = _site_arrays(structure)
    reason = _refusal(structure, numbers, unknown, config, None)
    if reason is not None:
        raise ValueError(reason)
    values, _ = batch_coefficients([structure], config)
    return values[0]


def reference_coefficients(
    structure: Structure,
    config: FourierConfig = DEFAULT_CONFIG,
    indices: np.ndarray | None = None,
) -> np.ndarray:
    """The defining sums evaluated directly in float64, atom by atom on the full index grid.

    Slow and simple, for checking ``batch_coefficients``; returns complex128 (m, m, m, 2).
    """
    numbers, occupancy, sites, unknown = _site_arrays(structure)
    reason = _refusal(structure, numbers, unknown, config, None)
    if reason is not None:
        raise ValueError(reason)
    params = _parameters(config)
    z = np.asarray(numbers)
    frac = structure.frac_coords[sites]
    index = np.arange(config.delta) if indices is None else np.asarray(indices)
    m = len(index)
    grid = np.stack(np.meshgrid(index, index, index, indexing="ij"), axis=-1).reshape(-1, 3)
    lattice = structure.lattice.matrix
    volume = float(_normalisers(lattice[None], config.normalisation)[0])
    lengths = np.linalg.norm(lattice, axis=1)
    phase = np.exp(-2j * np.pi * (frac @ grid.T))  # (atoms, m³)
    if config.metric == "reciprocal":
        g_vectors = _TWO_PI * grid @ np.linalg.inv(lattice).T  # rows: 2π Σ h_i b_i
    else:
        g_vectors = _TWO_PI * grid / lengths
    squared = np.sum(g_vectors**2, axis=1)
    out = np.empty((m**3, len(CHANNELS)), dtype=np.complex128)
    for channel in range(len(CHANNELS)):
        sigma2 = params.sigma2[z, channel]
        if config.density == "gaussian":
            envelope = np.exp(-0.5 * sigma2[:, None] * squared)
        else:
            kappa = (lengths[None, :] / _TWO_PI) ** 2 / sigma2[:, None]  # (atoms, 3)
            envelope = np.ones((len(z), len(grid)))
            for axis in range(3):
                ratio = ive(np.abs(grid[:, axis]), kappa[:, axis, None])
                envelope *= ratio / ive(0, kappa[:, axis, None])
        weight = np.asarray(occupancy) * params.weight[z, channel] / volume
        out[:, channel] = np.sum(weight[:, None] * envelope * phase, axis=0)
    return out.reshape(m, m, m, len(CHANNELS))
