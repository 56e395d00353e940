"""Where a screening runs: ``local`` (this process, the default) or ``ray`` (a Ray cluster).

Why: a morph map, a random search or a crystal-structure search gives millions of structures;
one machine does about a thousand a second and a crash at structure three million must not
cost the first three million. On Ray a screening is a ``store.screening_jobs.Job`` cut into
shards: each shard is featurised in a task (one CPU), predicted by one of a pool of actors
that each load the networks once, and handed back to this process, which alone writes: the
shard's tables as Parquet in the job folder, then its rows and its finished mark in one
transaction. Run again, the same job loads what was written but not recorded and computes only
the rest.

What a screening is comes from a ``ShardWork`` (morphs of a reference, structure files,
EH_n): the payload of each shard (made here, small), how a task featurises it, and how an
actor turns features into the tables of the shard. Ray is imported only when it is used, so
commands run locally never pay for it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from core.errors import TcdbError
from core.parameters import ENGINE, ENGINES, EngineParameters
from schema.database import Target, writing
from store.screening_jobs import (
    Job,
    finish_job,
    job_id,
    load_shard,
    open_job,
    write_shard,
    written_shards,
)

log = logging.getLogger(__name__)


class EngineError(TcdbError):
    """The engine cannot start or a screening on it stopped before its end."""


@dataclass(frozen=True)
class EngineChoice:
    """``--engine``, ``--address`` and ``--job`` as given on the command line."""

    name: str = "local"
    address: str | None = None  # None: start Ray on this machine for the command
    job: str | None = None  # a job id to use instead of the one made from the inputs
    params: EngineParameters = ENGINE

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise EngineError(f"Unknown engine {self.name!r}; choose {' or '.join(ENGINES)}.")
        if self.address and self.name != "ray":
            raise EngineError("--address names a Ray cluster; it needs --engine ray.")
        if self.job and self.name != "ray":
            raise EngineError("--job names a resumable Ray screening; it needs --engine ray.")

    @property
    def is_ray(self) -> bool:
        return self.name == "ray"

    def record(self) -> dict:
        """What a job's manifest keeps of the engine (the address is not part of its id)."""
        return {"engine": self.name, "address": self.address, **self.params.as_dict()}


class ShardWork(Protocol):
    """One kind of screening, cut into shards (sent to tasks and actors: it must pickle)."""

    def featurise(self, payload: Any) -> Any:
        """In a task: read and featurise one shard."""

    def predict(self, model: Any, featurised: Any) -> dict[str, pa.Table]:
        """In an actor holding ``model``: the shard's tables (prediction, rejections, …)."""


@dataclass
class JobOutcome:
    """What one run of a job did."""

    job: Job
    computed: int = 0  # shards featurised and predicted by this run
    loaded_from_files: int = 0  # shards written by an earlier run but never recorded
    already_finished: int = 0
    seconds: float = 0.0
    load_seconds: float = 0.0  # in this process: Parquet written and rows loaded
    loaded: list[int] = field(default_factory=list)


class _Predictor:
    """A pool member: loads the model once and predicts the shards it is handed."""

    def __init__(self, package: Any) -> None:
        self.model = package.load()

    def predict(self, work: ShardWork, featurised: Any) -> dict[str, pa.Table]:
        return work.predict(self.model, featurised)

    def pid(self) -> int:
        return os.getpid()


