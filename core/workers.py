"""Worker processes that end with the process that started them, even after ``kill -9``.

A process pool's workers wait on a queue whose write end they hold themselves, so when the
process that owns the pool is killed without a chance to shut it down they would wait forever,
and keep alive with them the fork server they came from and the multiprocessing resource
tracker (both stay up while any process holds the descriptors they watch). Every pool in tcdb
therefore runs ``start_worker`` first in every worker:

- a watchdog thread waits on the owner's process (a pidfd on Linux, polling elsewhere) and ends
  the worker the moment the owner is gone. It is needed because a fork server's worker is not
  a child of the owner; when the workers are gone, the fork server and the resource tracker
  read end-of-file on their pipes and exit by themselves;
- a worker that is a direct child of the owner (``spawn``) is also killed by the kernel when
  its parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``);
- BLAS/OpenMP libraries are held to one thread: a pool has one worker per core.

Workers come from a fork server that has imported the heavy modules once (``pool_context``),
not from a fork of the owner: the owner may hold an open DuckDB connection whose threads must
not be copied into a child.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing.context import BaseContext

from tcdb.core.leftovers import process_alive

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
"""``prctl`` option from <linux/prctl.h>: the signal a process gets when its parent dies."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Read by BLAS/OpenMP libraries when they load; set to 1 in a worker before its imports."""

WATCHDOG_INTERVAL_S = 0.5
"""How often a worker without a pidfd checks that the owner is still there."""


def pool_context(preload: Sequence[str] = ()) -> BaseContext:
    """A fork server that imports ``preload`` once for all workers; ``spawn`` without one."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    return context


def start_worker(
    owner_pid: int, initializer: Callable[..., object] | None = None, *initargs: object
) -> None:
    """A pool's initializer: bind this worker's life to ``owner_pid``, then run ``initializer``.

    Pass ``initializer=start_worker, initargs=(os.getpid(), initializer, ...)`` to the pool.
    """
    if os.getppid() == owner_pid:
        _die_with_parent()
    _watch_owner(owner_pid)
    for variable in THREAD_VARIABLES:
        os.environ[variable] = "1"
    if initializer is not None:
        initializer(*initargs)
    _one_blas_thread()


def _die_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where that is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_owner(owner_pid: int) -> None:
    """A daemon thread that ends this process as soon as ``owner_pid`` has ended."""
    try:
        handle: int | None = os.pidfd_open(owner_pid)
    except ProcessLookupError:  # the owner died before the worker got here
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd (not Linux, or a kernel before 5.3)
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])  # readable once the process has ended
        else:
            while process_alive(owner_pid):
                time.sleep(WATCHDOG_INTERVAL_S)
        os._exit(1)

    threading.Thread(target=watch, name="owner-watchdog", daemon=True).start()


def _one_blas_thread() -> None:
    """Limit the BLAS libraries already loaded to one thread (where threadpoolctl is installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1)
