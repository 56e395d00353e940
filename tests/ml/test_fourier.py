"""The Fourier density representation: physics checks, invariances, refusals, batch = reference.

The coefficients are complex64, so comparisons use a tolerance relative to the largest
coefficient of each channel (|F(0)|): float32 keeps ~7 significant digits and sums over at most
a few hundred atoms lose at most about two more, hence 1e-5 unless a test says otherwise.
"""

from __future__ import annotations

import cmath
import dataclasses
import itertools
import math
import os
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import DummySpecies, Lattice, Structure

from tcdb.ml import fourier
from tcdb.ml.fourier import FourierConfig

REPO = Path(__file__).resolve().parents[2]
SOURCES = Path(os.environ.get("TCDB_SOURCES") or REPO.parent / "shared" / "data")
MP_ARCHIVE = SOURCES / "materials_project" / "mp_structures.tar.gz"
RTOL = 1e-5

# What the authors' public code computes (METHODS.md); the "authors" feature preset.
AUTHORS = FourierConfig(
    gamma_charge=0.25,
    gamma_mass=0.0025,
    metric="per_axis",
    width_assignment="authors",
    normalisation="abc",
)

TRICLINIC = Lattice.from_parameters(4.1, 4.5, 4.9, 78.0, 96.0, 107.0)


def salt(lattice: Lattice = TRICLINIC) -> Structure:
    """Four atoms, two of one element (so element groups have more than one atom)."""
    return Structure(
        lattice,
        ["Na", "Cl", "Na", "O"],
        [[0.1, 0.2, 0.3], [0.6, 0.55, 0.8], [0.45, 0.9, 0.05], [0.8, 0.1, 0.6]],
    )


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float = RTOL) -> None:
    """Equal within rtol × the largest |expected| of each channel."""
    scale = np.abs(expected).reshape(-1, expected.shape[-1]).max(axis=0)
    error = np.abs(actual - expected).reshape(-1, expected.shape[-1]).max(axis=0)
    assert np.all(error <= rtol * scale), f"error {error} > {rtol} × {scale}"


