"""How a model is evaluated: the split protocols, out-of-fold predictions, and scored metrics.

Why one module: a metric means little without the split it was computed on, and each model
used to draw its own. Every protocol here is seeded (or, for time, deterministic) and
describes itself with a name and its settings; ``score`` puts that description beside the
metrics, so every figure a run stores says how it was obtained, e.g.
``{"protocol": "grouped-by-composition", "folds": 10, "seed": 0, "n": 14838, "rmse_K": …}``.

Protocols (``PROTOCOLS``):

- ``random``: one seeded random split (the structural model's 80/20, Novakovic et al. 2023).
- ``random-repeated``: several seeded random validation splits, each point predicted by the
  splits that held it out (the hydride ensemble's 64 × 25 %, Hutcheon et al. 2020).
- ``random-folds``: k shuffled folds, each row tested once (the hydride model's out of fold).
- ``in-sample``: fitted and scored on the same rows (the hydride paper's 33.7 K figure); a
  measure of fit, never of skill.
- ``grouped-by-composition``: k folds with no composition in both a training and a test fold
  (the composition baseline's 10 folds).
- ``grouped-by-chemical-system``: k shuffled folds with no element set in both a training and
  a test fold (3DSC, Sommer et al. 2023): doped variants of one system never inform their own
  test, so the figure says how far a model reaches into systems it has not seen.
- ``by-time``: train on rows first reported up to a year (default 2007), test on the later
  ones (Konno et al., J. Phys. Soc. Jpn. 90, 2021). Rows without a year are on neither side
  and counted in the description (``n_without_year``); ``family_scores`` then says, per family,
  how many later members were predicted above 20 K.
- ``paper``: the structural model as its authors judged it: one seeded random 80/20 split
  over structures whose 20 % both picks the checkpoint and is scored, so the figure is
  optimistic. For a given fraction and seed it is exactly the ``random`` split.
- ``grouped``: training, validation and test parts grouped by reduced formula (a formula is
  in one part only): a seeded share of the formulas is the test part, a share of the rest the
  validation part that picks the checkpoint; the test part is predicted once, after training.

The last two split into named ``Parts`` (training, validation and, for ``grouped``, test);
their ``describe(parts)`` adds the size of each part, and ``score_part`` names the part scored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

from tcdb.core.errors import TcdbError
from tcdb.core.families import FAMILIES
from tcdb.ml import metrics
from tcdb.ml.parameters import BY_TIME_LAST_TRAINING_YEAR, FAMILY_HIGH_TC_K

Split = tuple[np.ndarray, np.ndarray]  # (training rows, test rows), sorted indices


class EvaluationError(TcdbError):
    """A split protocol cannot be applied to these rows."""


class SplitProtocol(Protocol):
    """What every protocol offers: its splits and a description stored with its metrics."""

    name: ClassVar[str]

    def splits(
        self, n: int, groups: np.ndarray | None = None, years: np.ndarray | None = None
    ) -> list[Split]: ...

    def describe(self) -> dict[str, Any]: ...


def _validation_size(n: int, fraction: float) -> int:
    """``round(fraction · n)`` held out, at least one, and at least one left to train on."""
    return min(max(1, round(fraction * n)), n - 1)


def random_split(n: int, fraction: float, seed: int) -> Split:
    """Seeded random (train, validation) indices, each sorted and non-empty."""
    if n < 2:
        raise ValueError("need at least two samples to split")
    n_val = _validation_size(n, fraction)
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def random_masks(n: int, repeats: int, fraction: float, seed: int) -> np.ndarray:
    """(repeats, n) bool: True where a point is in that repeat's random validation set; each
    holds exactly ``round(fraction · n)`` points (at least one, and one left to train on)."""
    if n < 2:
        raise ValueError(f"need at least 2 training points, got {n}")
    n_val = _validation_size(n, fraction)
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((repeats, n)), axis=1)
    masks = np.zeros((repeats, n), dtype=bool)
    np.put_along_axis(masks, order[:, :n_val], True, axis=1)
    return masks


@dataclass(frozen=True)
class RandomSplit:
    """One seeded random split."""

    validation_fraction: float = 0.2
    seed: int = 0
    name: ClassVar[str] = "random"

    def splits(self, n: int, groups=None, years=None) -> list[Split]:
        return [random_split(n, self.validation_fraction, self.seed)]

    def describe(self) -> dict[str, Any]:
        return {"protocol": self.name, "validation_fraction": self.validation_fraction,
                "seed": self.seed}  # fmt: skip


@dataclass(frozen=True)
class RepeatedRandomSplits:
    """``repeats`` seeded random validation splits, scored out of fold."""

    repeats: int = 64
    validation_fraction: float = 0.25
    seed: int = 0
    name: ClassVar[str] = "random-repeated"

    def masks(self, n: int) -> np.ndarray:
        return random_masks(n, self.repeats, self.validation_fraction, self.seed)

    def splits(self, n: int, groups=None, years=None) -> list[Split]:
        return [(np.flatnonzero(~held), np.flatnonzero(held)) for held in self.masks(n)]

    def describe(self) -> dict[str, Any]:
        return {"protocol": self.name, "splits": self.repeats,
                "validation_fraction": self.validation_fraction, "seed": self.seed}  # fmt: skip


@dataclass(frozen=True)
class RandomFolds:
    """k shuffled folds (scikit-learn's ``KFold``): every row tested once."""

    folds: int = 5
    seed: int = 0
    name: ClassVar[str] = "random-folds"

    def splits(self, n: int, groups=None, years=None) -> list[Split]:
        from sklearn.model_selection import KFold

        if n < self.folds:
            raise EvaluationError(f"{n} rows cannot fill {self.folds} folds.")
        folds = KFold(n_splits=self.folds, shuffle=True, random_state=self.seed)
        return [(train, test) for train, test in folds.split(np.zeros((n, 1)))]

    def describe(self) -> dict[str, Any]:
        return {"protocol": self.name, "folds": self.folds, "seed": self.seed}


@dataclass(frozen=True)
class InSample:
    """Fitted and scored on the same rows: how closely a model fits, not how well it predicts
    (the hydride paper's 33.7 K is this figure for its ensemble mean)."""

    name: ClassVar[str] = "in-sample"

    def splits(self, n: int, groups=None, years=None) -> list[Split]:
        rows = np.arange(n)
        return [(rows, rows)]

    def describe(self) -> dict[str, Any]:
        return {"protocol": self.name}


def fitted_reproducibly(model, X: np.ndarray, y: np.ndarray):
    """``model`` fitted on every core it was given, then set to predict on one: summing a
    forest's trees across threads changes the last digit from run to run, and the same seed
    must give the same figures (the trees themselves are the same whatever the threads)."""
    model.fit(X, y)
    if "n_jobs" in model.get_params():
        model.set_params(n_jobs=1)
    return model


def group_codes(groups: np.ndarray) -> np.ndarray:
    """Each row's group as an integer, numbered in the groups' sorted order, for
    scikit-learn's ``GroupKFold``: it shuffles the sorted distinct groups, so the folds are
    those of the groups themselves, but it finds each fold's rows with numpy's ``isin``, which
    compares an array of Python strings pair by pair (2.8 s for 14,838 compositions in 10
    folds on two busy cores; 0.007 s for their codes)."""
    return np.unique(np.asarray(groups), return_inverse=True)[1].ravel()


@dataclass(frozen=True)
class GroupedByComposition:
    """k shuffled folds grouped by composition (scikit-learn's ``GroupKFold``)."""

    folds: int = 10
    seed: int = 0
    name: ClassVar[str] = "grouped-by-composition"

    def splits(self, n: int, groups: np.ndarray | None = None, years=None) -> list[Split]:
        from sklearn.model_selection import GroupKFold

        if groups is None or len(groups) != n:
            raise EvaluationError(f"The {self.name} protocol needs a composition for each row.")
        distinct = len(set(groups))
        if distinct < self.folds:
            raise EvaluationError(
                f"{distinct} compositions cannot fill {self.folds} folds grouped by composition."
            )
        folds = GroupKFold(n_splits=self.folds, shuffle=True, random_state=self.seed)
        split = folds.split(np.zeros((n, 1)), groups=group_codes(groups))
        return [(train, test) for train, test in split]

    def describe(self) -> dict[str, Any]:
        return {"protocol": self.name, "folds": self.folds, "seed": self.seed}


@dataclass(frozen=True)
class GroupedByChemicalSystem:
    """k shuffled folds grouped by element set (``core.families.chemical_system``), as 3DSC
    does: La2CuO4 and La1.85Sr0.15CuO4 differ in system, La2CuO4 and La1.9CuO4 do not."""

    folds: int = 10
    seed: int = 0
    name: ClassVar[str] = "grouped-by-chemical-system"

    def splits(self, n: int, groups: np.ndarray | None = None, years=None) -> list[Split]:
        from sklearn.model_selection import GroupKFold

        if groups is None or len(groups) != n:
            raise EvaluationError(f"The {self.name} protocol needs an element set for each row.")
        distinct = len(set(groups))
        if distinct < self.folds:
            raise EvaluationError(
                f"{distinct} chemical systems cannot fill {self.folds} folds grouped by system."
            )
        folds = GroupKFold(n_splits=self.folds, shuffle=True, random_state=self.seed)
        split = folds.split(np.zeros((n, 1)), groups=group_codes(groups))
        return [(train, test) for train, test in split]

    def describe(self, groups: np.ndarray | None = None) -> dict[str, Any]:
        counted = {} if groups is None else {"n_systems": len(set(groups))}
        return {"protocol": self.name, "folds": self.folds, "seed": self.seed} | counted


@dataclass(frozen=True)
class ByTime:
    """Train on the rows first reported up to ``last_training_year`` (inclusive), test on the
    later ones; rows without a year (NaN) are left out of both and counted."""

    last_training_year: int = BY_TIME_LAST_TRAINING_YEAR
    name: ClassVar[str] = "by-time"

    def splits(self, n: int, groups=None, years: np.ndarray | None = None) -> list[Split]:
        if years is None or len(years) != n:
            raise EvaluationError(f"The {self.name} protocol needs a year (or NaN) for each row.")
        years = np.asarray(years, dtype=float)
        known = ~np.isnan(years)
        train = np.flatnonzero(known & (years <= self.last_training_year))
        test = np.flatnonzero(known & (years > self.last_training_year))
        if not len(train) or not len(test):
            span = (
                f"years {years[known].min():.0f}-{years[known].max():.0f}"
                if known.any()
                else ("no row has a year")
            )
            raise EvaluationError(
                f"Splitting after {self.last_training_year} leaves {len(train)} rows to train on "
                f"and {len(test)} to test ({span}; {int((~known).sum())} rows without a year)."
            )
        return [(train, test)]

    def describe(self, years: np.ndarray | None = None) -> dict[str, Any]:
        """Name and year; given the years, the rows on each side and those without a year."""
        described = {"protocol": self.name, "last_training_year": self.last_training_year}
        if years is None:
            return described
        years = np.asarray(years, dtype=float)
        known = ~np.isnan(years)
        return described | {
            "n_train": int((known & (years <= self.last_training_year)).sum()),
            "n_test": int((known & (years > self.last_training_year)).sum()),
            "n_without_year": int((~known).sum()),
        }


@dataclass(frozen=True)
class Parts:
    """Row indices (sorted) of a model's training and validation parts and, when the
    protocol keeps one apart, its test part. The validation part picks the checkpoint."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray | None = None

    @property
    def scored(self) -> str:
        """The part whose figure is the protocol's result: test if there is one."""
        return "validation" if self.test is None else "test"

    def evaluated(self) -> dict[str, np.ndarray]:
        """Every part the model is scored on, validation first."""
        named = {"validation": self.validation}
        if self.test is not None:
            named["test"] = self.test
        return named

    def rows(self, part: str) -> np.ndarray:
        return {"train": self.train, **self.evaluated()}[part]

    def sizes(self) -> dict[str, int]:
        sizes = {"n_train": len(self.train), "n_validation": len(self.validation)}
        if self.test is not None:
            sizes["n_test"] = len(self.test)
        return sizes


@dataclass(frozen=True)
class PaperSplit:
    """The authors' protocol: a seeded random split over structures; the held-out part picks
    the checkpoint and is scored (so the figure is optimistic)."""

    validation_fraction: float = 0.2
    seed: int = 0
    name: ClassVar[str] = "paper"

    def parts(self, n: int, groups: np.ndarray | None = None) -> Parts:
        train, validation = random_split(n, self.validation_fraction, self.seed)
        return Parts(train, validation)

    def splits(self, n: int, groups=None, years=None) -> list[Split]:
        parts = self.parts(n)
        return [(parts.train, parts.validation)]

    def describe(self, parts: Parts | None = None) -> dict[str, Any]:
        share = f"{1 - self.validation_fraction:.0%}/{self.validation_fraction:.0%}"
        return {
            "protocol": self.name,
            "validation_fraction": self.validation_fraction,
            "seed": self.seed,
            "grouped_by": "none",
            "checkpoint_part": "validation",
            "scored_part": "validation",
            "optimistic": True,
            "description": f"seeded random {share} split over structures; the checkpoint is "
            f"picked on the same {self.validation_fraction:.0%} it is scored on, so the figure "
            "is optimistic (as the authors did)",
        } | (parts.sizes() if parts is not None else {})


def _group_share(count: int, fraction: float, keep: int) -> int:
    """``round(fraction · count)`` groups, at least one, and at least ``keep`` left over."""
    return min(max(1, round(fraction * count)), count - keep)


@dataclass(frozen=True)
class GroupedSplit:
    """Training, validation and test parts grouped by reduced formula: ``test_fraction`` of
    the formulas are tested, ``validation_fraction`` of the remaining formulas pick the
    checkpoint, the rest train. Fractions count formulas, not rows."""

    test_fraction: float = 0.2
    validation_fraction: float = 0.2
    seed: int = 0
    name: ClassVar[str] = "grouped"

    def __post_init__(self) -> None:
        for label, value in (("test", self.test_fraction),
                             ("validation", self.validation_fraction)):  # fmt: skip
            if not 0 < value < 1:
                raise EvaluationError(f"The {self.name} protocol's {label} fraction {value} "
                                      "is not between 0 and 1.")  # fmt: skip

    def parts(self, n: int, groups: np.ndarray | None = None) -> Parts:
        if groups is None or len(groups) != n:
            raise EvaluationError(f"The {self.name} protocol needs a reduced formula for each "
                                  f"of the {n} rows.")  # fmt: skip
        groups = np.asarray(groups).astype(str)
        distinct = np.unique(groups)
        if len(distinct) < 3:
            raise EvaluationError(
                f"{len(distinct)} distinct formulas cannot fill a training, a validation and a "
                f"test part grouped by formula (need at least 3)."
            )
        order = distinct[np.random.default_rng(self.seed).permutation(len(distinct))]
        n_test = _group_share(len(order), self.test_fraction, keep=2)
        n_val = _group_share(len(order) - n_test, self.validation_fraction, keep=1)
        tested, validated = order[:n_test], order[n_test : n_test + n_val]
        test = np.flatnonzero(np.isin(groups, tested))
        validation = np.flatnonzero(np.isin(groups, validated))
        train = np.flatnonzero(~np.isin(groups, order[: n_test + n_val]))
        return Parts(train, validation, test)

    def splits(self, n: int, groups: np.ndarray | None = None, years=None) -> list[Split]:
        parts = self.parts(n, groups)
        return [(parts.train, parts.test)]

    def describe(self, parts: Parts | None = None) -> dict[str, Any]:
        return {
            "protocol": self.name,
            "test_fraction": self.test_fraction,
            "validation_fraction": self.validation_fraction,
            "seed": self.seed,
            "grouped_by": "reduced formula",
            "checkpoint_part": "validation",
            "scored_part": "test",
            "optimistic": False,
            "description": f"training, validation and test grouped by reduced formula "
            f"(seeded; {self.test_fraction:.0%} of the formulas tested, "
            f"{self.validation_fraction:.0%} of the rest pick the checkpoint); the test part "
            "is predicted once, after training, and never seen by training or checkpointing",
        } | (parts.sizes() if parts is not None else {})


@dataclass(frozen=True)
class GroupedBySystemSplit(GroupedSplit):
    """``GroupedSplit`` over element sets (``core.families.chemical_system``) instead of
    reduced formulas: every doped variant of a system is on one side, so the test part holds
    systems the network never saw (3DSC's grouping, as three parts with a checkpoint)."""

    name: ClassVar[str] = "grouped-by-system"
    grouped_by: ClassVar[str] = "chemical system"

    def describe(self, parts: Parts | None = None) -> dict[str, Any]:
        return super().describe(parts) | {
            "grouped_by": self.grouped_by,
            "description": f"training, validation and test grouped by chemical system "
            f"(element set; seeded; {self.test_fraction:.0%} of the systems tested, "
            f"{self.validation_fraction:.0%} of the rest pick the checkpoint); the test part "
            "is predicted once, after training",
        }


@dataclass(frozen=True)
class ByTimeSplit:
    """By time as three parts: structures first reported after ``last_training_year`` are
    the test part; the validation part is the latest of the earlier years, whole years and
    whole formulas (a formula's year is that of its earliest structure), from the first year
    at which they hold ``validation_fraction`` of the earlier rows. So the checkpoint, and
    whatever else the validation part sets (a spread's calibration), is chosen on a step
    forward in time, as the test asks of the model, rather than on formulas of the same
    years as the training ones; nothing from after ``last_training_year`` steers training.
    Rows without a year are in no part and counted. (``seed`` is kept for the models' own
    randomness; the parts do not depend on it.)"""

    last_training_year: int = BY_TIME_LAST_TRAINING_YEAR
    validation_fraction: float = 0.2
    seed: int = 0
    name: ClassVar[str] = "by-time"

    def parts(
        self, n: int, groups: np.ndarray | None = None, years: np.ndarray | None = None
    ) -> Parts:
        train, test = ByTime(self.last_training_year).splits(n, years=years)[0]
        if groups is None or len(groups) != n:
            raise EvaluationError(f"The {self.name} protocol needs a reduced formula per row.")
        _, formula = np.unique(np.asarray(groups).astype(str)[train], return_inverse=True)
        first = np.full(formula.max() + 1 if len(formula) else 0, np.inf)
        np.minimum.at(first, formula, np.asarray(years, dtype=float)[train])
        year = first[formula]  # each row's formula's earliest year
        # the latest years, whole, until they hold the validation share of the earlier rows
        distinct, counts = np.unique(year, return_counts=True)
        if len(distinct) < 2:
            raise EvaluationError(
                f"The structures first reported up to {self.last_training_year} span "
                f"{len(distinct)} year(s): too few to validate on a later one."
            )
        from_latest = np.cumsum(counts[::-1])
        latest = int(np.argmax(from_latest >= self.validation_fraction * len(year)))
        since = max(distinct[::-1][latest], distinct[1])  # the earliest year always trains
        held = year >= since
        return Parts(train[~held], train[held], test)

    def splits(self, n: int, groups=None, years=None) -> list[Split]:
        parts = self.parts(n, groups, years)
        return [(parts.train, parts.test)]

    def describe(self, parts: Parts | None = None, years: np.ndarray | None = None) -> dict:
        without = {} if years is None else {
            "n_without_year": int(np.isnan(np.asarray(years, dtype=float)).sum())
        }  # fmt: skip
        return (
            {
                "protocol": self.name,
                "last_training_year": self.last_training_year,
                "validation_fraction": self.validation_fraction,
                "seed": self.seed,
                "grouped_by": "year (the validation part: the latest years before the test's)",
                "checkpoint_part": "validation",
                "scored_part": "test",
                "optimistic": False,
                "description": f"trained on structures first reported up to "
                f"{self.last_training_year} (their latest years, about "
                f"{self.validation_fraction:.0%} of them, pick the checkpoint), tested once on "
                "those first reported later",
            }
            | (parts.sizes() if parts is not None else {})
            | without
        )


PROTOCOLS: dict[str, type] = {
    p.name: p
    for p in (
        RandomSplit,
        RepeatedRandomSplits,
        RandomFolds,
        InSample,
        GroupedByComposition,
        GroupedByChemicalSystem,
        ByTime,
        PaperSplit,
        GroupedSplit,
        GroupedBySystemSplit,
    )
}
# The protocols a model with a checkpoint (training, validation, maybe test) can be judged by.
PART_PROTOCOLS = (PaperSplit.name, GroupedSplit.name, GroupedBySystemSplit.name, ByTimeSplit.name)


def part_protocol(
    name: str,
    validation_fraction: float,
    test_fraction: float,
    seed: int,
    last_training_year: int = BY_TIME_LAST_TRAINING_YEAR,
) -> PaperSplit | GroupedSplit | ByTimeSplit:
    """The named protocol with these settings, or an error listing the choices."""
    if name == PaperSplit.name:
        return PaperSplit(validation_fraction, seed)
    if name == GroupedSplit.name:
        return GroupedSplit(test_fraction, validation_fraction, seed)
    if name == GroupedBySystemSplit.name:
        return GroupedBySystemSplit(test_fraction, validation_fraction, seed)
    if name == ByTimeSplit.name:
        return ByTimeSplit(last_training_year, validation_fraction, seed)
    raise EvaluationError(f"Unknown protocol {name!r}; choose {', '.join(PART_PROTOCOLS)}.")


YEAR_COLUMN = "year"


def years_of(rows, where: str) -> np.ndarray:
    """The year of each row of a snapshot table (NaN where it has none), or an error naming
    what lacks the column."""
    if YEAR_COLUMN not in getattr(rows, "columns", ()):
        raise EvaluationError(
            f"{where} has no '{YEAR_COLUMN}' column, so it cannot be split by time; snapshots "
            "frozen before SuperCon records carried their reference year lack it: create the "
            "snapshot again ('tcdb db upgrade', 'tcdb curate run', 'tcdb snapshot create')."
        )
    return rows[YEAR_COLUMN].to_numpy(dtype=float)


def family_scores(
    families: Sequence[str],
    y: np.ndarray,
    predicted: np.ndarray,
    rows: np.ndarray,
    high_K: float = FAMILY_HIGH_TC_K,
) -> list[dict[str, Any]]:
    """Per family, over ``rows`` (the later ones of a by-time split): n, how many are truly
    above ``high_K``, how many predicted above it, how many of the truly high were predicted
    high (``n_found``), and RMSE and MAE. Every family is listed, empty ones with n 0."""
    families = np.asarray(families)[rows]
    truth = np.asarray(y, dtype=float)[rows]
    guess = np.asarray(predicted, dtype=float)[rows]
    table = []
    for name in FAMILIES:
        mine = families == name
        t, g = truth[mine], guess[mine]
        scored = metrics.regression(t, g)
        table.append(
            {
                "family": name,
                "n": int(mine.sum()),
                "n_true_above": int((t > high_K).sum()),
                "n_predicted_above": int((g > high_K).sum()),
                "n_found": int(((t > high_K) & (g > high_K)).sum()),
                "high_K": high_K,
                "rmse_K": scored["rmse_K"],
                "mae_K": scored["mae_K"],
            }
        )
    return table


def out_of_fold(
    fit_predict: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    splits: Sequence[Split],
    log: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Each test row predicted by a model fitted on its split's training rows; NaN for rows
    no split tests (``fit_predict(X_train, y_train, X_test)``)."""
    predicted = np.full(len(y), np.nan)
    for number, (train, test) in enumerate(splits, start=1):
        predicted[test] = fit_predict(X[train], y[train], X[test])
        if log is not None:
            log(number, len(splits))
    return predicted


def score(protocol: SplitProtocol, y: np.ndarray, predicted: np.ndarray, unit: str = "_K") -> dict:
    """The protocol's description with RMSE, MAE, R² and n of one target."""
    return protocol.describe() | metrics.regression(y, predicted, unit=unit)


def score_part(
    protocol: PaperSplit | GroupedSplit,
    parts: Parts,
    part: str,
    y: np.ndarray,
    predicted: np.ndarray,
    unit: str = "_K",
) -> dict:
    """The protocol's description (with n per part), the part scored, and RMSE, MAE, R² and n
    of ``predicted`` against ``y`` on that part's rows."""
    rows = parts.rows(part)
    return (
        protocol.describe(parts)
        | {"part": part}
        | metrics.regression(np.asarray(y)[rows], predicted, unit=unit)
    )


def score_targets(
    protocol: SplitProtocol, y: np.ndarray, predicted: np.ndarray, prefixes: Sequence[str]
) -> dict:
    """The protocol's description with the metrics of several targets (``<prefix>_rmse`` …)."""
    return protocol.describe() | metrics.regression_targets(y, predicted, prefixes)
