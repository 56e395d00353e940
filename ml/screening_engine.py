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

Nothing typed can hang or escape: ``--job`` is a name (``store.screening_jobs``), ``--address``
is checked for its form before anything runs and for a head that answers (a TCP connection
within ``RayLimits.head_connect_s``) before Ray is started, and ``ray.init`` itself gets
``RayLimits.init_s``; a Ray started here for the command is reaped if the command is killed
(``ml.ray_reaper``).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import pyarrow as pa

from tcdb.core.errors import TcdbError
from tcdb.ml.parameters import ENGINE, ENGINES, EngineParameters
from tcdb.ml.ray_reaper import descendants, start_reaper, stop_reaper
from tcdb.schema.database import Target, reading, writing
from tcdb.store.screening_jobs import (
    Job,
    StagedShard,
    check_job_name,
    check_shards,
    finish_job,
    job_folder,
    job_id,
    load_shard,
    open_job,
    publish_shard,
    record_shard,
    shards_on_disk,
    stage_shard,
)

log = logging.getLogger(__name__)


class EngineError(TcdbError):
    """The engine cannot start or a screening on it stopped before its end."""


class EngineUsageError(EngineError):
    """An engine option that cannot mean anything (an address of no form): wrong usage."""

    exit_code = 2


@dataclass(frozen=True)
class RayLimits:
    """How long ``--engine ray`` waits for a cluster before it gives up with one sentence
    (docs/security.md). Ray itself retries a head that does not answer for ever."""

    # a TCP connection to the head's address: a closed port is refused at once, a host that
    # does not answer or a name that does not resolve waits this long
    head_connect_s: float = 5.0
    # Ray's own GCS client asked once, with this timeout, whether the head is a Ray head
    # (another service on the port: it gives up after about 12 s, three waits of Ray's)
    gcs_probe_s: float = 2.0
    # ray.init itself, the last guard against a head that accepts but never answers; a live
    # head answers within about a second
    init_s: float = 60.0
    ray_client_port: int = 10001  # the port of ray://HOST when none is given


RAY_LIMITS = RayLimits()


@dataclass(frozen=True)
class EngineChoice:
    """``--engine``, ``--address`` and ``--job`` as given on the command line, checked before
    anything is read or created."""

    name: str = "local"
    address: str | None = None  # None: start Ray on this machine for the command
    job: str | None = None  # a job name to use instead of the id made from the inputs
    params: EngineParameters = ENGINE
    limits: RayLimits = RAY_LIMITS

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise EngineError(f"Unknown engine {self.name!r}; choose {' or '.join(ENGINES)}.")
        if self.address is not None and self.name != "ray":
            raise EngineError("--address names a Ray cluster; it needs --engine ray.")
        if self.job is not None and self.name != "ray":
            raise EngineError("--job names a resumable Ray screening; it needs --engine ray.")
        if self.job is not None:
            check_job_name(self.job)
        if self.address is not None and self.address != "auto":
            head_endpoint(self.address, self.limits)

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


def featurise_cpus(params: EngineParameters, cpus: int, actors: int) -> float:
    """The CPUs a featurising task asks for: ``task_cpus``, or what the actors leave when that
    is less. On a 1-CPU cluster an actor holds 0.4, and a task asking 0.8 would never be
    scheduled: the screening waited for ever."""
    left = math.floor((cpus - actors * params.actor_cpus) * 1e4) / 1e4  # Ray's granularity
    return max(0.0, min(params.task_cpus, left))


def _featurise(work: ShardWork, payload: Any) -> Any:
    return work.featurise(payload)


def ray_module():
    """Ray, imported on first use, so commands that never use it do not pay for it."""
    import ray

    return ray


def head_endpoint(address: str, limits: RayLimits = RAY_LIMITS) -> tuple[str, int]:
    """(host, port) of ``HOST:PORT``, ``[IPv6]:PORT`` or ``ray://HOST[:PORT]``; any other form
    is a usage error."""
    client = address.startswith("ray://")
    try:
        parts = urlsplit(address if client else f"//{address}")
        host, port = parts.hostname, parts.port
        rest = parts.path or parts.query or parts.fragment or parts.netloc.endswith(":")
    except ValueError:  # a port that is not a number from 0 to 65535
        host, port, rest = None, None, True
    if client and port is None:
        port = limits.ray_client_port
    if not host or not port or rest:
        raise EngineUsageError(
            f"--address {address!r} is not 'auto', HOST:PORT or ray://HOST:PORT (the head "
            "of a Ray cluster)."
        )
    return host, port


