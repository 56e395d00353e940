"""Gradient-boosted trees stored in formats that load without running code.

Why: pickle (and joblib, and anything built on them) runs code while it loads, so a crafted
``model.pkl`` in a run folder would run whatever it names. Two formats instead:

- **LightGBM boosters in LightGBM's own text format** (``booster_text``, ``load_booster``): the
  file LightGBM writes, parsed by LightGBM. LightGBM's parser trusts its input, though: a
  truncated text aborts the process, an index outside a tree's nodes reads outside its arrays
  (a segmentation fault or garbage) and a node that is its own child loops forever (measured
  in docs/models.md). So before LightGBM sees a text, ``checked_booster_text`` checks what
  prediction relies on: the header of a one-output regression, every tree's keys in
  LightGBM's order, the number of values of each array, numbers written as LightGBM writes
  them, finite thresholds and leaf values, numerical splits only, split features inside the
  model's features and children that form one tree. LightGBM then parses only the checked
  header and trees, one after another (without ``tree_sizes`` it does not parse them in
  parallel, where any error it meets aborts instead of raising).
- **scikit-learn's trees as plain arrays** (``export``, ``BoostedTrees``): scikit-learn has no
  format of its own that loads without unpickling. A fitted ``HistGradientBoostingRegressor``
  is only arrays: per tree, each node's feature, threshold, side for missing values, children
  and leaf value, plus one baseline. ``export`` copies them out of the estimator,
  ``BoostedTrees`` writes them to an ``.npz`` file (read with ``allow_pickle=False``, every
  index checked) and predicts with a short numpy traversal that adds the trees in the
  estimator's own order, so the predictions are the same floats as the estimator's. Runs
  recorded before LightGBM's text format was used hold their LightGBM boosters in these
  arrays too (a booster's leaves already hold its baseline, so theirs is 0); they load and
  predict as before.

Shared by every model that stores trees (``ml`` itself, not one model's package). Only what
the models use is supported: regressors with the squared-error loss on numerical features
(boosted trees, and random forests, whose trees the same arrays hold, one archive member per
output, averaged through ``tree_leaves`` by ``ml.forest_trees``). Anything else (categorical
splits, other losses) is refused.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np

from tcdb.core.safe_reads import ArrayArchiveError, npz_arrays

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
        X = self._checked(X)
        total = np.full(len(X), self.baseline, dtype=np.float64)
        for root in self.roots:
            total += self.value[self._leaves(root, X)]
        return total

    def tree_leaves(self, X: np.ndarray) -> np.ndarray:
        """(trees, n): the node index of the leaf each row reaches in each tree, in the trees'
        order, for models whose trees are averaged rather than added (a random forest reads
        ``value`` at them, one array per target over the same nodes)."""
        X = self._checked(X)
        node = np.repeat(np.asarray(self.roots, dtype=np.int64)[:, None], len(X), axis=1).ravel()
        row = np.tile(np.arange(len(X)), len(self.roots))
        pending = np.flatnonzero(~self.leaf[node])
        # every tree at once, level by level, over the (tree, row) pairs not yet at a leaf:
        # one numpy pass per level instead of one per tree and level (the same leaves)
        while len(pending):
            at = node[pending]
            x = X[row[pending], self.feature[at]]
            go_left = np.where(np.isnan(x), self.missing_left[at], x <= self.threshold[at])
            node[pending] = np.where(go_left, self.left[at], self.right[at])
            pending = pending[~self.leaf[node[pending]]]
        return node.reshape(len(self.roots), len(X))

    def _checked(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected X of shape (n, {self.n_features}), got {X.shape}")
        return X

    def _leaves(self, root: int, X: np.ndarray) -> np.ndarray:
        """The leaf each row of ``X`` reaches from ``root``."""
        rows = np.arange(len(X))
        node = np.full(len(X), root, dtype=np.int64)
        active = ~self.leaf[node]
        while active.any():
            at = node[active]
            x = X[rows[active], self.feature[at]]
            go_left = np.where(np.isnan(x), self.missing_left[at], x <= self.threshold[at])
            node[active] = np.where(go_left, self.left[at], self.right[at])
            active = ~self.leaf[node]
        return node

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
    """The fitted ``HistGradientBoostingRegressor``'s trees as arrays (squared error only)."""
    if is_booster(estimator):
        raise TreeFormatError("a LightGBM booster is stored in LightGBM's text format")
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


