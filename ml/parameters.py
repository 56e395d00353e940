"""The parameters every model shares, with their defaults: the names of the common training
profiles, the by-time protocol's last training year and when a family member counts as found
(``ml.evaluation``), and how a screening is spread over a Ray cluster
(``ml.screening_engine``).

Why here: they belong to the models' layer, not to the domain core; each model's own
parameters are in its package (``ml/<model>/parameters.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Training profiles: "paper" uses the papers' settings, "quick" what `make run` uses by default
# (every output says which), "smoke" a tiny run for end-to-end tests of the commands.
PROFILES = ("paper", "quick", "smoke")
# The by-time protocol (ml.evaluation.ByTime): train on compositions first reported up to this
# year, test on the later ones; 2007 keeps the iron-based family (Kamihara et al. 2008) out of
# training, as Konno et al. (J. Phys. Soc. Jpn. 90, 2021) asked.
BY_TIME_LAST_TRAINING_YEAR = 2007
# A family member counts as found when predicted above this T_c (and truly high above it).
FAMILY_HIGH_TC_K = 20.0


ENGINES = ("local", "ray")


@dataclass(frozen=True)
class EngineParameters:
    """How ``--engine ray`` cuts a screening and spreads it over a cluster's CPUs.

    A shard is the unit that is featurised in one task, predicted by one actor call, written
    as one Parquet file and recorded as finished; a crash loses at most the shards in flight.
    Each predicting actor holds the networks once; the pool has ``actors`` of them, or by
    default one per ``cpus_per_actor`` CPUs of the cluster. Featurising a shard takes about
    3.5 times as long as predicting it (measured on MgH13 morphs: 21 s against 6 s for 2,048),
    so an actor that reserved a whole CPU would leave it mostly idle: an actor asks for
    ``actor_cpus`` and a featurising task for ``task_cpus``, which on 2 CPUs lets one actor
    and two featurising tasks run at once (a pool that took every CPU would leave the tasks
    none and the pipeline would stall).
    """

    shard_size: int = 2048  # structures per shard (~35 kB of Fourier features each)
    actor_cpus: float = 0.4
    task_cpus: float = 0.8
    actors: int | None = None  # None: max(1, cluster CPUs // cpus_per_actor)
    cpus_per_actor: int = 2
    # shards in flight beyond those being featurised, per actor: enough to keep it busy, few
    # enough that the object store holds a bounded number of feature arrays
    queued_per_actor: int = 2

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ENGINE = EngineParameters()
