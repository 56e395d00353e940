"""Morphisms: new structures made from a reference structure by swapping species and scaling.

Why: Novakovic et al. (2023, Sec. V.B) search for hydrides beyond the training data by taking a
known high-T_c structure, replacing the species on chosen sites, and scaling its lattice — a
crude stand-in for pressure ("superconducting domes"). The structural model predicts each
morph in milliseconds, so whole element-by-element maps are cheap. This module only generates
the morphs (pure, no model, no database); ``ml.structural.morph_runs`` predicts and stores them.

The reference structures come from the database (ingest stores ``reference/structures`` as
``crystal_structure`` rows ``reference:<file stem>`` with their site labels), so every morph
points at a row with provenance; the caller reads them (``schema.structures``) and passes them
in, since ``ml`` never reads the live database. Sites are chosen by their CIF labels: labels
starting with X or Y mark the sites the paper varies (MgH13: X1 = the Mg site, Y0 = the
centre H; Li2MgH16 Fd-3m: X32-X35 = Li, Y36/Y37 = Mg); in H3S the S site is labelled ``S``.
A morph keeps every fractional coordinate; scaling multiplies the first two lattice vectors by
``scale_ab`` and the third by ``scale_c`` (equal for a uniform scan), so angles stay fixed.

Families (``FAMILIES``):

- ``xh3``: Im-3m H3S with X on the S site, lattice fixed at the 200 GPa values.
- ``mgh13-xy``: Fm-3m MgH13, X on the Mg site and Y on the centre H, each pair scanned
  uniformly (Fig. 4 left, Table III).
- ``xyh36``: Fd-3m Li4Mg2H32 with Li4 → H4 and X, Y on the two Mg sites, scanned (Fig. 4 right).
- ``li2mgh16-random``: seeded random replacements of the two Mg atoms and two Li pairs, scanned.
- ``random-standouts``: the paper's four best random-search morphs (BaH32N5, LaH32N5,
  BaH32N4O, LaH32N4O, given as CIFs), each scanned uniformly (Table III).
- ``dome``: the Fd-3m and P-3m1 Li2MgH16 polymorphs scaled uniformly (Fig. 5).
- ``ac-grid``: the same two polymorphs over a grid of a (= b) and c scales (Fig. 6).
"""

from __future__ import annotations

import itertools
import json
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pymatgen.core import Element, Structure

from tcdb.core.errors import TcdbError
from tcdb.core.hashing import record_id
from tcdb.core.morph_geometry import morph_of
from tcdb.ml.structural.parameters import MORPH, MorphParameters


class MorphError(TcdbError):
    """A morph family, reference structure or site label that cannot be used."""


@dataclass(frozen=True)
class Family:
    """One kind of morph search over one or more reference structures."""

    name: str
    references: tuple[str, ...]  # file names in reference/structures/
    description: str
    kind: str  # map | random | scan | dome | grid
    fixed: tuple[tuple[str, str], ...] = ()  # (site label, element) applied to every morph
    x_sites: tuple[str, ...] = ()
    y_sites: tuple[str, ...] = ()
    scan: bool = True  # uniform lattice scan per substitution (maps and random search)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("xh3", ("H3S_Im-3m_200GPa.cif",), "Im-3m XH3: X on the S site of H3S, lattice "
               "fixed (a = 2.585 Å, α = 109.47°)", "map", x_sites=("S",), scan=False),
        Family("mgh13-xy", ("MgH13_Fm-3m_200GPa.cif",), "Fm-3m MgH13: X on the Mg site, Y on "
               "the centre H, uniform lattice scan per pair", "map", x_sites=("X1",),
               y_sites=("Y0",)),
        Family("xyh36", ("Li2MgH16_Fd-3m_250GPa.cif",), "Fd-3m XYH36: Li4Mg2H32 with Li4 → H4, "
               "X and Y on the two Mg sites, uniform lattice scan per pair", "map",
               fixed=(("X32", "H"), ("X33", "H"), ("X34", "H"), ("X35", "H")),
               x_sites=("Y36",), y_sites=("Y37",)),
        Family("li2mgh16-random", ("Li2MgH16_Fd-3m_250GPa.cif",), "Fd-3m Li4Mg2H32: seeded "
               "random elements on each Mg atom and each Li pair, uniform lattice scan",
               "random", x_sites=("Y36",), y_sites=("Y37",)),
        Family("random-standouts", ("BaH32N5_Fd-3m.cif", "LaH32N5_Fd-3m.cif",
               "BaH32N4O_Fd-3m.cif", "LaH32N4O_Fd-3m.cif"), "the four Fd-3m standouts of the "
               "paper's random search (their CIFs), uniform lattice scan each", "scan"),
        Family("dome", ("Li2MgH16_Fd-3m_250GPa.cif", "Li2MgH16_P-3m1_300GPa.cif"),
               "T_c against uniform lattice scaling (Fig. 5)", "dome", scan=False),
        Family("ac-grid", ("Li2MgH16_Fd-3m_250GPa.cif", "Li2MgH16_P-3m1_300GPa.cif"),
               "T_c over a grid of a (= b) and c scales (Fig. 6)", "grid", scan=False),
    )
}  # fmt: skip


