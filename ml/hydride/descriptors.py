"""Descriptors of a binary hydride E H_n for the (T_c, P) model of Hutcheon et al. (2020).

Why: the paper's network sees a hydride only through eight easily obtained numbers, the hydrogen
content n and seven properties of E (van der Waals radius, Z, mass number, s/p/d/f electrons of
the ground-state configuration). The same numbers describe the training data and the screen over
every element with n = 1 ... 31, so they come from one place (``ml.element_data``), from one van
der Waals table per run, and an element lacking any of them is an error naming the element and the
property, never a silently filled value.

Choices (``HydrideDescriptorConfig``, recorded with ``as_dict()``): the van der Waals table
(default mendeleev ``vdw_radius``, CRC Handbook), all occupied shells (default) or only the
subshells written after the noble-gas core, and the mass number rule (default: most abundant
natural isotope, else the longest-lived isotope via round(atomic weight)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from tcdb.ml import element_data as ed

FEATURE_LABELS: tuple[str, ...] = (
    "n_H",
    "vdw_radius",
    "Z",
    "mass_number",
    "n_s",
    "n_p",
    "n_d",
    "n_f",
)
ELEMENT_LABELS: tuple[str, ...] = FEATURE_LABELS[1:]
SCREEN_N: tuple[int, ...] = tuple(range(1, 32))

CITATIONS: tuple[str, ...] = (
    "M. J. Hutcheon, A. M. Shipley, R. J. Needs, Predicting novel superconducting hydrides using "
    "machine learning approaches, Phys. Rev. B 101, 144505 (2020), doi:10.1103/PhysRevB.101.144505",
    "L. M. Mentel, mendeleev - a Python package with properties of chemical elements (2014-)",
    "W. M. Haynes (ed.), CRC Handbook of Chemistry and Physics, 95th ed., CRC Press (2014) "
    "(van der Waals radii of mendeleev's vdw_radius)",
)


@dataclass(frozen=True)
class HydrideDescriptorConfig:
    """Which tables and counting rules the hydride descriptors use."""

    vdw_table: str = ed.DEFAULT_VDW_TABLE
    shells: ed.ShellSet = "all"
    mass_number: ed.MassNumberRule = ed.DEFAULT_MASS_NUMBER_RULE

    def __post_init__(self) -> None:
        if self.vdw_table not in ed.VDW_TABLES:
            raise ValueError(
                f"unknown van der Waals table {self.vdw_table!r}; choose from {list(ed.VDW_TABLES)}"
            )
        if self.shells not in ("all", "valence"):
            raise ValueError(f"shells must be 'all' or 'valence', not {self.shells!r}")
        if self.mass_number not in ("most_abundant_isotope", "rounded_atomic_mass"):
            raise ValueError(f"unknown mass number rule {self.mass_number!r}")

    def as_dict(self) -> dict[str, Any]:
        """The choices and the sources they imply, for a run manifest."""
        return {
            "vdw_table": self.vdw_table,
            "vdw_source": ed.VDW_TABLES[self.vdw_table].as_dict(),
            "shells": self.shells,
            "mass_number": self.mass_number,
            "mass_number_source": ed.SOURCES["mass_number"].as_dict(),
            "electron_source": ed.SOURCES[f"s_{self.shells}"].as_dict(),
            "feature_labels": list(FEATURE_LABELS),
        }


DEFAULT_CONFIG = HydrideDescriptorConfig()


@cache
def _element_frame(config: HydrideDescriptorConfig) -> pd.DataFrame:
    """The seven element descriptors by Z (NaN where a source has no value)."""
    table = ed.element_table()
    frame = pd.DataFrame(index=table.index)
    frame["symbol"] = table["symbol"]
    frame["vdw_radius"] = ed.vdw_radius(config.vdw_table)
    frame["Z"] = table.index.to_numpy(dtype=float)
    frame["mass_number"] = ed.mass_numbers(config.mass_number)
    electrons = ed.electron_counts(config.shells)
    for orbital in ed.ORBITALS:
        frame[f"n_{orbital}"] = electrons[orbital]
    return frame


def element_descriptors(config: HydrideDescriptorConfig = DEFAULT_CONFIG) -> pd.DataFrame:
    """The element part of the descriptors for every Z 1-118 (columns ``ELEMENT_LABELS``)."""
    return _element_frame(config).copy()


@cache
def _element_array(config: HydrideDescriptorConfig) -> np.ndarray:
    """(119, 7) array indexed by Z; row 0 is NaN."""
    values = np.full((ed.MAX_Z + 1, len(ELEMENT_LABELS)), np.nan)
    values[1:] = _element_frame(config)[list(ELEMENT_LABELS)].to_numpy(dtype=float)
    values.setflags(write=False)
    return values


def missing_descriptors(
    element: str, config: HydrideDescriptorConfig = DEFAULT_CONFIG
) -> list[str]:
    """Descriptors that ``element`` lacks under ``config`` (empty when complete)."""
    row = _element_array(config)[ed.atomic_number(element)]
    return [label for label, value in zip(ELEMENT_LABELS, row, strict=True) if np.isnan(value)]


def screenable_elements(
    config: HydrideDescriptorConfig = DEFAULT_CONFIG, include_hydrogen: bool = False
) -> list[str]:
    """Elements E (in order of Z) with all seven element descriptors, for the EH_n screen.

    Hydrogen is left out by default: "H H_n" is not a binary hydride.
    """
    frame = _element_frame(config)
    complete = frame[list(ELEMENT_LABELS)].notna().all(axis=1)
    chosen = frame.loc[complete, "symbol"].tolist()
    return chosen if include_hydrogen else [s for s in chosen if s != "H"]


def _check_n(ns: np.ndarray) -> None:
    bad = ~np.isfinite(ns) | (ns <= 0)
    if bad.any():
        raise ValueError(
            f"hydrogen content n must be positive and finite, got {ns[bad][:5].tolist()}"
        )


def hydride_matrix(
    elements: Sequence[str],
    ns: Sequence[float] | np.ndarray | float,
    config: HydrideDescriptorConfig = DEFAULT_CONFIG,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Descriptors of the hydrides ``elements[i]`` H_``ns[i]``: an (m, 8) array and its labels.

    ``ns`` may be a scalar (one n for every element). Raises
    :class:`ml.element_data.ElementDataError` naming every unknown element, or every element
    lacking a descriptor together with the descriptors it lacks.
    """
    symbols = list(elements)
    z = ed.atomic_numbers(symbols)
    unknown = sorted({s for s, zi in zip(symbols, z, strict=True) if zi == 0})
    if unknown:
        raise ed.ElementDataError(", ".join(map(str, unknown)))
    n = np.broadcast_to(np.asarray(ns, dtype=float), (len(symbols),))
    _check_n(n)
    values = _element_array(config)[z]
    incomplete = np.isnan(values).any(axis=1)
    if incomplete.any():
        problems = {
            symbols[i]: [
                lab for lab, v in zip(ELEMENT_LABELS, values[i], strict=True) if np.isnan(v)
            ]
            for i in np.flatnonzero(incomplete)
        }
        detail = "; ".join(f"{s} lacks {', '.join(props)}" for s, props in problems.items())
        raise ed.ElementDataError(
            ", ".join(problems),
            sorted({p for props in problems.values() for p in props}),
            f"{detail} (van der Waals table {config.vdw_table})",
        )
    return np.column_stack([n, values]), FEATURE_LABELS


def hydride_features(
    element: str, n: float, config: HydrideDescriptorConfig = DEFAULT_CONFIG
) -> np.ndarray:
    """The 8 descriptors (``FEATURE_LABELS``) of the hydride E H_n."""
    X, _ = hydride_matrix([element], [n], config)
    return X[0]


def screening_grid(
    config: HydrideDescriptorConfig = DEFAULT_CONFIG, ns: Sequence[float] = SCREEN_N
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Descriptors of every screenable E H_n: (X, element per row, n per row), E-major order."""
    elements = screenable_elements(config)
    n_values = np.asarray(ns, dtype=float)
    rows = np.repeat(np.asarray(elements, dtype=object), len(n_values)).tolist()
    n_rows = np.tile(n_values, len(elements))
    X, _ = hydride_matrix(rows, n_rows, config)
    return X, rows, n_rows
