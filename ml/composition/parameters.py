"""The composition model's parameters, with their defaults: its training profiles.

Why here: they are this model's alone, so changing the model never edits the domain core. A run
records its whole configuration (``record`` in ``ml.composition.training``), so a result can
still be traced to every value it used. The structural model's baselines take one of these
profiles by name, through the registry (``ml.structural.baselines``).
"""

from __future__ import annotations

# Fields of ml.composition.training.CompositionModelConfig. "quick" (the default) searches leaves
# and minimum leaf size by inner validation on the 81 + fractions + Magpie descriptors, with 3
# members and a spread; max_leaf_nodes there only caps the structural baselines' fixed trees.
COMPOSITION_PROFILES: dict[str, dict[str, object]] = {
    # Hamidieh's settings and 81 descriptors: depth-16 trees with as many leaves as they grow
    "paper": {"descriptors": "hamidieh81", "method": "fixed", "members": 1},
    "quick": {"max_leaf_nodes": 63, "max_bins": 63},
    # the former quick model: Hamidieh's trees capped at 63 leaves, ~20x faster than paper
    "hamidieh-quick": {
        "max_leaf_nodes": 63,
        "descriptors": "hamidieh81",
        "method": "fixed",
        "members": 1,
    },
    "smoke": {
        "max_leaf_nodes": 15,
        "max_iter": 30,
        "folds": 3,
        "members": 2,
        "search_leaves": (7, 15),
        "search_max_iter": 40,
    },
}
