"""The names of the built-in models, in one place.

Runs are recorded and looked up under these names; the contract modules (``ml/models/``)
declare them and the loaders that are also called directly (``ml.structural.predictor``,
``ml.composition_model``, ``ml.hydride.training``) check a run against them. A model written
in one module needs no entry here: it declares its name where it is defined.
"""

from __future__ import annotations

HYDRIDE_MLP = "hydride-mlp"
COMPOSITION = "composition"
CVCNN = "cvcnn"