def check_head(address: str, limits: RayLimits = RAY_LIMITS) -> None:
    """Refuse, with one sentence, a head that does not accept a TCP connection within
    ``limits.head_connect_s``: a closed port, a host that does not answer, a name that does
    not resolve. Ray would retry such an address for ever."""
    host, port = head_endpoint(address, limits)
    outcome: list[BaseException | None] = []

    def connect() -> None:
        try:
            socket.create_connection((host, port), timeout=limits.head_connect_s).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    attempt = threading.Thread(target=connect, name="ray-head-check", daemon=True)
    attempt.start()
    attempt.join(limits.head_connect_s + 0.5)  # name resolution has no timeout of its own
    if outcome and outcome[0] is None:
        return
    reason = _connect_failure(outcome[0] if outcome else None, limits)
    raise EngineError(
        f"The Ray head at {address} cannot be reached ({reason}); start it with "
        "'ray start --head' or give the address of a running cluster."
    )


def _connect_failure(exc: BaseException | None, limits: RayLimits) -> str:
    if exc is None or isinstance(exc, TimeoutError):
        return f"no answer within {limits.head_connect_s:g} s"
    if isinstance(exc, socket.gaierror):
        return f"the name does not resolve: {exc.strerror}"
    return (exc.strerror or str(exc)).lower()


def probe_gcs(head: str, limits: RayLimits = RAY_LIMITS) -> None:
    """Ask the head at HOST:PORT once, with Ray's own GCS client and a timeout, whether it is
    a Ray head; refuse it with one sentence if it is not (ray.init would retry for ever). Any
    answer but a failed call (a head that wants credentials) is left for ray.init to judge."""
    try:
        from ray._raylet import InnerGcsClient
        from ray.exceptions import RpcError
    except ImportError:  # a Ray without this client: ray.init and its deadline decide
        return
    try:
        InnerGcsClient.standalone(head, None, int(limits.gcs_probe_s * 1000))
    except RpcError as exc:
        reason = str(exc).splitlines()[0].rstrip(".") if str(exc) else type(exc).__name__
        raise EngineError(
            f"The service at {head} is not a Ray head ({reason}); give the address of a "
            "running cluster ('ray start --head' prints it)."
        ) from None
    except Exception as exc:  # an answer only a Ray head gives
        log.debug("Ray head %s answered the probe with %s", head, type(exc).__name__)


def auto_address() -> str | None:
    """The HOST:PORT ``ray.init(address="auto")`` would connect to (the cluster ``ray start``
    started on this machine), from Ray's own lookup; None where it finds none (Ray then fails
    at once) or where that lookup is not available."""
    try:
        from ray._private.services import canonicalize_bootstrap_address
    except ImportError:  # a Ray without this lookup: ray.init finds the cluster itself
        return None
    try:
        return canonicalize_bootstrap_address("auto")
    except (ConnectionError, ValueError):
        return None


