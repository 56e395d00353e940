"""The numbers each report figure is drawn from, read back off the matplotlib figure as it is
saved (points, lines, images, bars and cell texts) and compared with the stored predictions
and run files they must come from (``from_tables``): a figure drawn from the wrong run,
family, column or rows fails, whatever its file size."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib.figure
import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection, QuadMesh
from pymatgen.core import Element

from tests.reports import from_tables


@contextmanager
def saved_figures(monkeypatch) -> Iterator[list[matplotlib.figure.Figure]]:
    """The matplotlib figures saved inside the block (they are still written as before)."""
    saved: list[matplotlib.figure.Figure] = []
    original = matplotlib.figure.Figure.savefig

    def keep(figure, *args, **kwargs):
        saved.append(figure)
        return original(figure, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(matplotlib.figure.Figure, "savefig", keep)
        yield saved


def _run_folder(db: Path, model: str) -> Path:
    """The folder of the newest succeeded run of ``model``."""
    runs = from_tables.table(
        db,
        f"SELECT artefact_path FROM model_run WHERE model = '{model}' AND status = 'succeeded' "
        "ORDER BY finished_at DESC LIMIT 1",
    )
    return Path(runs.artefact_path.iloc[0])


def _points(ax) -> np.ndarray:
    """The (x, y) of the first scatter of ``ax``."""
    (scatter,) = [c for c in ax.collections if isinstance(c, PathCollection)][:1]
    return np.asarray(scatter.get_offsets())


def _finite_pairs(x: pd.Series, y: pd.Series) -> np.ndarray:
    pairs = np.column_stack([x.to_numpy(float), y.to_numpy(float)])
    return pairs[np.isfinite(pairs).all(axis=1)]


def _families(db: Path, family: str) -> pd.DataFrame:
    points = from_tables.morph_points(db)
    return points[points.family == family]


# ------------------------------------------------------------------------------- structural


def check_novakovic_fig3(fig, db: Path) -> None:
    """The parity points are the newest cvcnn run's validation labels and predictions."""
    parity = pd.read_parquet(_run_folder(db, "cvcnn") / "validation_parity.parquet")
    expected = _finite_pairs(parity.label_tc_K, parity.predicted_tc_K)
    (ax,) = fig.axes
    np.testing.assert_allclose(_points(ax), expected, rtol=1e-12)
    assert ax.get_title().startswith(f"n = {len(expected)},")


def check_novakovic_fig4(fig, db: Path) -> None:
    """Each X/Y map cell holds the peak T_c over that pair's lattice scan, and no other cell
    is filled."""
    groups = from_tables.morph_groups(db)
    maps = [ax for ax in fig.axes if ax.images]
    families = [f for f in ("mgh13-xy", "xyh36") if f in set(groups.family)]
    assert len(maps) == len(families) > 0
    for ax, family in zip(maps, families, strict=True):
        part = groups[groups.family == family]
        assert not part.duplicated(["x_element", "y_element"]).any()
        order = sorted({*part.x_element, *part.y_element}, key=lambda s: Element(s).Z)
        image = np.ma.masked_invalid(ax.images[0].get_array())
        assert image.shape == (len(order), len(order))
        for row in part.itertuples(index=False):
            cell = image[order.index(row.y_element), order.index(row.x_element)]
            assert cell == row.peak, (family, row.x_element, row.y_element)
        assert image.count() == len(part), family


def check_novakovic_fig5(fig, db: Path) -> None:
    """Each panel's curve is one reference structure's uniform scan: T_c against a."""
    points = _families(db, "dome").sort_values("a_A")
    curves = [(part.a_A.to_numpy(), part.tc_K.to_numpy())
              for _, part in points.groupby("parent_structure_id")]  # fmt: skip
    drawn = [(np.asarray(ax.lines[0].get_xdata()), np.asarray(ax.lines[0].get_ydata()))
             for ax in fig.axes]  # fmt: skip
    expected, drawn = sorted(curves, key=_first_point), sorted(drawn, key=_first_point)
    assert len(drawn) == len(expected) > 0
    for (x, y), (a, tc) in zip(drawn, expected, strict=True):
        np.testing.assert_allclose(x, a, rtol=1e-12)
        np.testing.assert_allclose(y, tc, rtol=1e-12)