REFERENCE_PREFIX = "reference:"
"""Ingest stores ``reference/structures/<stem>.cif`` as crystal_structure ``reference:<stem>``."""


@dataclass(frozen=True)
class Reference:
    """A reference structure with labelled sites; ``id`` is its ``crystal_structure`` id."""

    id: str  # "reference:<file stem>"
    name: str  # the file stem
    structure: Structure
    labels: tuple[str, ...]

    @classmethod
    def of(cls, name: str, structure: Structure) -> Reference:
        labels = tuple(site.label for site in structure)
        return cls(REFERENCE_PREFIX + name, name, structure, labels)

    @property
    def a_A(self) -> float:
        return float(self.structure.lattice.a)

    def sites(self, labels: Sequence[str]) -> list[int]:
        """Indices of the sites with these labels; an unknown label is an error."""
        missing = [label for label in labels if label not in self.labels]
        if missing:
            raise MorphError(
                f"{self.name} has no site labelled {', '.join(missing)} "
                f"(labels: {', '.join(dict.fromkeys(self.labels))})."
            )
        return [i for i, label in enumerate(self.labels) if label in labels]


def load_reference_file(path: Path) -> Reference:
    """Read a reference CIF directly (the labels are kept; pymatgen may reorder the sites)."""
    path = Path(path)
    if not path.is_file():
        raise MorphError(f"Reference structure {path} does not exist.")
    try:
        with warnings.catch_warnings():  # e.g. "fractional coordinates rounded", expected here
            warnings.simplefilter("ignore", UserWarning)
            structure = Structure.from_file(path)
    except Exception as exc:
        raise MorphError(f"{path}: the CIF cannot be read ({exc}).") from None
    return Reference.of(path.stem, structure)


def reference_id(file_name: str) -> str:
    """The ``crystal_structure`` id ingest gives ``reference/structures/<file name>``."""
    return REFERENCE_PREFIX + Path(file_name).stem


def reference_from_json(file_name: str, structure_json: str | None) -> Reference:
    """A reference structure from its stored row's JSON (read by the caller, e.g. through
    ``schema.structures``); None means it was never ingested."""
    name = Path(file_name).stem
    if structure_json is None:
        raise MorphError(
            f"The reference structure {name} is not in the database; run 'tcdb ingest "
            "literature' with sources holding reference/structures/."
        )
    return Reference.of(name, Structure.from_dict(json.loads(structure_json)))


@dataclass(frozen=True)
class Morph:
    """One morph of a reference: which sites hold which element, and the lattice scales."""

    substitution: tuple[tuple[str, str], ...]  # (site label, element), sorted by label
    x: str | None = None
    y: str | None = None
    scale_ab: float = 1.0
    scale_c: float = 1.0

    @property
    def substitution_json(self) -> str:
        return json.dumps(dict(self.substitution), sort_keys=True)

    def candidate_id(self, family: str, reference_id: str) -> str:
        """Stable id: the same morph of the same reference file always gets the same id."""
        return record_id(
            "morph", family, reference_id, self.substitution_json,
            repr(self.scale_ab), repr(self.scale_c),
        )  # fmt: skip