@contextmanager
def deadline(seconds: float, message: str) -> Iterator[None]:
    """Raise ``EngineError(message)`` if the block is still running after ``seconds``: for
    calls that retry for ever (``ray.init`` on a port that is not Ray's). Only the main
    thread can be interrupted; elsewhere the block runs without a deadline."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    class Expired(BaseException):  # not an Exception: code that retries on those must stop
        pass

    def expire(signum: int, frame: Any) -> None:
        raise Expired

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except Expired:
        raise EngineError(message) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class RaySession:
    """A connection to a Ray cluster and a pool of predicting actors for one model package,
    kept for the whole command (the networks are loaded once per actor, not per job)."""

    def __init__(self, choice: EngineChoice, package: Any) -> None:
        self.choice = choice
        self.package = package
        self.ray: Any = None  # imported on entering, once the head is known to answer
        self.started_here = False
        self.reaper = None
        self.actors: list[Any] = []
        self.featurising = 1

    def __enter__(self) -> RaySession:
        address = self.choice.address or os.environ.get("RAY_ADDRESS") or None
        if address and address != "auto":
            check_head(address, self.choice.limits)  # before paying for Ray's import
        ray = self.ray = ray_module()
        if not ray.is_initialized():
            self._start(ray, address)
            self.started_here = True
        params = self.choice.params
        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = pool_size(params, cpus)
        remote = ray.remote(num_cpus=params.actor_cpus, max_restarts=0)(_Predictor)
        package = ray.put(self.package)
        self.actors = [remote.remote(package) for _ in range(count)]
        self.featurise = ray.remote(num_cpus=featurise_cpus(params, cpus, count))(_featurise)
        self.featurising = featurise_slots(params, cpus, count)
        log.info("ray: %d CPUs, %d predicting actors, %d featurising tasks at once", cpus, count,
                 self.featurising)  # fmt: skip
        return self

    def _start(self, ray: Any, address: str | None) -> None:
        """Connect to the cluster named by ``--address`` (or ``RAY_ADDRESS``), whose head
        answered, or start Ray here with a reaper for its processes."""
        limits = self.choice.limits
        try:
            if address:
                head = auto_address() if address == "auto" else address
                if head is not None and head != address:
                    check_head(head, limits)
                if head is not None and not head.startswith("ray://"):
                    probe_gcs(head, limits)
                message = (
                    f"Ray at --address {address} accepted a connection but did not answer as a "
                    f"Ray head within {limits.init_s:g} s; give the address of a running cluster."
                )
                try:
                    with deadline(limits.init_s, message):
                        ray.init(address=address, logging_level=logging.WARNING,
                                 log_to_driver=False)  # fmt: skip
                except EngineError:
                    ray.shutdown()
                    raise
            else:
                # Ray runs its workers at niceness 15 unless told otherwise; started for one
                # command, they run at the command's own priority, as the local engine does
                os.environ.setdefault("RAY_worker_niceness", "0")
                before = descendants([os.getpid()])
                ray.init(include_dashboard=False, logging_level=logging.WARNING,
                         log_to_driver=False)  # fmt: skip
                self.reaper = start_reaper(descendants([os.getpid()]) - before)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = address or "this machine"
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise EngineError(f"Ray could not start or connect on {where}: {reason}") from None

    def __exit__(self, *exc: object) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        if self.started_here:
            self.ray.shutdown()
            stop_reaper(self.reaper)
            self.reaper = None

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
        on_disk = resumable_shards(db, job, finished)
        if on_disk:
            _load(db, job, on_disk, outcome, on_loaded)
            outcome.loaded_from_files = len(on_disk)
        todo = [s for s in range(job.shards) if s not in finished and s not in on_disk]
        failure = self._compute(db, job, work, payloads, todo, outcome, on_loaded) if todo else None
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
                finished_now.append(stage_shard(job, shard, tables))
                outcome.load_seconds += time.perf_counter() - started
            if finished_now:
                _store(db, job, finished_now, outcome, on_loaded)
                outcome.computed += len(finished_now)
            while failure is None and len(in_flight) < limit and submit():
                pass
        # a lost actor leaves the pool; the next job of this command uses the others
        self.actors = [actor for i, actor in enumerate(self.actors) if i not in dead]
        return failure


def resumable_shards(db: Target, job: Job, finished: set[int]) -> list[int]:
    """The shards an earlier command wrote but never loaded (it died between the two), each
    checked against the manifest hash the job recorded before any is loaded: a job folder
    holding a shard the job did not write, or one outside its plan, loads nothing."""
    pending = sorted(shards_on_disk(job) - finished)
    if pending:
        with reading(db) as conn:
            check_shards(conn, job, pending)
    return pending


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


def _store(db: Target, job: Job, staged: list[StagedShard], outcome: JobOutcome, on_loaded) -> None:
    """Computed shards: each one's manifest hash recorded, its folder renamed into place and
    its rows loaded, with one connection for them all (a command killed between the rename
    and the load leaves a shard the next run loads, checked against that hash)."""
    started = time.perf_counter()
    with writing(db) as conn:
        for shard in staged:
            record_shard(conn, job, shard)
            publish_shard(job, shard)
            load_shard(conn, job, shard.shard)
            outcome.loaded.append(shard.shard)
    outcome.load_seconds += time.perf_counter() - started
    for shard in staged:
        if on_loaded is not None:
            on_loaded(shard.shard)


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

    def job(
        self, command: str, run_id: str, inputs: dict, shards: int, part: str = "",
        tables: dict[str, pa.Schema] | None = None,
    ) -> Job:  # fmt: skip
        """The job of ``inputs`` (one per part of a command: a family's reference structure):
        its id is made from them, or is the ``--job`` given with the part appended; its
        shards hold ``tables`` with exactly those schemas."""
        if self.given_job is not None:
            name = f"{self.given_job}-{part}" if part else self.given_job
        else:
            name = job_id(command, run_id, inputs)
        settings = self.session.choice.record() | {"shard_size": self.size}
        folder = job_folder(self.folder, name)
        return Job(name, command, run_id, "ray", shards, folder, inputs, settings, tables or {})

    def run(self, db: Target, job: Job, work: ShardWork, payloads: Callable[[int], Any],
            on_loaded: Callable[[int], None] | None = None) -> JobOutcome:  # fmt: skip
        return self.session.run(db, job, work, payloads, on_loaded)


@contextmanager
def ray_session(choice: EngineChoice, package: Any) -> Iterator[RaySession]:
    with RaySession(choice, package) as session:
        yield session
