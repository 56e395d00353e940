"""The models ``tcdb train`` can train: one line per model.

Adding a model is one module implementing ``ml.contract.Model`` (its configuration class and
profiles, ``record``, ``fit``, ``load``) and one ``register`` line below; the command, the
trainer and the run records need no change (docs/architecture.md, "Add a model").
"""

from __future__ import annotations

from tcdb.core.errors import TcdbError
from tcdb.ml.composition.model import CompositionBaseline
from tcdb.ml.contract import Model, check_model
from tcdb.ml.hydride.model import HydrideMLP
from tcdb.ml.structural.model import StructuralCNN
from tcdb.ml.structure_experts.model import StructureExperts

MODELS: dict[str, Model] = {}


def register(model: Model) -> Model:
    """Make ``model`` trainable by name; a second model of the same name is refused."""
    check_model(model)
    if model.name in MODELS and MODELS[model.name] is not model:
        raise ValueError(f"a model named {model.name!r} is already registered")
    MODELS[model.name] = model
    return model


def unregister(name: str) -> None:
    """Forget a model (for models registered for a while, e.g. in a test)."""
    MODELS.pop(name, None)


def get(name: str) -> Model:
    """The registered model of that name, or a sentence listing the models there are."""
    if name not in MODELS:
        raise TcdbError(f"Unknown model {name!r}; choose {', '.join(MODELS)}.")
    return MODELS[name]


register(HydrideMLP())
register(CompositionBaseline())
register(StructuralCNN())
register(StructureExperts())
