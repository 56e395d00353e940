"""What every model declares and does, so one trainer, one command and one registry serve all.

A model (a subclass of ``Model``) states its ``name``, the snapshot ``kind`` it trains on, a
one-line ``help``, its configuration class with named ``profiles`` (kept in its package's
``parameters.py``) and the ``overrides`` a user may give on the command line. It then
implements:

- ``record(config)``: the configuration as the run's manifest records it (known before
  fitting, so the run folder exists while it fits);
- ``fit(snapshot, config, context)``: a ``Fitted``: artefacts (file name → bytes), metrics
  (each scored with its protocol by ``ml.evaluation``), notes and prediction rows. It reads
  only the frozen snapshot it is given, never the database; ``ml.training.train`` writes the
  run folder, the manifest, the ``model_run`` row and the predictions;
- ``load(run)``: a ``Predictor`` from a checked run (``store.model_runs.VerifiedRun``), whose
  ``predict(inputs)`` returns one row per input (NaN where an input is refused);
- ``summary(run, config, profile)``: the lines ``tcdb train`` prints.

A model never imports another model's package (the ``independence`` contract of
pyproject.toml). One scored beside another finds it by name in ``FitContext.models``; one whose
predictions are shown beside another's is handed that model's loaded run (a
``FormulaPredictor``) by the command.

This module imports nothing heavy, so the command line can list the models quickly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from tcdb.core.errors import TcdbError

if TYPE_CHECKING:
    from tcdb.store.model_runs import Run, VerifiedRun
    from tcdb.store.snapshots import Snapshot

KINDS = ("hydrides", "structures")


@dataclass(frozen=True)
class Override:
    """A configuration field a user may set on the command line (``--max-epochs 300``),
    over the chosen profile's value."""

    field: str
    type: type
    help: str

    @property
    def option(self) -> str:
        return "--" + self.field.replace("_", "-")


@dataclass(frozen=True)
class FitContext:
    """What a fit may use besides the snapshot and configuration."""

    cache_dir: Path | None = None  # where content-keyed feature caches live
    progress: bool = True  # show progress bars and per-epoch lines
    # The registered models by name (``ml.registry.get``; the trainer fills it in): how a model
    # scored beside another reaches it without importing its package.
    models: Callable[[str], Model] | None = None

    def configured(self, name: str, profile: str, seed: int, setting: str) -> Any:
        """The registered model ``name``'s configuration under ``profile`` with ``seed``: how a
        model fits another's estimator without importing it. A profile that model does not
        have is refused in one sentence naming the ``setting`` that asked for it."""
        if self.models is None:
            raise TypeError(f"{setting} needs the registered models (FitContext.models)")
        model = self.models(name)
        if profile not in model.profiles:
            raise TcdbError(
                f"{setting} {profile!r} is not a {name} profile ({', '.join(model.profiles)})."
            )
        return model.configure(profile, seed)


@dataclass
class Fitted:
    """What a fit gives back; the trainer stores it as a run."""

    artefacts: dict[str, bytes]  # relative file name -> content, listed in the manifest
    metrics: dict[str, Any]
    notes: dict[str, Any] = field(default_factory=dict)
    predictions: list[dict] = field(default_factory=list)  # prediction rows, no run id yet


class Predictor(Protocol):
    """A trained model loaded back from its run."""

    def predict(self, inputs: Sequence[Any]) -> Any: ...


class FormulaPredictor(Protocol):
    """A loaded run that predicts reduced formulas as ``prediction`` rows (subject kind
    ``composition``, with ``model_run_id``, ``tc_K`` and ``tc_std_K``): what a model of
    structures stores beside its own predictions, handed in by the command that loaded it."""

    def prediction_rows(self, formulas: Sequence[str]) -> list[dict]: ...


class Model(ABC):
    """The contract of a trainable model (see the module docstring)."""

    name: ClassVar[str]
    kind: ClassVar[str]  # the snapshot kind it trains on: "hydrides" | "structures"
    help: ClassVar[str]
    profiles: ClassVar[Mapping[str, Mapping[str, object]]]
    overrides: ClassVar[tuple[Override, ...]] = ()

    @property
    @abstractmethod
    def config_class(self) -> type:
        """The configuration dataclass; it takes every profile field and ``seed``."""

    def configure(self, profile: str = "quick", seed: int = 0, **overrides: Any) -> Any:
        """The configuration of a profile, with the overrides given (None: not given)."""
        if profile not in self.profiles:
            raise TcdbError(f"Unknown profile {profile!r}; choose {', '.join(self.profiles)}.")
        allowed = {o.field for o in self.overrides}
        unknown = sorted(set(overrides) - allowed)
        if unknown:
            raise TcdbError(
                f"{self.name} has no option {', '.join(unknown)}; its options: "
                f"{', '.join(sorted(allowed)) or 'none'}."
            )
        given = {k: v for k, v in overrides.items() if v is not None}
        return self.config_class(seed=seed, **(dict(self.profiles[profile]) | given))

    @abstractmethod
    def record(self, config: Any) -> dict:
        """The configuration as the run manifest records it."""

    @abstractmethod
    def fit(self, snapshot: Snapshot, config: Any, context: FitContext) -> Fitted:
        """Train and evaluate on a frozen snapshot of ``kind``."""

    @abstractmethod
    def load(self, run: VerifiedRun) -> Predictor:
        """The trained model of a checked run of this model."""

    def summary(self, run: Run, config: Any, profile: str | None) -> list[str]:
        """What ``tcdb train`` prints: the run, then each scored metric with its protocol."""
        lines = [f"model run {run.id} on snapshot {run.snapshot_id} (profile {profile})"]
        for key, value in run.metrics.items():
            if isinstance(value, dict) and "protocol" in value:
                scores = ", ".join(
                    f"{k} {v:.4g}" for k, v in value.items() if k != "protocol"
                    and isinstance(v, int | float)
                )  # fmt: skip
                lines.append(f"{key} ({value['protocol']}): {scores}")
        return lines


def check_model(model: Model) -> Model:
    """A model whose declarations can be used, or an error saying which is wrong."""
    for attribute in ("name", "kind", "help", "profiles"):
        if not getattr(model, attribute, None):
            raise TypeError(f"{type(model).__name__} declares no {attribute}")
    if model.kind not in KINDS:
        raise TypeError(f"model {model.name}: kind {model.kind!r} is not one of {KINDS}")
    reserved = {"seed", "profile", "snapshot"}
    clash = reserved & {o.field for o in model.overrides}
    if clash:
        raise TypeError(f"model {model.name}: overrides {sorted(clash)} are common options")
    return model
