"""The names of the built-in models, in one place.

Runs are recorded and looked up under these names; each model package's contract declaration
(``model.py``) declares its name, and the loaders that are also called directly
(``ml.structural.predictor``, ``ml.composition.training``, ``ml.hydride.training``) check a
run against them. The command line finds a run of another model by these names without
importing that model's package. A model written in one package needs no entry here: it
declares its name where it is defined.
"""

from __future__ import annotations

HYDRIDE_MLP = "hydride-mlp"
COMPOSITION = "composition"
CVCNN = "cvcnn"
STRUCTURE_EXPERTS = "structure-experts"