# ---------------------------------------------------------------- LightGBM's text format

BOOSTER_TEXT_MAX_BYTES = 128 << 20
"""Largest booster text read (128 MiB). The largest the composition model writes is about
25 MB (2,000 rounds of 127 leaves: ~12 KB a tree); the quick profile's members are 2-5 MB."""
MAX_LEAVES = 131072  # LightGBM's own bound on num_leaves
HEADER_KEYS = ("version", "num_class", "num_tree_per_iteration", "label_index",
               "max_feature_idx", "objective", "feature_names", "feature_infos",
               "tree_sizes")  # fmt: skip
TREE_KEYS = ("num_leaves", "num_cat", "split_feature", "split_gain", "threshold",
             "decision_type", "left_child", "right_child", "leaf_value", "leaf_weight",
             "leaf_count", "internal_value", "internal_weight", "internal_count", "is_linear",
             "shrinkage")  # fmt: skip
FIXED_VALUES = {"version": "v4", "num_class": "1", "num_tree_per_iteration": "1",
                "label_index": "0", "objective": "regression", "num_cat": "0",
                "is_linear": "0"}  # fmt: skip
# decision_type: bit 0 categorical (refused), bit 1 NaN goes left, bits 2-3 the missing type
# (0 none: NaN read as 0; 2 NaN; 1 zero, which the model never learns, refused)
NUMERICAL_DECISIONS = (0, 2, 8, 10)
_INT = r"-?\d{1,9}"
_FLOAT = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
_INTS = re.compile(f"(?:{_INT}(?: {_INT})*)?")
_FLOATS = re.compile(f"(?:{_FLOAT}(?: {_FLOAT})*)?")


def is_booster(model) -> bool:
    """True for a LightGBM ``Booster``."""
    return hasattr(model, "model_to_string")


def booster_text(booster) -> bytes:
    """The booster in LightGBM's text format, up to its best iteration when it has one (what
    ``predict`` uses), so that the loaded booster predicts with all its trees."""
    best = booster.best_iteration
    return booster.model_to_string(num_iteration=best if best > 0 else -1).encode("ascii")


def load_booster(data: bytes):
    """A LightGBM ``Booster`` from the bytes of a text model, checked first
    (``checked_booster_text``); any refusal, LightGBM's own included, is a TreeFormatError."""
    import lightgbm

    text = checked_booster_text(data)
    try:
        return lightgbm.Booster(model_str=text)
    except lightgbm.basic.LightGBMError as exc:
        raise TreeFormatError(f"LightGBM refused it: {str(exc).splitlines()[0]}") from None


def checked_booster_text(data: bytes) -> str:
    """The header and trees of a LightGBM text model, without ``tree_sizes`` and without what
    follows the trees (importances, parameters), once every check of the module docstring
    has passed: the text LightGBM is given to parse."""
    if len(data) > BOOSTER_TEXT_MAX_BYTES:
        raise TreeFormatError(f"{len(data):,} bytes is more than a booster text may hold")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise TreeFormatError("the text is not ASCII") from None
    trees, end, _ = text.partition("\nend of trees\n")
    if not end:
        raise TreeFormatError("the text has no 'end of trees' line (truncated?)")
    if "\0" in trees:
        raise TreeFormatError("the text holds a NUL byte")
    blocks = trees.split("\nTree=")
    try:
        header = _key_values(blocks[0], "tree", HEADER_KEYS)
    except TreeFormatError as exc:
        raise TreeFormatError(f"the header {exc}") from None
    n_features = _ints(header["max_feature_idx"], 1, "max_feature_idx")[0] + 1
    if n_features < 1:
        raise TreeFormatError("max_feature_idx leaves no feature")
    for key in ("feature_names", "feature_infos"):
        if len(header[key].split(" ")) != n_features:
            raise TreeFormatError(f"{key} does not name {n_features} features")
    if len(blocks) == 1:
        raise TreeFormatError("the text holds no tree")
    for number, block in enumerate(blocks[1:]):
        try:
            _check_tree(_key_values(block, str(number), TREE_KEYS), n_features)
        except TreeFormatError as exc:
            raise TreeFormatError(f"tree {number}: {exc}") from None
    kept = [line for line in blocks[0].split("\n") if not line.startswith("tree_sizes=")]
    return "\n".join(kept).rstrip("\n") + "\n\nTree=" + "\nTree=".join(blocks[1:]) + end


