"""Gradient-boosted trees stored as plain arrays, so a saved model loads without running code.

Why: pickle (and joblib, and anything built on them) runs code while it loads, so a crafted
``model.pkl`` in a run folder would run whatever it names. A fitted scikit-learn
``HistGradientBoostingRegressor`` is only arrays: per tree, each node's feature, threshold,
side for missing values, children and leaf value, plus one baseline. ``export`` copies those
arrays out of the fitted estimator, ``BoostedTrees`` writes them to an ``.npz`` file (read with
``allow_pickle=False``) and predicts with a short numpy traversal that adds the trees in the
estimator's own order, so the predictions are the same floats as the estimator's. A LightGBM
``Booster`` is the same kind of arrays (its leaves already hold the baseline, so ours is 0):
``export_lightgbm`` reads them from the booster's own JSON dump.

Only what the composition model uses is supported: a regressor with the squared-error loss on
numerical features. Anything else (categorical splits, other losses) is refused at export.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from core.safe_reads import ArrayArchiveError, npz_arrays

FORMAT_VERSION = 1
ARRAYS = ("feature", "threshold", "missing_left", "left", "right", "leaf", "value", "roots")


class TreeFormatError(ValueError):
    """The estimator cannot be exported, or the arrays do not describe valid trees."""


@dataclass(frozen=True)
class BoostedTrees:
    """All trees' nodes in flat arrays; ``roots[i]`` is the node index of tree i's root."""

    baseline: float
    n_features: int
    feature: np.ndarray  # per node (unused for leaves); stored as int32, read as int64
    threshold: np.ndarray  # float64: go left when x <= threshold
    missing_left: np.ndarray  # bool: where NaN goes
    left: np.ndarray  # int64, global node index
    right: np.ndarray  # int64, global node index
    leaf: np.ndarray  # bool
    value: np.ndarray  # float64, leaf values
    roots: np.ndarray  # int64

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Baseline plus every tree's leaf value, summed tree by tree as scikit-learn does."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected X of shape (n, {self.n_features}), got {X.shape}")
        rows = np.arange(len(X))
        total = np.full(len(X), self.baseline, dtype=np.float64)
        for root in self.roots:
            node = np.full(len(X), root, dtype=np.int64)
            active = ~self.leaf[node]
            while active.any():
                at = node[active]
                x = X[rows[active], self.feature[at]]
                go_left = np.where(np.isnan(x), self.missing_left[at], x <= self.threshold[at])
                node[active] = np.where(go_left, self.left[at], self.right[at])
                active = ~self.leaf[node]
            total += self.value[node]
        return total

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array of the model, as ``to_bytes`` writes them."""
        meta = np.array([FORMAT_VERSION, self.n_features], dtype=np.int64)
        return {"meta": meta, "baseline": np.array([self.baseline]),
                **{name: getattr(self, name) for name in ARRAYS}}  # fmt: skip

    def to_bytes(self) -> bytes:
        """The arrays as an uncompressed ``.npz`` archive."""
        buffer = io.BytesIO()
        np.savez(buffer, **self.arrays())
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> BoostedTrees:
        """Read arrays written by ``to_bytes``; no object arrays, every header checked before
        an array is allocated, every index checked."""
        return cls.from_arrays(_archive_arrays(data))

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> BoostedTrees:
        """The model of ``arrays()``'s output, every index checked."""
        missing = {"meta", "baseline", *ARRAYS} - set(arrays)
        if missing:
            raise TreeFormatError(f"the tree archive lacks {', '.join(sorted(missing))}")
        version, n_features = (int(v) for v in arrays["meta"][:2])
        if version != FORMAT_VERSION:
            raise TreeFormatError(f"unsupported tree format {version}")
        trees = cls(
            baseline=float(arrays["baseline"][0]),
            n_features=n_features,
            feature=arrays["feature"].astype(np.int64),
            threshold=arrays["threshold"].astype(np.float64),
            missing_left=arrays["missing_left"].astype(bool),
            left=arrays["left"].astype(np.int64),
            right=arrays["right"].astype(np.int64),
            leaf=arrays["leaf"].astype(bool),
            value=arrays["value"].astype(np.float64),
            roots=arrays["roots"].astype(np.int64),
        )
        trees.validate()
        return trees

    def validate(self) -> None:
        """Refuse arrays whose indices would read outside them or loop forever."""
        n = len(self.leaf)
        if any(len(getattr(self, name)) != n for name in ARRAYS if name != "roots"):
            raise TreeFormatError("the node arrays differ in length")
        inner = ~self.leaf
        children = np.concatenate([self.left[inner], self.right[inner]])
        if len(self.roots) and (self.roots.min() < 0 or self.roots.max() >= n):
            raise TreeFormatError("a root index lies outside the nodes")
        if len(children) and (children.min() < 0 or children.max() >= n):
            raise TreeFormatError("a child index lies outside the nodes")
        # Each node has at most one parent and no root has one: every walk from a root ends.
        parents = np.bincount(children, minlength=n) if n else np.zeros(0, dtype=np.int64)
        if (parents > 1).any() or (len(self.roots) and parents[self.roots].any()):
            raise TreeFormatError("the nodes do not form trees (a node has two parents)")
        features = self.feature[inner]
        if len(features) and (features.min() < 0 or features.max() >= self.n_features):
            raise TreeFormatError("a split names a feature that does not exist")


