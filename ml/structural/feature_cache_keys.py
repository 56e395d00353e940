"""Which feature cache a trained run reads: the key ``ml.structure_features`` files it under.

Why: ``tcdb prune`` keeps the caches of the runs it keeps and removes the rest, and the key is
made from content (the snapshot's structures and the feature configuration), not recorded
anywhere. A run whose features this version computes differently has no usable cache (its
model is refused on load), so it has no key.
"""

from __future__ import annotations

import pandas as pd

from tcdb.ml.structure_features import FeatureConfig, cache_key, row_hashes


def feature_cache_key(structures: pd.DataFrame, features: dict | None) -> str | None:
    """The cache key of a run trained on ``structures`` (a snapshot's structures table) with
    the feature configuration its manifest records; None when that is not this version's."""
    config = FeatureConfig.matching(features)
    if config is None:
        return None
    return cache_key(row_hashes(structures).tolist(), config)
