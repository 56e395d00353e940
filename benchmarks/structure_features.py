"""What the structural model's inputs cost for a whole snapshot, computed and then cached.

Run: .venv/bin/python benchmarks/structure_features.py [--root data/snapshots]
     [--snapshot default-structures] [--cache-dir DIR] [--warm-runs N]

Measures ``ml.structure_features.structure_features`` on every row of a ``structures``
snapshot with the default ``FeatureConfig`` (δ = 13, complex64), BLAS and OpenMP limited to one
thread:

* warm-up: a first call on --warmup-rows rows without a cache, timed apart: the one-time
  costs of a process (element tables, lazy imports), which the cold figure then leaves out;
* cold: an empty cache folder, so every distinct structure is parsed once, then gets its
  Fourier coefficients and its 175 numerical descriptors, and the cache file is written; the
  wall time is split by stage (hashing, parsing, Fourier, numerical, cache write, expanding to
  the rows) from the function's own timings;
* warm: the same call again in a fresh Python process (so that neither memory nor pymatgen's
  caches carry over, and its peak memory is its own), which only hashes the rows and reads the
  cache; best and median of --warm-runs calls;
* the cache's size on disk, the size of the returned arrays, and the peak resident memory of
  each process (also above the memory it held just before the measured call).

The cache folder is a temporary one removed at the end unless --cache-dir is given (and then
it must not already hold this snapshot's features, or the cold run would be a hit).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tcdb.ml.structure_features import StructureFeatures, structure_features  # noqa: E402
from tcdb.store.snapshots import load_snapshot  # noqa: E402

DEFAULT_ROOT = REPO / "data" / "snapshots"
DEFAULT_SNAPSHOT = "default-structures"  # the structures snapshot `make run` freezes
STAGES = ("hashing", "cache_read", "parsing", "fourier", "numerical", "cache_write", "expanding")


def _status_mib(field: str) -> float | None:
    """A memory field (kB) of /proc/self/status in MiB, None where unavailable."""
    try:
        lines = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return None


def rss_mib() -> float:
    """Current resident memory of this process, MiB."""
    return _status_mib("VmRSS") or 0.0


def peak_rss_mib() -> float:
    """Peak resident memory of this process, MiB: VmHWM, which unlike ru_maxrss does not
    carry over the parent's peak into a child started with fork and exec."""
    peak = _status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_size(path: Path) -> int:
    """Bytes of all files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def single_thread():
    """Limit BLAS/OpenMP pools to one thread when threadpoolctl is available."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def run(
    root: Path, ref: str, cache_dir: Path, warmup_rows: int = 0
) -> tuple[StructureFeatures, float, float, float]:
    """One call on the snapshot: features, wall seconds, baseline and peak memory (MiB)."""
    frame = load_snapshot(root, ref).structures
    with single_thread():
        if warmup_rows:
            start = time.perf_counter()
            structure_features(frame.head(warmup_rows), progress=False)
            print(f"warm-up: {time.perf_counter() - start:.2f} s for {warmup_rows} rows (no cache)")
        baseline = rss_mib()
        start = time.perf_counter()
        features = structure_features(frame, cache_dir=cache_dir, progress=False)
        elapsed = time.perf_counter() - start
    return features, elapsed, baseline, peak_rss_mib()


def warm_child(root: Path, ref: str, cache_dir: Path) -> None:
    """The warm measurement, printed as one JSON line for the parent process."""
    features, elapsed, baseline, peak = run(root, ref, cache_dir)
    if not features.cache_hit:
        sys.exit("the warm run missed the cache")
    record = {"seconds": elapsed, "baseline": baseline, "peak": peak, "timings": features.timings}
    print(json.dumps(record))


def warm_runs(root: Path, ref: str, cache_dir: Path, count: int) -> list[dict]:
    """``count`` warm calls, each in a fresh process."""
    records = []
    for _ in range(count):
        command = [sys.executable, __file__, "--root", str(root), "--snapshot", ref]
        command += ["--cache-dir", str(cache_dir), "--warm-child"]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        records.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return records


def report_cold(features: StructureFeatures, elapsed: float, baseline: float, peak: float) -> None:
    report = features.report()
    print(
        f"rows {report['rows']:,}, distinct structures {report['distinct_structures']:,}, "
        f"valid rows {report['valid_rows']:,}, invalid {report['invalid_rows']:,}"
    )
    print(f"cold: {elapsed:.2f} s ({features.n_distinct / elapsed:,.0f} structures/s)")
    for stage in STAGES:
        if stage in features.timings:
            print(f"  {stage:<12} {features.timings[stage]:8.3f} s")
    arrays = (features.fourier.nbytes + features.numerical.nbytes) / 2**20
    print(f"  result arrays {arrays:.1f} MiB; memory: {baseline:.0f} MiB before the call, peak")
    print(f"  {peak:.0f} MiB (+{peak - baseline:.0f} MiB)")


def report_warm(records: list[dict]) -> None:
    seconds = [r["seconds"] for r in records]
    print(
        f"warm: best {min(seconds):.3f} s, median {statistics.median(seconds):.3f} s "
        f"({len(records)} fresh processes)"
    )
    best = min(records, key=lambda r: r["seconds"])
    for stage, value in best["timings"].items():
        print(f"  {stage:<12} {value:8.3f} s")
    print(
        f"  memory: {best['baseline']:.0f} MiB before the call, peak "
        f"{best['peak']:.0f} MiB (+{best['peak'] - best['baseline']:.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="snapshots folder")
    parser.add_argument("--snapshot", default=DEFAULT_SNAPSHOT, help="snapshot id or name")
    parser.add_argument("--cache-dir", type=Path, default=None, help="kept; default temporary")
    parser.add_argument("--warm-runs", type=int, default=5)
    parser.add_argument("--warmup-rows", type=int, default=20)
    parser.add_argument("--warm-child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.warm_child:
        warm_child(options.root, options.snapshot, options.cache_dir)
        return

    cache_dir = options.cache_dir or Path(tempfile.mkdtemp(prefix="structure-features-"))
    try:
        features, elapsed, baseline, peak = run(
            options.root, options.snapshot, cache_dir, options.warmup_rows
        )
        if features.cache_hit:
            sys.exit(f"{cache_dir} already holds these features: give an empty --cache-dir")
        print(f"snapshot {options.snapshot}; config {json.dumps(features.config.as_dict())[:80]}…")
        report_cold(features, elapsed, baseline, peak)
        size = folder_size(cache_dir)
        print(f"cache: {size / 2**20:.1f} MiB on disk in {features.cache_path}")
        del features
        report_warm(warm_runs(options.root, options.snapshot, cache_dir, options.warm_runs))
    finally:
        if options.cache_dir is None:
            shutil.rmtree(cache_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