def _key_values(block: str, first: str, keys: tuple[str, ...]) -> dict[str, str]:
    """``key=value`` lines after the line ``first``: exactly ``keys``, in that order, with the
    values LightGBM always writes where ``FIXED_VALUES`` names one."""
    lines = block.rstrip("\n").split("\n")
    if lines[0] != first:
        raise TreeFormatError(f"does not start with {first!r}")
    pairs = [line.partition("=") for line in lines[1:]]
    if tuple(key for key, _, _ in pairs) != keys or not all(eq for _, eq, _ in pairs):
        raise TreeFormatError("does not hold LightGBM's keys in LightGBM's order")
    values = {key: value for key, _, value in pairs}
    for key in (key for key in keys if key in FIXED_VALUES):
        if values[key] != FIXED_VALUES[key]:
            wanted = FIXED_VALUES[key]
            raise TreeFormatError(f"gives {key} {values[key][:40]!r}, not {wanted!r}")
    return values


def _values(value: str, count: int, key: str, pattern: re.Pattern, dtype, what: str):
    """``count`` space-separated values written as ``pattern`` allows, as an array."""
    if not pattern.fullmatch(value):
        raise TreeFormatError(f"{key} holds something other than {what}")
    numbers = np.array(value.split(" ") if value else [], dtype=dtype)
    if len(numbers) != count:
        raise TreeFormatError(f"{key} holds {len(numbers)} values, not {count}")
    return numbers


def _ints(value: str, count: int, key: str) -> np.ndarray:
    return _values(value, count, key, _INTS, np.int64, "integers")


def _floats(value: str, count: int, key: str) -> np.ndarray:
    numbers = _values(value, count, key, _FLOATS, np.float64, "numbers")
    if not np.isfinite(numbers).all():
        raise TreeFormatError(f"{key} holds a number too large for a float")
    return numbers


def _check_tree(values: dict[str, str], n_features: int) -> None:
    """What LightGBM trusts when it predicts: node and leaf indices, split features and
    kinds, thresholds and leaf values (the other arrays only as numbers)."""
    (leaves,) = _ints(values["num_leaves"], 1, "num_leaves")
    if not 1 <= leaves <= MAX_LEAVES:
        raise TreeFormatError(f"num_leaves {leaves} is outside 1-{MAX_LEAVES}")
    splits = leaves - 1
    feature = _ints(values["split_feature"], splits, "split_feature")
    decision = _ints(values["decision_type"], splits, "decision_type")
    children = np.concatenate([_ints(values[key], splits, key)
                               for key in ("left_child", "right_child")])  # fmt: skip
    _floats(values["threshold"], splits, "threshold")
    _floats(values["leaf_value"], leaves, "leaf_value")
    # never used to predict, but read by LightGBM: numbers, as many as it expects (a tree of
    # one leaf may leave its weight out)
    sizes = {"split_gain": {splits}, "internal_value": {splits}, "internal_weight": {splits},
             "internal_count": {splits}, "leaf_weight": {leaves, 0 if leaves == 1 else leaves},
             "leaf_count": {leaves}, "shrinkage": {1}}  # fmt: skip
    for key, allowed in sizes.items():
        if not _FLOATS.fullmatch(values[key]):
            raise TreeFormatError(f"{key} holds something other than numbers")
        if (values[key].count(" ") + 1 if values[key] else 0) not in allowed:
            raise TreeFormatError(f"{key} holds a number of values other than LightGBM's")
    if len(feature) and (feature.min() < 0 or feature.max() >= n_features):
        raise TreeFormatError("a split names a feature that does not exist")
    if not np.isin(decision, NUMERICAL_DECISIONS).all():
        raise TreeFormatError("only numerical splits, with NaN or no missing values, are read")
    # Nodes 1 .. leaves-2 and leaves ~0 .. ~(leaves-1) are each the child of exactly one node
    # and the root (node 0) of none: every walk from the root ends at a leaf of this tree.
    inner, leaf = np.sort(children[children >= 0]), np.sort(~children[children < 0])
    if leaves > 1 and not (np.array_equal(inner, np.arange(1, splits))
                           and np.array_equal(leaf, np.arange(leaves))):  # fmt: skip
        raise TreeFormatError("the children do not form one tree")
