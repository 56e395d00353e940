"""Worker processes that end with the process that started them, even after ``kill -9``.

A process pool's workers wait on a queue whose write end they hold themselves, so when their
parent is killed without a chance to shut the pool down they would wait forever (and keep the
multiprocessing resource tracker alive with them). Every pool in tcdb therefore:

- starts its workers with ``spawn``: each worker is a direct child of the process that owns the
  pool (a fork server would sit in between and outlive it), and nothing of the parent's state
  (an open DuckDB connection and its threads) is copied into it;
- runs ``start_worker`` first in every worker: on Linux the kernel sends the worker SIGKILL
  when its parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere a watchdog thread notices that
  the parent is gone. Once the workers are gone the resource tracker reads end-of-file on its
  pipe and exits by itself;
- keeps every worker's BLAS/OpenMP to one thread: a pool has one worker per core, and a
  spawned worker would otherwise start a thread per core in each BLAS library (a forked one
  did not), which made CIF parsing about twice as slow on two cores.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.context import BaseContext

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
"""``prctl`` option from <linux/prctl.h>: the signal a process gets when its parent dies."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Read by BLAS/OpenMP libraries when they load; set to 1 in a worker before its imports."""

WATCHDOG_INTERVAL_S = 0.5
"""How often a worker without ``PR_SET_PDEATHSIG`` checks that its parent is still there."""


def pool_context() -> BaseContext:
    """The start method of every worker pool: ``spawn`` (see the module docstring)."""
    return multiprocessing.get_context("spawn")


def start_worker(
    parent_pid: int, initializer: Callable[..., object] | None = None, *initargs: object
) -> None:
    """A pool's initializer: bind this worker's life to ``parent_pid``, then run ``initializer``.

    Pass ``initargs=(os.getpid(), initializer, ...)`` to the pool.
    """
    if not _die_with_parent():
        _start_watchdog(parent_pid)
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)
    for variable in THREAD_VARIABLES:
        os.environ[variable] = "1"
    if initializer is not None:
        initializer(*initargs)
    _one_blas_thread()


def _one_blas_thread() -> None:
    """Limit the BLAS libraries already loaded to one thread (where threadpoolctl is installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1)


def _die_with_parent() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where that is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _start_watchdog(parent_pid: int) -> None:
    """A daemon thread that ends the process once its parent is no longer ``parent_pid``."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(WATCHDOG_INTERVAL_S)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()