def full_grid(structure: Structure, config: FourierConfig) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients for −δ < h, k, l < δ from the production kernel, and the indices."""
    indices = np.arange(-config.delta + 1, config.delta)
    values, errors = fourier._batch_on_indices([structure], config, indices, chunk_size=1)
    assert not errors
    return values[0], indices


def real_space_density(structure: Structure, points: np.ndarray, sigma2: np.ndarray, weight):
    """Σ_j Σ_T N_j (2πσ_j²)^(−3/2) exp(−|r − r_j − T|²/(2σ_j²)) by brute force over T."""
    shifts = np.stack(np.meshgrid(*[np.arange(-3, 4)] * 3, indexing="ij"), -1).reshape(-1, 3)
    translations = shifts @ structure.lattice.matrix
    density = np.zeros(len(points))
    for site, s2, n in zip(structure, sigma2, weight, strict=True):
        centres = site.coords + translations  # (T, 3)
        d2 = np.sum((points[:, None, :] - centres[None, :, :]) ** 2, axis=2)
        density += n * np.exp(-d2 / (2 * s2)).sum(axis=1) / (2 * np.pi * s2) ** 1.5
    return density


# --- 1. the coefficients are the Fourier series of the periodic density -------------------


def test_fourier_synthesis_reproduces_the_real_space_density():
    """Wide Gaussians in an oblique cell: the inverse series equals the direct density sum.

    Truncation: the coefficients on the outermost shell |h_i| = δ − 1 are checked to be below
    1e-10 of F(0), and the envelope keeps decaying as a Gaussian beyond it, so the omitted terms
    are negligible; what remains is float32 rounding (~6e-8 relative) of ~25³ terms, well
    inside 1e-5 of the peak density.
    """
    config = FourierConfig(gamma_charge=0.03, gamma_mass=0.5)  # σ² from 0.24 to 0.9 Å²
    structure = salt()
    values, indices = full_grid(structure, config)
    outer = np.abs(indices) == config.delta - 1
    shell = outer[:, None, None] | outer[None, :, None] | outer[None, None, :]
    assert np.abs(values[shell]).max() < 1e-10 * np.abs(values).max()

    rng = np.random.default_rng(7)
    frac_points = np.vstack([rng.random((12, 3)), [s.frac_coords for s in structure]])
    points = frac_points @ structure.lattice.matrix
    h = np.stack(np.meshgrid(indices, indices, indices, indexing="ij"), -1).reshape(-1, 3)
    waves = np.exp(2j * np.pi * frac_points @ h.T)  # (points, m³)
    params = fourier._parameters(config)
    z = np.array(structure.atomic_numbers)
    for channel in range(2):
        synthesis = waves @ values[..., channel].reshape(-1).astype(np.complex128)
        direct = real_space_density(
            structure, points, params.sigma2[z, channel], params.weight[z, channel]
        )
        peak = direct.max()
        assert np.abs(synthesis.imag).max() < 1e-5 * peak
        assert np.abs(synthesis.real - direct).max() < 1e-5 * peak


def test_public_array_is_the_nonnegative_octant_of_a_hermitian_grid():
    config = FourierConfig()
    structure = salt()
    values, _ = full_grid(structure, config)
    d = config.delta
    assert_close(values[::-1, ::-1, ::-1], np.conj(values))  # F(−h) = conj F(h)
    public = fourier.coefficients(structure, config)
    assert public.shape == (d, d, d, 2)
    assert public.dtype == np.complex64
    assert_close(public, values[d - 1 :, d - 1 :, d - 1 :])


# --- 2–4. invariances and normalisation ---------------------------------------------------


def test_translation_only_changes_phases():
    structure = salt()
    shift = np.array([0.13, -0.27, 0.41])
    moved = structure.copy()
    moved.translate_sites(range(len(moved)), shift, frac_coords=True, to_unit_cell=True)
    before, after = fourier.coefficients(structure), fourier.coefficients(moved)
    h = np.arange(FourierConfig().delta)
    turns = np.add.outer(np.add.outer(h * shift[0], h * shift[1]), h * shift[2])
    expected = before * np.exp(-2j * np.pi * turns)[..., None]
    assert_close(after, expected)
    assert_close(np.abs(after), np.abs(before))
    assert np.abs(after - before).max() > 0.1 * np.abs(before).max()  # the phases did move


def test_permuting_sites_changes_nothing():
    structure = salt()
    permuted = Structure.from_sites([structure[i] for i in (2, 0, 3, 1)])
    assert_close(fourier.coefficients(permuted), fourier.coefficients(structure))


def test_zero_index_is_total_charge_and_mass_over_volume():
    structure = salt()
    structure.replace(3, {"Fe": 0.5, "Co": 0.25})  # a partly occupied, disordered site
    values = fourier.coefficients(structure)
    composition = structure.composition
    charge = sum(element.Z * amount for element, amount in composition.items())
    volume = structure.lattice.volume
    np.testing.assert_allclose(values[0, 0, 0, 0], charge / volume, rtol=1e-6)
    np.testing.assert_allclose(values[0, 0, 0, 1], composition.weight / volume, rtol=1e-6)


# --- 5. refusals ----------------------------------------------------------------------------


def with_element(symbol: str) -> Structure:
    return Structure(Lattice.cubic(4.0), ["Li", symbol], [[0, 0, 0], [0.5, 0.5, 0.5]])


@pytest.mark.parametrize(
    ("symbol", "reason"),
    [("Xe", "noble gas"), ("He", "noble gas"), ("At", "no atomic radius"), ("Cm", "no atomic")],
)
def test_unrepresentable_structures_are_refused_by_name(symbol: str, reason: str):
    structure = with_element(symbol)
    with pytest.raises(ValueError, match=rf"Li1 {symbol}1\).*{symbol}.*{reason}"):
        fourier.coefficients(structure)
    with pytest.raises(ValueError, match=symbol):
        fourier.reference_coefficients(structure)


def test_dummy_species_are_refused():
    structure = Structure(Lattice.cubic(4.0), ["Li", DummySpecies("X")], [[0, 0, 0], [0.5] * 3])
    with pytest.raises(ValueError, match=r"X0\+.*no element data"):
        fourier.coefficients(structure)


def test_noble_gases_are_accepted_when_the_configuration_allows():
    config = FourierConfig(refuse_noble_gases=False)
    structure = with_element("Xe")
    assert_close(
        fourier.coefficients(structure, config), fourier.reference_coefficients(structure, config)
    )
    assert "Xe" in fourier.element_data("empirical").radius_fallback


def test_batch_reports_refusals_per_structure_and_computes_the_rest():
    good = [salt(), with_element("O")]
    batch = [good[0], with_element("Kr"), good[1], with_element("Fr")]
    values, errors = fourier.batch_coefficients(batch, chunk_size=3)
    assert set(errors) == {1, 3}
    assert "structure 1" in errors[1] and "Kr" in errors[1]
    assert "structure 3" in errors[3] and "Fr" in errors[3]
    assert np.isnan(values[[1, 3]]).all()
    for row, structure in zip((0, 2), good, strict=True):
        assert_close(values[row], fourier.coefficients(structure))


# --- 6. batch = per-structure reference on real structures --------------------------------


def mp_structures(count: int) -> list[Structure]:
    if not MP_ARCHIVE.is_file():
        pytest.skip(f"{MP_ARCHIVE} is absent; set TCDB_SOURCES to the source mirror")
    structures = []
    with tarfile.open(MP_ARCHIVE) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for member in archive:
            if member.isfile() and member.name.endswith(".cif"):
                text = archive.extractfile(member).read().decode()
                structures.append(Structure.from_str(text, fmt="cif"))
            if len(structures) == count:
                break
    return structures


@pytest.fixture(scope="module")
def real_structures() -> list[Structure]:
    structures = mp_structures(30)
    oblique = [s for s in structures if not np.allclose(s.lattice.angles, 90.0)]
    assert oblique and max(len(s.composition) for s in structures) >= 3  # a real mix
    return structures


@pytest.mark.parametrize(
    "config",
    [
        FourierConfig(),
        FourierConfig(metric="per_axis"),
        FourierConfig(width_assignment="swapped"),
        FourierConfig(density="von_mises", metric="per_axis"),
        FourierConfig(normalisation="abc"),
        AUTHORS,
    ],
    ids=["reciprocal", "per-axis", "swapped-widths", "von-mises", "abc", "authors"],
)
def test_batch_equals_per_structure_reference(real_structures, config):
    values, errors = fourier.batch_coefficients(real_structures, config, chunk_size=7)
    assert errors == {}
    for row, structure in zip(values, real_structures, strict=True):
        assert_close(row, fourier.reference_coefficients(structure, config))
    assert_close(values[5], fourier.coefficients(real_structures[5], config), rtol=1e-6)


def test_double_precision_matches_the_reference_closely(real_structures):
    config = FourierConfig(dtype="complex128")
    values, _ = fourier.batch_coefficients(real_structures[:10], config)
    assert values.dtype == np.complex128
    for row, structure in zip(values, real_structures[:10], strict=True):
        assert_close(row, fourier.reference_coefficients(structure, config), rtol=1e-12)


# --- 7. metrics and densities ---------------------------------------------------------------


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_metrics_agree_for_orthogonal_cells_and_differ_for_oblique_ones():
    reciprocal, per_axis = FourierConfig(), FourierConfig(metric="per_axis")
    orthogonal = salt(Lattice.orthorhombic(4.1, 4.5, 4.9))
    assert_close(
        fourier.coefficients(orthogonal, per_axis), fourier.coefficients(orthogonal, reciprocal)
    )
    oblique = salt()
    difference = relative_difference(
        fourier.coefficients(oblique, per_axis), fourier.coefficients(oblique, reciprocal)
    )
    assert difference > 1e-2


def test_von_mises_tends_to_the_gaussian_for_large_kappa():
    """κ ∝ 1/σ², so shrinking both γ by 4 multiplies κ by 4; the gap shrinks about as 1/κ.

    The gap is the largest coefficient difference relative to F(0), over both channels.
    """
    structure = salt(Lattice.orthorhombic(3.0, 3.5, 4.0))
    gaps = []
    for scale in (1.0, 1 / 4, 1 / 16, 1 / 64):
        gaussian = FourierConfig(
            metric="per_axis", gamma_charge=0.0025 * scale, gamma_mass=0.25 * scale
        )
        von_mises = dataclasses.replace(gaussian, density="von_mises")
        gaps.append(
            relative_difference(
                fourier.coefficients(structure, von_mises),
                fourier.coefficients(structure, gaussian),
            )
        )
    assert all(later < earlier / 2 for earlier, later in itertools.pairwise(gaps))
    assert gaps[-1] < 5e-3
    assert gaps[0] > 1e-2  # at the paper's widths the two densities do differ


# --- configuration and element data --------------------------------------------------------


def test_configuration_defaults_are_the_papers_and_are_recorded():
    config = FourierConfig()
    recorded = config.as_dict()
    assert recorded["delta"] == 13 and config.shape == (13, 13, 13, 2)
    assert (recorded["gamma_charge"], recorded["gamma_mass"]) == (0.0025, 0.25)
    assert set(FourierConfig.labels) == {f.name for f in dataclasses.fields(FourierConfig)}
    # the normalisation is recorded only when it is not the default, so runs recorded before
    # it existed record exactly what today's default computes
    assert set(recorded) == set(FourierConfig.labels) - {"normalisation"}
    assert FourierConfig(normalisation="abc").as_dict()["normalisation"] == "abc"
    assert FourierConfig(**recorded) == config
    assert any("Novakovic" in c for c in config.citations)
    assert any("pymatgen" in c for c in config.citations)


@pytest.mark.parametrize(
    "bad",
    [
        {"density": "von_mises"},  # von Mises needs the per-axis metric
        {"metric": "cartesian"},
        {"delta": 0},
        {"gamma_mass": 0.0},
    ],
)
def test_invalid_configurations_are_rejected(bad):
    with pytest.raises(ValueError):
        FourierConfig(**bad)


def test_width_assignment_swaps_which_quantity_sets_each_width():
    eq4 = fourier._parameters(FourierConfig())
    swapped = fourier._parameters(FourierConfig(width_assignment="swapped"))
    radius = fourier.element_data("empirical").radius
    assert eq4.sigma2[29, 0] == pytest.approx(0.0025 * 29)
    assert eq4.sigma2[29, 1] == pytest.approx(0.25 * radius[29])
    assert swapped.sigma2[29, 0] == pytest.approx(0.0025 * radius[29])
    assert swapped.sigma2[29, 1] == pytest.approx(0.25 * 29)


def test_authors_widths_follow_radius_for_charge_and_mass_for_mass():
    authors = fourier._parameters(AUTHORS)
    data = fourier.element_data("empirical")
    assert authors.sigma2[29, 0] == pytest.approx(0.25 * data.radius[29])
    assert authors.sigma2[29, 1] == pytest.approx(0.0025 * data.mass[29])


# --- the authors' configuration against their formula, written out -------------------------


def authors_formula(structure: Structure, h: int, k: int, l: int) -> tuple[complex, complex]:  # noqa: E741
    """The authors' code, term by term: Σ_j w_j Π_axes exp(−2π² σ_j (h/a)²) exp(−2πi h x_j),
    divided by a·b·c, with (w, σ) = (Z, 0.25·r(Z)) for charge and (m, 0.0025·m) for mass."""
    a, b, c = structure.lattice.abc
    charge = mass = 0j
    for site in structure:
        element = site.specie
        x, y, z = site.frac_coords
        phase = cmath.exp(-2j * math.pi * (h * x + k * y + l * z))
        spread = (h / a) ** 2 + (k / b) ** 2 + (l / c) ** 2
        radius, weight = float(element.atomic_radius), float(element.atomic_mass)
        charge += element.Z * math.exp(-2 * math.pi**2 * 0.25 * radius * spread) * phase
        mass += weight * math.exp(-2 * math.pi**2 * 0.0025 * weight * spread) * phase
    return charge / (a * b * c), mass / (a * b * c)


def test_one_atom_cubic_cell_gives_the_authors_coefficient_by_hand():
    """Nb at the origin of a 3.3 Å cube: no phase, so F(1,0,0) is the weight times one
    Gaussian factor over a³; the mass channel's is exp(−2π²·0.0025·m/a²)."""
    structure = Structure(Lattice.cubic(3.3), ["Nb"], [[0, 0, 0]])
    values = fourier.coefficients(structure, AUTHORS)
    nb = structure[0].specie
    mass, radius = float(nb.atomic_mass), float(nb.atomic_radius)
    by_hand_charge = 41 * math.exp(-2 * math.pi**2 * 0.25 * radius / 3.3**2) / 3.3**3
    by_hand_mass = mass * math.exp(-2 * math.pi**2 * 0.0025 * mass / 3.3**2) / 3.3**3
    assert values[1, 0, 0, 0] == pytest.approx(by_hand_charge, rel=1e-6)
    assert values[1, 0, 0, 1] == pytest.approx(by_hand_mass, rel=1e-6)
    assert values[0, 0, 0, 1] == pytest.approx(mass / 3.3**3, rel=1e-6)
    assert values[1, 0, 0, 0] == pytest.approx(authors_formula(structure, 1, 0, 0)[0], rel=1e-6)