@dataclass
class Builder:
    """Builds morph structures of one reference quickly (no copies of pymatgen objects)."""

    reference: Reference
    _index: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, label in enumerate(self.reference.labels):
            self._index.setdefault(label, []).append(i)

    def species(self, morph: Morph) -> list[str]:
        species = [site.species_string for site in self.reference.structure]
        for label, element in morph.substitution:
            if label not in self._index:
                raise MorphError(f"{self.reference.name} has no site labelled {label}.")
            for i in self._index[label]:
                species[i] = element
        return species

    def build(self, morph: Morph) -> Structure:
        return morph_of(self.reference.structure, self.species(morph), morph.scale_ab,
                        morph.scale_c, self.reference.labels)  # fmt: skip


def elements(params: MorphParameters = MORPH, only: Sequence[str] | None = None) -> list[str]:
    """The element symbols a map runs over: Z in [z_min, z_max] without the skipped ones."""
    if only:
        unknown = [s for s in only if not Element.is_valid_symbol(s)]
        if unknown:
            raise MorphError(f"Unknown element symbol(s): {', '.join(unknown)}.")
        return list(dict.fromkeys(only))
    return [
        Element.from_Z(z).symbol
        for z in range(params.z_min, params.z_max + 1)
        if Element.from_Z(z).symbol not in params.skip
    ]


def scan_scales(reference: Reference, params: MorphParameters = MORPH) -> np.ndarray:
    """Uniform scale factors from ``scan_start_factor`` to a primitive a of ``scan_end_a_A``."""
    end = params.scan_end_a_A / reference.a_A
    return np.linspace(params.scan_start_factor, end, params.scan_points)


def _factors(spec: tuple[float, float, int]) -> np.ndarray:
    low, high, points = spec
    return np.linspace(low, high, int(points))


def _with_fixed(family: Family, pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(dict([*family.fixed, *pairs]).items()))


def _map(family: Family, pool: Sequence[str], scales: Sequence[float]) -> Iterator[Morph]:
    ys: Sequence[str | None] = pool if family.y_sites else [None]
    for x, y in itertools.product(pool, ys):
        pairs = [(label, x) for label in family.x_sites]
        pairs += [(label, y) for label in family.y_sites if y is not None]
        substitution = _with_fixed(family, pairs)
        for scale in scales:
            yield Morph(substitution, x, y, float(scale), float(scale))


def _random(
    family: Family, pool: Sequence[str], scales: Sequence[float], params: MorphParameters
) -> Iterator[Morph]:
    """Distinct seeded draws: one element per Mg site and per Li pair."""
    rng = np.random.default_rng(params.random_seed)
    groups = [(label,) for label in (*family.x_sites, *family.y_sites)] + list(params.li_pairs)
    seen: set[tuple[tuple[str, str], ...]] = set()
    attempts = 0
    while len(seen) < params.random_samples and attempts < 20 * params.random_samples:
        attempts += 1
        drawn = rng.choice(len(pool), size=len(groups))
        picks = zip(groups, drawn, strict=True)
        pairs = [(label, pool[k]) for group, k in picks for label in group]
        substitution = _with_fixed(family, pairs)
        if substitution in seen:
            continue
        seen.add(substitution)
        x, y = pool[drawn[0]], pool[drawn[1]]
        for scale in scales:
            yield Morph(substitution, x, y, float(scale), float(scale))


def generate(
    family: Family,
    reference: Reference,
    params: MorphParameters = MORPH,
    only: Sequence[str] | None = None,
) -> list[Morph]:
    """Every morph of ``family`` for one reference structure, in a deterministic order."""
    for label in (*family.x_sites, *family.y_sites, *(lab for lab, _ in family.fixed)):
        reference.sites([label])
    pool = elements(params, only)
    scales = scan_scales(reference, params) if family.scan else np.array([1.0])
    if family.kind == "map":
        return list(_map(family, pool, scales))
    if family.kind == "random":
        for pair in params.li_pairs:
            reference.sites(pair)
        return list(_random(family, pool, scales, params))
    if family.kind == "scan":
        return [Morph((), None, None, float(s), float(s)) for s in scales]
    if family.kind == "dome":
        return [Morph((), None, None, float(s), float(s)) for s in _factors(params.dome_factors)]
    if family.kind == "grid":
        factors = _factors(params.grid_factors)
        return [Morph((), None, None, float(a), float(c)) for a in factors for c in factors]
    raise MorphError(f"Family {family.name} has an unknown kind {family.kind!r}.")


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise MorphError(f"Unknown morph family {name!r}; choose {', '.join(FAMILIES)}.")
    return FAMILIES[name]
