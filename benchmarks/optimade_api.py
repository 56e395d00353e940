"""How fast `tcdb serve` answers filtered pages of structures, alone and under 20 clients.

Run: .venv/bin/python benchmarks/optimade_api.py [--db DB] [--output PATH]

Why: an OPTIMADE client pages through filtered structures; a page must come back at once, and
the server must keep up with a few users' scripts at a time on this 2-core machine. The
benchmark starts the real command (`tcdb --db DB serve --port 0`) in its own process, waits
for the URL it prints, then measures over HTTP on 127.0.0.1:

1. latency of a filtered page of 20 structures, one request at a time, cycling through the
   filters below (median and p95); each filter's translation is then cached by the server;
2. the same with filters never seen before (each made unique with one more condition), which
   the server parses and translates on the request;
3. requests per second with 20 concurrent clients (20 threads of this process, each with its
   own keep-alive connection), with the median and p95 latency under that load and the CPU
   time the server spent on each request.

The server serves a copy of --db (default: the make run database, data/tcdb.duckdb), made in a
temporary folder and removed afterwards. The requests stay on this machine and stop after
--requests and --load-requests.

Targets (issue 30): p95 ≤ 50 ms for a filtered page of 20 structures; ≥ 200 requests per
second with 20 concurrent clients.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parents[1]
P95_TARGET_MS = 50.0
RPS_TARGET = 200.0
CLIENTS = 20
PAGE = 20

FILTERS = (
    'elements HAS ALL "La","H"',
    "nelements<=3",
    'chemical_formula_reduced="H3S"',
    "_tcdb_tc_k > 77",
    "_tcdb_tc_k > 30 AND nelements = 2",
    'elements HAS ANY "Nb","V" AND nsites < 20',
    "_tcdb_prediction_cvcnn_tc_k > 20",
    "_tcdb_literature_tc_k IS KNOWN",
    'chemical_formula_anonymous = "AB"',
    'elements HAS ONLY "Mg","B","Al"',
    "_tcdb_tc_high_variance = TRUE AND _tcdb_tc_k > 10",
    'nsites >= 10 AND nsites <= 20 AND elements HAS "O"',
    'NOT elements HAS "O" AND _tcdb_prediction_composition_tc_k > 15',
    'chemical_formula_descriptive CONTAINS "Cu" AND nelements >= 4',
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=REPO / "data" / "tcdb.duckdb",
                        help="the database a copy of which is served")  # fmt: skip
    parser.add_argument("--requests", type=int, default=400, help="sequential requests timed")
    parser.add_argument("--load-requests", type=int, default=4000, help="requests under load")
    parser.add_argument("--output", type=Path, default=None, help="also write the figures as JSON")
    return parser.parse_args()


def start_server(db: Path) -> tuple[subprocess.Popen, str]:
    """`tcdb serve` on a free port, and its base URL once it prints it."""
    tcdb = Path(sys.executable).with_name("tcdb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TCDB_")}
    server = subprocess.Popen(
        [str(tcdb), "--db", str(db), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    line = server.stdout.readline()
    found = re.search(r"at (http://\S+/v1)", line)
    if found is None:
        server.kill()
        sys.exit(f"tcdb serve did not start: {line.strip()!r}")
    return server, found.group(1)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def url(filter_: str) -> str:
    return "/structures?" + urlencode({"filter": filter_, "page_limit": PAGE})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 0.95), 2),
        "max_ms": round(max(ms), 2),
    }


class Connection:
    """One keep-alive HTTP connection to the server (http.client: the cheapest client, so
    that the client's work takes as little of the two cores from the server as it can)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.prefix = parts.path
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)

    def get(self, path: str) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.conn.request("GET", self.prefix + path)
        response = self.conn.getresponse()
        body = response.read()
        return response.status, body, time.perf_counter() - started

    def close(self) -> None:
        self.conn.close()


def sequential(base: str, paths: list[str]) -> tuple[dict, list[int]]:
    times, sizes = [], []
    connection = Connection(base)
    try:
        for path in paths:
            status, body, seconds = connection.get(path)
            times.append(seconds)
            if status != 200:
                sys.exit(f"{path} answered {status}: {body[:300]!r}")
            sizes.append(len(json.loads(body)["data"]))
    finally:
        connection.close()
    return summary(times), sizes


def under_load(base: str, total: int) -> dict:
    """``total`` requests from ``CLIENTS`` threads, each with its own connection."""
    paths = [url(FILTERS[i % len(FILTERS)]) for i in range(total)]
    times: list[float] = []
    failures = []

    def client(mine: list[str]) -> None:
        connection = Connection(base)
        try:
            for path in mine:
                status, _, seconds = connection.get(path)
                times.append(seconds)
                if status != 200:
                    failures.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(paths[i::CLIENTS],)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {
        "clients": CLIENTS,
        "requests": total,
        "failures": len(failures),
        "seconds": round(wall, 2),
        "requests_per_s": round(total / wall, 1),
        **{f"{k}_under_load": v for k, v in summary(times).items() if k != "n"},
    }


def main() -> None:
    args = parse_args()
    if not args.db.is_file():
        sys.exit(f"{args.db} does not exist: run `make run` first, or give --db")
    with tempfile.TemporaryDirectory(prefix="tcdb-api-bench-") as folder:
        copy = Path(folder) / args.db.name
        shutil.copy2(args.db, copy)
        record = measure(args, copy)
    record["database"] = str(args.db)
    report(record, args.output)


def measure(args: argparse.Namespace, db: Path) -> dict:
    server, base = start_server(db)
    try:
        warm, _ = sequential(base, [url(f) for f in FILTERS])  # first use: parse, translate
        cached = [url(FILTERS[i % len(FILTERS)]) for i in range(args.requests)]
        latency, sizes = sequential(base, cached)
        fresh = [
            url(f"{FILTERS[i % len(FILTERS)]} AND nsites < {100_000 + i}")
            for i in range(args.requests // 4)
        ]
        cold, _ = sequential(base, fresh)
        before = cpu_seconds(server.pid)
        load = under_load(base, args.load_requests)
        load["server_cpu_ms_per_request"] = round(
            (cpu_seconds(server.pid) - before) * 1000 / args.load_requests, 2
        )
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "page_limit": PAGE,
        "filters": len(FILTERS),
        "entries_per_page_median": statistics.median(sizes),
        "latency": latency,
        "latency_new_filters": cold,
        "latency_first_use": warm,
        "load": load,
        "targets": {"p95_ms": P95_TARGET_MS, "requests_per_s": RPS_TARGET},
        "met": latency["p95_ms"] <= P95_TARGET_MS and load["requests_per_s"] >= RPS_TARGET,
    }


def report(record: dict, output: Path | None) -> None:
    latency, cold, load = record["latency"], record["latency_new_filters"], record["load"]
    print(f"filtered page of {PAGE} structures, one request at a time ({latency['n']} requests):")
    print(f"  median {latency['median_ms']} ms, p95 {latency['p95_ms']} ms (target ≤ 50 ms)")
    print(f"  filters never seen before: median {cold['median_ms']} ms, p95 {cold['p95_ms']} ms")
    print(f"{CLIENTS} concurrent clients, {load['requests']} requests:")
    print(
        f"  {load['requests_per_s']} requests/s (target ≥ 200), median "
        f"{load['median_ms_under_load']} ms, p95 {load['p95_ms_under_load']} ms, "
        f"{load['failures']} failures; the server used "
        f"{load['server_cpu_ms_per_request']} ms of CPU a request"
    )
    if output:
        output.write_text(json.dumps(record, indent=1))
    if not record["met"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