def test_two_atom_orthorhombic_cell_follows_the_authors_formula_everywhere():
    structure = Structure(
        Lattice.orthorhombic(3.1, 4.2, 5.3), ["Mg", "B"], [[0, 0, 0], [0.25, 0.6, 0.4]]
    )
    values = fourier.coefficients(structure, AUTHORS)
    expected = np.array(
        [
            authors_formula(structure, *hkl)
            for hkl in itertools.product(range(AUTHORS.delta), repeat=3)
        ]
    ).reshape(values.shape)
    assert_close(values, expected)
    # a·b·c is the volume of an orthogonal cell: only the widths and metric differ from
    # the default there, so the normalisation alone changes nothing
    volume = dataclasses.replace(AUTHORS, normalisation="volume")
    assert_close(fourier.coefficients(structure, volume), values)


def test_abc_normalisation_divides_by_the_cell_lengths_of_an_oblique_cell():
    structure = salt()
    by_volume = fourier.coefficients(structure, FourierConfig(dtype="complex128"))
    by_lengths = fourier.coefficients(
        structure, FourierConfig(dtype="complex128", normalisation="abc")
    )
    ratio = structure.lattice.volume / np.prod(structure.lattice.abc)
    np.testing.assert_allclose(by_lengths, by_volume * ratio, rtol=1e-12)
    assert ratio < 0.95  # the oblique cell makes the two differ


def test_element_data_fallbacks_are_the_documented_ones():
    empirical = fourier.element_data("empirical")
    assert empirical.radius_fallback == {"He", "Ne", "Kr", "Xe", "Rn"}
    refused = fourier._parameters(FourierConfig(refuse_noble_gases=False)).refusals
    assert {empirical.symbols[z] for z in refused} == {"At", "Fr"} | {
        empirical.symbols[z] for z in range(96, 119)
    }
