"""How fast Materials Project structures become Fourier density coefficients, on one core.

Run: .venv/bin/python benchmarks/fourier.py [--limit N] [--chunk-size N] [--sweep 32,64,128]
     [--repeat N] [--naive N] [--metric reciprocal|per_axis] [--density gaussian|von_mises]

Reads ``materials_project/mp_structures.tar.gz`` from the sources folder (TCDB_SOURCES, else
``../shared/data`` next to the repository) and parses the CIFs with pymatgen (timed apart, not
part of the figure). Then times ``ml.fourier.batch_coefficients`` on all of them (δ = 13,
complex64, best and median of --repeat runs) with BLAS and OpenMP limited to one thread, and
prints structures per second, the chunk size, the size of the result and the peak resident
memory of the process before and after. For comparison it times the plain per-structure
version (``reference_coefficients``, float64) on the first --naive structures and reports the
largest difference between the two. Target: at least 5,000 structures/s on one core.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy is imported

import argparse  # noqa: E402
import contextlib  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from pymatgen.core import Structure  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tcdb.ml.fourier import (  # noqa: E402
    DEFAULT_CHUNK_SIZE,
    FourierConfig,
    batch_coefficients,
    reference_coefficients,
)

ARCHIVE = Path("materials_project") / "mp_structures.tar.gz"


def sources_folder() -> Path:
    """The sources folder the settings name (TCDB_SOURCES, else ../shared/data)."""
    from tcdb.core.settings import environment_settings

    return environment_settings().sources


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def single_thread():
    """Limit BLAS/OpenMP pools to one thread when threadpoolctl is available."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def read_structures(archive: Path, limit: int | None) -> list[Structure]:
    """Parse the CIFs of the archive in order, the first ``limit`` of them if given."""
    structures: list[Structure] = []
    with tarfile.open(archive) as tar, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for member in tar:
            if limit is not None and len(structures) >= limit:
                break
            if member.isfile() and member.name.endswith(".cif"):
                text = tar.extractfile(member).read().decode()
                structures.append(Structure.from_str(text, fmt="cif"))
    return structures


def time_batch(
    structures: list[Structure], config: FourierConfig, chunk_size: int, repeat: int
) -> tuple[list[float], np.ndarray, dict[int, str]]:
    """Wall times of ``repeat`` runs and the last result."""
    times = []
    values, errors = np.empty(0), {}
    for _ in range(repeat):
        del values  # so that the peak memory holds one result, not two
        start = time.perf_counter()
        values, errors = batch_coefficients(structures, config, chunk_size=chunk_size)
        times.append(time.perf_counter() - start)
    return times, values, errors


def report_batch(label: str, count: int, times: list[float], chunk_size: int) -> None:
    best, median = min(times), statistics.median(times)
    print(
        f"{label:<10} chunk {chunk_size:>4}: {count / best:>8,.0f} structures/s best, "
        f"{count / median:>8,.0f} median ({len(times)} runs, best {best:.3f} s)"
    )


def time_naive(
    structures: list[Structure], config: FourierConfig, batch: np.ndarray
) -> tuple[float, float]:
    """Structures/s of the per-structure reference and its largest relative gap to ``batch``."""
    start = time.perf_counter()
    references = [reference_coefficients(structure, config) for structure in structures]
    elapsed = time.perf_counter() - start
    gap = 0.0
    for row, reference in zip(batch, references, strict=True):
        scale = np.abs(reference).max(axis=(0, 1, 2))
        gap = max(gap, float((np.abs(row - reference).max(axis=(0, 1, 2)) / scale).max()))
    return len(structures) / elapsed, gap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N CIFs")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--sweep", default="", help="comma-separated chunk sizes to compare")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--naive", type=int, default=200, help="structures for the reference")
    parser.add_argument("--metric", default="reciprocal", choices=("reciprocal", "per_axis"))
    parser.add_argument("--density", default="gaussian", choices=("gaussian", "von_mises"))
    options = parser.parse_args()

    archive = sources_folder() / ARCHIVE
    if not archive.is_file():
        sys.exit(f"{archive} not found; set TCDB_SOURCES to the source mirror")
    config = FourierConfig(metric=options.metric, density=options.density)

    start = time.perf_counter()
    structures = read_structures(archive, options.limit)
    atoms = sum(len(structure) for structure in structures)
    print(
        f"parsed {len(structures):,} structures ({atoms:,} sites) in "
        f"{time.perf_counter() - start:.1f} s (not counted below); "
        f"peak memory {peak_rss_mib():.0f} MiB"
    )
    print(f"config: {config.as_dict()}")

    with single_thread():
        batch_coefficients(structures[:50], config)  # warm-up: caches, BLAS, page pool
        before = peak_rss_mib()
        times, values, errors = time_batch(structures, config, options.chunk_size, options.repeat)
        report_batch("batch", len(structures), times, options.chunk_size)
        result, peak = values.nbytes / 2**20, peak_rss_mib()
        print(
            f"result {values.shape} {values.dtype}, {result:.0f} MiB; {len(errors)} refused; "
            f"peak memory {peak:.0f} MiB (before {before:.0f} MiB: "
            f"~{peak - before - result:.0f} MiB of working memory beyond the result)"
        )
        if options.naive:
            subset = structures[: options.naive]
            rate, gap = time_naive(subset, config, values[: len(subset)])
            print(
                f"naive per-structure reference (float64), {len(subset)} structures: "
                f"{rate:,.0f} structures/s; largest |batch − reference| / max|F| = {gap:.1e}"
            )
        del values
        for chunk_size in [int(size) for size in options.sweep.split(",") if size]:
            times, _, _ = time_batch(structures, config, chunk_size, options.repeat)
            report_batch("sweep", len(structures), times, chunk_size)


if __name__ == "__main__":
    main()