def pack(models: dict[str, BoostedTrees]) -> bytes:
    """Several named models in one ``.npz`` archive (keys ``name/array``)."""
    buffer = io.BytesIO()
    arrays = {f"{name}/{key}": value for name, model in models.items()
              for key, value in model.arrays().items()}  # fmt: skip
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def unpack(data: bytes) -> dict[str, BoostedTrees]:
    """The models of ``pack``; an archive of one model (``to_bytes``) is ``{"member_0": ...}``."""
    arrays = _archive_arrays(data)
    if "meta" in arrays:
        return {"member_0": BoostedTrees.from_arrays(arrays)}
    grouped: dict[str, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        name, _, field = key.partition("/")
        grouped.setdefault(name, {})[field] = value
    if not grouped:
        raise TreeFormatError("the tree archive holds no model")
    return {name: BoostedTrees.from_arrays(part) for name, part in sorted(grouped.items())}


def _archive_arrays(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of a tree archive, refused (a TreeFormatError) before numpy allocates
    anything when a member is not an array or its header claims more than the archive holds
    (``core.safe_reads.npz_arrays``)."""
    try:
        return npz_arrays(data, "the tree archive")
    except ArrayArchiveError as exc:
        raise TreeFormatError(str(exc)) from None


def export(estimator) -> BoostedTrees:
    """The fitted ``HistGradientBoostingRegressor``'s (or LightGBM ``Booster``'s) trees as
    arrays (squared error only)."""
    if hasattr(estimator, "dump_model"):
        return export_lightgbm(estimator)
    loss = type(getattr(estimator, "_loss", None)).__name__
    if loss != "HalfSquaredError" or estimator.n_trees_per_iteration_ != 1:
        raise TreeFormatError(f"only squared-error regression trees are exported, not {loss}")
    parts, roots, offset = [], [], 0
    for (predictor,) in estimator._predictors:
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise TreeFormatError("categorical splits are not supported")
        parts.append((nodes, offset))
        roots.append(offset)
        offset += len(nodes)
    if offset >= 2**31:  # indices are stored as 32-bit integers (loaded back as 64-bit)
        raise TreeFormatError(f"{offset:,} nodes are too many to store")

    def join(field: str, dtype, shift: bool = False) -> np.ndarray:
        columns = [nodes[field].astype(dtype) for nodes, _ in parts]
        if shift:  # each tree's child indices count from its own first node
            columns = [column + start for column, (_, start) in zip(columns, parts, strict=True)]
        return np.concatenate(columns)

    trees = BoostedTrees(
        baseline=float(np.asarray(estimator._baseline_prediction).reshape(-1)[0]),
        n_features=int(estimator.n_features_in_),
        feature=join("feature_idx", np.int32),
        threshold=join("num_threshold", np.float64),
        missing_left=join("missing_go_to_left", bool),
        left=join("left", np.int64, shift=True).astype(np.int32),
        right=join("right", np.int64, shift=True).astype(np.int32),
        leaf=join("is_leaf", bool),
        value=join("value", np.float64),
        roots=np.asarray(roots, dtype=np.int32),
    )
    trees.validate()
    return trees


def export_lightgbm(booster) -> BoostedTrees:
    """A trained LightGBM ``Booster``'s trees up to its best iteration, as arrays.

    LightGBM sends a value left when ``x <= threshold``; a NaN goes to the stored default side
    when the split learnt one (missing type ``NaN``), and is read as 0 otherwise (``None``).
    Splits that treat zero as missing, categorical splits and other objectives are refused.
    """
    dump = booster.dump_model(num_iteration=booster.best_iteration or None)
    objective = str(dump.get("objective", ""))
    if not objective.startswith("regression") or objective.startswith("regression_l1"):
        raise TreeFormatError(f"only squared-error regression trees are exported, not {objective}")
    nodes: dict[str, list] = {name: [] for name in ARRAYS if name != "roots"}
    roots = [_walk_lightgbm(info["tree_structure"], nodes) for info in dump["tree_info"]]
    if len(nodes["leaf"]) >= 2**31:
        raise TreeFormatError(f"{len(nodes['leaf']):,} nodes are too many to store")
    trees = BoostedTrees(
        baseline=0.0,
        n_features=int(dump["max_feature_idx"]) + 1,
        feature=np.asarray(nodes["feature"], dtype=np.int32),
        threshold=np.asarray(nodes["threshold"], dtype=np.float64),
        missing_left=np.asarray(nodes["missing_left"], dtype=bool),
        left=np.asarray(nodes["left"], dtype=np.int32),
        right=np.asarray(nodes["right"], dtype=np.int32),
        leaf=np.asarray(nodes["leaf"], dtype=bool),
        value=np.asarray(nodes["value"], dtype=np.float64),
        roots=np.asarray(roots, dtype=np.int32),
    )
    trees.validate()
    return trees


def _walk_lightgbm(root: dict, nodes: dict[str, list]) -> int:
    """Append one dumped tree's nodes (depth first, without recursion); the root's index."""
    first = len(nodes["leaf"])
    pending: list[tuple[dict, int | None, str]] = [(root, None, "")]
    while pending:
        node, parent, side = pending.pop()
        index = len(nodes["leaf"])
        if parent is not None:
            nodes[side][parent] = index
        is_leaf = "leaf_value" in node
        if not is_leaf:
            _check_split(node)
        threshold = 0.0 if is_leaf else float(node["threshold"])
        nodes["feature"].append(0 if is_leaf else int(node["split_feature"]))
        nodes["threshold"].append(threshold)
        nodes["missing_left"].append(not is_leaf and _nan_goes_left(node, threshold))
        nodes["left"].append(index)  # a leaf's children point to itself (never followed)
        nodes["right"].append(index)
        nodes["leaf"].append(is_leaf)
        nodes["value"].append(float(node["leaf_value"]) if is_leaf else 0.0)
        if not is_leaf:
            pending.append((node["right_child"], index, "right"))
            pending.append((node["left_child"], index, "left"))
    return first


def _nan_goes_left(node: dict, threshold: float) -> bool:
    """LightGBM's side for NaN: the learnt default, or where 0 goes when none was learnt."""
    if node["missing_type"] == "NaN":
        return bool(node["default_left"])
    return threshold >= 0.0


def _check_split(node: dict) -> None:
    if node.get("decision_type") != "<=":
        raise TreeFormatError(f"categorical splits are not supported ({node.get('decision_type')})")
    if node.get("missing_type") not in ("NaN", "None"):
        raise TreeFormatError(
            f"missing values of type {node.get('missing_type')} are not supported"
        )