def pool_size(params: EngineParameters, cpus: int) -> int:
    """Predicting actors for a cluster of ``cpus``: as many as asked, else one per
    ``cpus_per_actor`` CPUs (one on 2 CPUs, which leaves room for two featurising tasks)."""
    return params.actors or max(1, cpus // params.cpus_per_actor)


def featurise_slots(params: EngineParameters, cpus: int, actors: int) -> int:
    """Featurising tasks that fit beside the actors (at least one)."""
    return max(1, int((cpus - actors * params.actor_cpus) / params.task_cpus + 1e-9))


def _featurise(work: ShardWork, payload: Any) -> Any:
    return work.featurise(payload)


def ray_module():
    """Ray, imported on first use, so commands that never use it do not pay for it."""
    import ray

    return ray


class RaySession:
    """A connection to a Ray cluster and a pool of predicting actors for one model package,
    kept for the whole command (the networks are loaded once per actor, not per job)."""

    def __init__(self, choice: EngineChoice, package: Any) -> None:
        self.choice = choice
        self.package = package
        self.ray = ray_module()
        self.started_here = False
        self.actors: list[Any] = []
        self.featurising = 1

    def __enter__(self) -> RaySession:
        ray = self.ray
        if not ray.is_initialized():
            try:
                if self.choice.address:
                    ray.init(address=self.choice.address, logging_level=logging.WARNING,
                             log_to_driver=False)  # fmt: skip
                else:
                    # Ray runs its workers at niceness 15 unless told otherwise; started for one
                    # command, they run at the command's own priority, as the local engine does
                    os.environ.setdefault("RAY_worker_niceness", "0")
                    ray.init(include_dashboard=False, logging_level=logging.WARNING,
                             log_to_driver=False)  # fmt: skip
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = self.choice.address or "this machine"
                raise EngineError(f"Ray could not start or connect on {where}: {exc}") from None
            self.started_here = True
        params = self.choice.params
        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = pool_size(params, cpus)
        remote = ray.remote(num_cpus=params.actor_cpus, max_restarts=0)(_Predictor)
        package = ray.put(self.package)
        self.actors = [remote.remote(package) for _ in range(count)]
        self.featurise = ray.remote(num_cpus=params.task_cpus)(_featurise)
        self.featurising = featurise_slots(params, cpus, count)
        log.info("ray: %d CPUs, %d predicting actors, %d featurising tasks at once", cpus, count,
                 self.featurising)  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self.started_here:
            self.ray.shutdown()

    def actor_pids(self) -> list[int]:
        return self.ray.get([actor.pid.remote() for actor in self.actors])

    def run(
        self,
        db: Target,
        job: Job,
        work: ShardWork,
        payloads: Callable[[int], Any],
        on_loaded: Callable[[int], None] | None = None,
    ) -> JobOutcome:
        """Every shard of ``job`` not finished yet: loaded from its Parquet if an earlier run
        wrote it, otherwise featurised, predicted, written and loaded. A shard that fails
        (a worker killed, a node lost) stops the run after the shards in flight are stored;
        the error names the job, and running the command again resumes it."""
        start = time.perf_counter()
        outcome = JobOutcome(job)
        finished = open_job(db, job)
        outcome.already_finished = len(finished)
        on_disk = written_shards(job) - finished
        if on_disk:
            _load(db, job, sorted(on_disk), outcome, on_loaded)
            outcome.loaded_from_files = len(on_disk)
        todo = [s for s in range(job.shards) if s not in finished and s not in on_disk]
        failure = self._compute(db, job, work, payloads, todo, outcome, on_loaded)
        outcome.seconds = time.perf_counter() - start
        if failure is not None:
            done = outcome.already_finished + outcome.loaded_from_files + outcome.computed
            raise EngineError(
                f"Screening job {job.id} stopped with {done:,} of {job.shards:,} shards stored "
                f"({failure}); run the same command again (or pass --job {job.id}) to do only "
                "the rest."
            )
        with writing(db) as conn:
            finish_job(conn, job)
        return outcome

    def _compute(self, db, job, work, payloads, todo, outcome, on_loaded) -> str | None:
        ray = self.ray
        work_ref = ray.put(work)
        queue = iter(todo)
        limit = self.featurising + len(self.actors) * self.choice.params.queued_per_actor
        in_flight: dict[Any, tuple[int, int]] = {}  # result ref -> (shard, actor index)
        if not self.actors:
            raise EngineError(f"No predicting actor is left for screening job {job.id}.")
        load = [0] * len(self.actors)
        dead: set[int] = set()
        failure: str | None = None

        def submit() -> bool:
            shard = next(queue, None)
            if shard is None:
                return False
            features = self.featurise.remote(work_ref, payloads(shard))
            index = min(range(len(self.actors)), key=load.__getitem__)
            load[index] += 1
            in_flight[self.actors[index].predict.remote(work_ref, features)] = (shard, index)
            return True

        while len(in_flight) < limit and submit():
            pass
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=len(in_flight), timeout=0)
            if not ready:
                ready, _ = ray.wait(list(in_flight), num_returns=1)
            finished_now = []
            for ref in ready:
                shard, index = in_flight.pop(ref)
                load[index] -= 1
                try:
                    tables = ray.get(ref)
                except Exception as exc:  # a lost worker, actor or node: keep what is done
                    failure = failure or f"shard {shard}: {type(exc).__name__}"
                    log.warning("shard %d of job %s failed: %s", shard, job.id, exc)
                    if isinstance(exc, ray.exceptions.RayActorError):
                        dead.add(index)
                    continue
                started = time.perf_counter()
                write_shard(job, shard, tables)
                outcome.load_seconds += time.perf_counter() - started
                finished_now.append(shard)
            if finished_now:
                _load(db, job, finished_now, outcome, on_loaded)
                outcome.computed += len(finished_now)
            while failure is None and len(in_flight) < limit and submit():
                pass
        # a lost actor leaves the pool; the next job of this command uses the others
        self.actors = [actor for i, actor in enumerate(self.actors) if i not in dead]
        return failure


def _load(db: Target, job: Job, shards: list[int], outcome: JobOutcome, on_loaded) -> None:
    """Load written shards, each in its own transaction, with one connection for them all."""
    started = time.perf_counter()
    with writing(db) as conn:
        for shard in shards:
            load_shard(conn, job, shard)
            outcome.loaded.append(shard)
    outcome.load_seconds += time.perf_counter() - started
    for shard in shards:
        if on_loaded is not None:
            on_loaded(shard)


@dataclass
class Screening:
    """What a bulk command hands the model code to run its work on Ray: the session, the
    folder job folders go in (beside the database) and the ``--job`` given, if any."""

    session: RaySession
    folder: Path
    given_job: str | None = None
    shard_size: int | None = None  # default: the session's EngineParameters.shard_size

    @property
    def size(self) -> int:
        return self.shard_size or self.session.choice.params.shard_size

    def job(self, command: str, run_id: str, inputs: dict, shards: int, part: str = "") -> Job:
        """The job of ``inputs`` (one per part of a command: a family's reference structure):
        its id is made from them, or is the ``--job`` given with the part appended."""
        if self.given_job:
            name = f"{self.given_job}-{part}" if part else self.given_job
        else:
            name = job_id(command, run_id, inputs)
        settings = self.session.choice.record() | {"shard_size": self.size}
        return Job(name, command, run_id, "ray", shards, self.folder / name, inputs, settings)

    def run(self, db: Target, job: Job, work: ShardWork, payloads: Callable[[int], Any],
            on_loaded: Callable[[int], None] | None = None) -> JobOutcome:  # fmt: skip
        return self.session.run(db, job, work, payloads, on_loaded)


@contextmanager
def ray_session(choice: EngineChoice, package: Any) -> Iterator[RaySession]:
    with RaySession(choice, package) as session:
        yield session
