"""Run a CPU-bound function over index ranges on every core (Ed25519 signing and verification).

``cryptography``'s Ed25519 calls hold the GIL, so threads do not scale; this module forks worker
processes instead. The work items are published in a module global *before* the fork, so workers
read them through copy-on-write memory and only the small per-range results travel back by pipe.
Forking is used only on Linux, only for batches of at least :data:`MIN_PARALLEL` items, only
when the process runs a single thread (forking a threaded process can copy a lock another thread
holds, e.g. inside OpenSSL, and hang the child: the cockpit verifies from worker threads), and
never inside a worker; everywhere else the function runs in-process. ``GENO_LEWM_LEDGER_WORKERS`` caps
the number of processes (``1`` turns parallelism off).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

#: Smallest batch worth forking for (a fork costs ~10-30 ms; one Ed25519 op ~30-110 us).
MIN_PARALLEL = 2048
ENV_WORKERS = "GENO_LEWM_LEDGER_WORKERS"

_DATA: Any = None  # the published work items, read by forked workers
_IN_WORKER = False


def workers_for(n: int, workers: int | None = None) -> int:
    """How many processes :func:`map_ranges` would use for ``n`` items."""
    import threading

    if _IN_WORKER or n < MIN_PARALLEL or not sys.platform.startswith("linux") or threading.active_count() > 1:
        return 1
    cap = os.environ.get(ENV_WORKERS, "")
    w = workers or (int(cap) if cap.isdigit() and int(cap) > 0 else None) or len(os.sched_getaffinity(0)) or 1
    return max(1, min(w, n // (MIN_PARALLEL // 2)))


def data() -> Any:
    """The items published by the running :func:`map_ranges` (inside ``fn``)."""
    return _DATA


def _mark_worker() -> None:
    global _IN_WORKER
    _IN_WORKER = True


def map_ranges(fn: Callable[[int, int], Any], items: Any, n: int, *, workers: int | None = None, align: int = 1) -> list[Any]:
    """``[fn(start, stop) for each contiguous range of 0..n]``, in order, over worker processes.

    ``fn`` must be a module-level function; it reads ``items`` through :func:`data`. Every range
    but the last starts and ends on a multiple of ``align``. With one worker (or one range) it runs
    in this process on the single range ``(0, n)``.
    """
    global _DATA
    w = workers_for(n, workers)
    prev, _DATA = _DATA, items
    try:
        if w == 1:
            return [fn(0, n)]
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        step = -(-n // w)
        step = -(-step // align) * align
        bounds = [(i, min(n, i + step)) for i in range(0, n, step)]
        if len(bounds) == 1:
            return [fn(0, n)]
        with ProcessPoolExecutor(len(bounds), mp_context=multiprocessing.get_context("fork"), initializer=_mark_worker) as ex:
            futures = [ex.submit(fn, a, b) for a, b in bounds]
            return [f.result() for f in futures]
    finally:
        _DATA = prev