def _first_point(curve: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    return float(curve[0][0]), float(curve[1][0])


def check_novakovic_fig6(fig, db: Path) -> None:
    """Each panel's mesh holds one reference structure's (a, c) grid of T_c, and its star
    sits on the grid's highest point."""
    points = _families(db, "ac-grid")
    panels = [ax for ax in fig.axes  # a colorbar holds a mesh too, but no star
              if ax.lines and any(isinstance(c, QuadMesh) for c in ax.collections)]  # fmt: skip
    expected = {parent: part for parent, part in points.groupby("parent_structure_id")}
    assert len(panels) == len(expected) > 0
    for ax in panels:
        (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
        values = np.sort(np.ma.masked_invalid(mesh.get_array()).compressed())
        matches = [p for p in expected.values() if np.array_equal(np.sort(p.tc_K), values)]
        assert len(matches) == 1, ax.get_title()
        highest = matches[0].loc[matches[0].tc_K.idxmax()]
        star = ax.lines[0]
        assert (star.get_xdata()[0], star.get_ydata()[0]) == (highest.a_A, highest.c_A)


# --------------------------------------------------------------------------------- hydrides


def check_hutcheon_fig3(fig, db: Path) -> None:
    """The parity points are the newest hydride run's out-of-fold network predictions."""
    oof = pd.read_parquet(_run_folder(db, "hydride-mlp") / "out_of_fold.parquet")
    left, right = fig.axes
    np.testing.assert_allclose(
        _points(left), _finite_pairs(oof.tc_K, oof.network_random_folds_tc_K), rtol=1e-12
    )
    np.testing.assert_allclose(
        _points(right),
        _finite_pairs(oof.pressure_GPa, oof.network_random_folds_pressure_GPa),
        rtol=1e-12,
    )


def _one_scale(drawn: np.ndarray, stored: np.ndarray) -> float:
    """``drawn`` is ``stored`` shown as an RMS: its square is one multiple of it throughout;
    that multiple."""
    ratio = np.asarray(drawn, float) ** 2 / np.asarray(stored, float)
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-9)
    return float(ratio.flat[0])


def check_hutcheon_training(fig, db: Path) -> None:
    """Left: each candidate's inner curve at the checkpoints, the choice starred; right: the
    kept members' median training and held-out curves, one point per epoch."""
    folder = _run_folder(db, "hydride-mlp")
    search = json.loads((folder / "search.json").read_text())[0]
    history = np.load(io.BytesIO((folder / "ensemble" / "history.npz").read_bytes()))
    left, right = fig.axes[:2]
    curves = list(left.lines)
    assert len(curves) == len(search["candidates"]) > 0
    scales = set()
    for line, candidate in zip(curves, search["candidates"], strict=True):
        assert list(line.get_xdata()) == search["checkpoints"]
        scales.add(round(_one_scale(line.get_ydata(), candidate["curve"]), 6))
    star = _points(left)
    assert star[0][0] == search["chosen"]["epochs"]
    scales.add(round(_one_scale([star[0][1]], [search["inner_score"]]), 6))
    (scale,) = scales  # one scale for every curve and the star: the one read off the figure
    for line, key in zip(right.lines, ("train", "validation"), strict=True):
        epochs = history[key].shape[0]
        assert list(line.get_xdata()) == list(range(1, epochs + 1))
        members = np.sqrt(scale * np.asarray(history[key], float))
        np.testing.assert_allclose(line.get_ydata(), np.nanmedian(members, axis=1), rtol=1e-9)
    assert f"the {history['train'].shape[1]} kept members" in right.get_title()


def _bar_heights(ax) -> list[float]:
    return [patch.get_height() for patch in ax.patches]


def check_hutcheon_fig4(fig, db: Path) -> None:
    """The bars count the n and the Z of the in-domain decile closest to ambient: one bar
    per n = 1 … 31, one per pair of Z (1-2, 3-4, …)."""
    decile = from_tables.closest_decile(db)
    left, right = fig.axes
    by_n = Counter(decile.n_h.astype(int))
    assert _bar_heights(left) == [by_n.get(n, 0) for n in range(1, 32)]
    by_pair = Counter((decile.Z.astype(int) + 1) // 2)
    assert _bar_heights(right) == [by_pair.get(k, 0) for k in range(1, 52)]
    assert f"The {len(decile)} in-domain EH_n" in fig.texts[0].get_text()


def check_hutcheon_fig5(fig, db: Path) -> None:
    """A cell per element with its best in-domain EH_n, T_c, P and D, and a grey cell for
    each element with no EH_n in the domain."""
    best = from_tables.best_per_element(db)
    screened = from_tables.screened_hydrides(db)
    none_inside = set(screened.element) - set(screened[screened.in_domain.astype(bool)].element)
    ax = fig.axes[0]
    texts = [text.get_text() for text in ax.texts]
    cells = [tuple(texts[i : i + 4]) for i in range(0, len(texts), 4)]
    expected = {
        (f"{r.element}H{r.n_h:g}", f"{r.tc_K:.0f} K", f"{r.pressure_GPa:.0f} GPa",
         f"D {r.distance_to_ambient:.0f}")
        for r in best.itertuples(index=False)
    }  # fmt: skip
    coloured = {cell for cell in cells if cell[1] != "no n in"}
    assert coloured == expected and len(coloured) == len(best) > 0
    assert {cell[0] for cell in cells if cell[1] == "no n in"} == none_inside


CHECKS: dict[str, Callable[[matplotlib.figure.Figure, Path], None]] = {
    "novakovic_fig3": check_novakovic_fig3,
    "novakovic_fig4": check_novakovic_fig4,
    "novakovic_fig5": check_novakovic_fig5,
    "novakovic_fig6": check_novakovic_fig6,
    "hutcheon_fig3": check_hutcheon_fig3,
    "hutcheon_training": check_hutcheon_training,
    "hutcheon_fig4": check_hutcheon_fig4,
    "hutcheon_fig5": check_hutcheon_fig5,
}
