"""How fast the Materials Project mirror's CIFs become structure records.

Run: .venv/bin/python benchmarks/mp_structures.py [--workers N] [--limit N] [--no-progress]
Reads ``materials_project/mp_structures.tar.gz`` from the sources folder (TCDB_SOURCES, else
``../shared/data`` next to the repository) with ``iter_tar_cifs`` and parses it with
``parse_many``: CIF parsing with symmetry expansion, spglib's space-group search, and the
structure as JSON. Prints the counts parsed and rejected (by reason), the wall time (reading
the archive included), structures per second and the peak resident memory of this process and
of its worker processes. Target: all 4,266 CIFs in under 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tcdb.core.records import Rejection  # noqa: E402
from tcdb.core.structures import (  # noqa: E402
    MIN_ITEMS_FOR_POOL,
    iter_tar_cifs,
    parse_many,
    resolve_workers,
)

ARCHIVE = Path("materials_project") / "mp_structures.tar.gz"


def sources_folder() -> Path:
    """The sources folder the settings name (TCDB_SOURCES, else ../shared/data)."""
    from tcdb.core.settings import environment_settings

    return environment_settings().sources


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident memory (MiB) of this process and of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--limit", type=int, default=None, help="parse only the first N CIFs")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    options = parser.parse_args()

    archive = sources_folder() / ARCHIVE
    if not archive.is_file():
        sys.exit(f"{archive} not found; set TCDB_SOURCES to the source mirror")

    start = time.perf_counter()
    items = list(itertools.islice(iter_tar_cifs(archive), options.limit))
    read_s = time.perf_counter() - start
    results = parse_many(items, workers=options.workers, progress=not options.no_progress)
    wall_s = time.perf_counter() - start

    rejections = [result for _, result in results if isinstance(result, Rejection)]
    own_mib, child_mib = peak_rss_mib()
    workers = resolve_workers(options.workers)
    if workers > 1 and len(items) < MIN_ITEMS_FOR_POOL:
        workers = 1  # parse_many stays in-process for small inputs
    print(f"archive            {archive}")
    print(f"CIFs read          {len(items)} in {read_s:.2f} s")
    print(f"workers            {workers} (os.cpu_count() = {os.cpu_count()})")
    print(f"parsed             {len(results) - len(rejections)}")
    print(f"rejected           {len(rejections)}")
    for code, count in Counter(r.reason_code for r in rejections).most_common():
        print(f"  {code:<16} {count}")
    for rejection in rejections[:10]:
        print(f"    {rejection.reason}")
    print(f"wall time          {wall_s:.2f} s")
    print(f"structures/s       {len(results) / wall_s:.1f}")
    print(f"peak RSS           {own_mib:.0f} MiB (main), {child_mib:.0f} MiB (largest worker)")


if __name__ == "__main__":
    main()
