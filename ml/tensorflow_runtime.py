"""TensorFlow as the project uses it: legacy Keras (tf-keras), quiet C++ logging.

cvnn's complex layers work only with the legacy Keras, so every model uses ``tf.keras`` in that
mode; the environment must be set before TensorFlow is first imported, which is why every
module gets TensorFlow from here and never imports it at module level. Seeding is here too,
so that the networks of every model are made reproducible the same way.
"""

from __future__ import annotations

import os
from typing import Any


def tensorflow() -> Any:
    """The ``tensorflow`` module, imported on first use with the project's settings."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no oneDNN/CUDA notices on stderr
    import tensorflow as tf

    return tf


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and make TensorFlow ops deterministic (process-wide)."""
    import numpy as np

    tf = tensorflow()
    np.random.seed(seed)
    tf.random.set_seed(seed)
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
