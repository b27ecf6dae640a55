"""Runtime settings shared by training and scoring: device choice, determinism, thread count, seeds.

torch is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING

from ledger.errors import InputError, ResourceError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def add_device_flag(parser, *, default: str = "auto") -> None:
    """Add ``--device {auto,cpu,cuda}`` (the same choices and help in every command that runs the model)."""
    parser.add_argument("--device", choices=DEVICE_CHOICES, default=default, help=f"where to run: auto picks cuda when available (default {default})")


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → CUDA when available else CPU; ``cuda`` without a GPU is ``RESOURCE.NO_CUDA``."""
    import torch

    if name not in DEVICE_CHOICES and not (isinstance(name, str) and name.startswith("cuda:")):
        raise InputError("BAD_DEVICE", f"unknown device {name!r}", "use auto, cpu or cuda")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ResourceError(
            "NO_CUDA",
            f"device {name!r} was requested but no CUDA device is available",
            "run on a CUDA machine, or use --device cpu / runtime.device: cpu for a rehearsal",
        )
    return torch.device(name)


def configure_determinism(seed: int, *, threads: int | None = None, deterministic: bool = True) -> None:
    """Seed python/numpy/torch, pin the torch thread count and turn on deterministic algorithms.

    On CUDA, deterministic cuBLAS needs ``CUBLAS_WORKSPACE_CONFIG``; it is set here when absent
    (it must be set before the first cuBLAS call to take effect). ``OMP_WAIT_POLICY`` defaults to
    ``PASSIVE`` (see :func:`prefer_passive_threads`).
    """
    prefer_passive_threads()
    import numpy as np
    import torch

    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if threads is not None and threads > 0:
        torch.set_num_threads(threads)
    set_deterministic_algorithms(deterministic)
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = deterministic


def set_deterministic_algorithms(mode: bool) -> None:
    """``torch.use_deterministic_algorithms(mode)`` without importing the inductor compiler.

    The public call imports ``torch._inductor.config`` (and with it ``torch._dynamo``: about 1.5 s
    of a scoring command's start-up) only to set the compiler's flag. Nothing here compiles, so
    the flag is set on ATen directly; when inductor is already loaded its flag is set as well.
    """
    import sys

    import torch

    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None:  # another torch build: the public call
        torch.use_deterministic_algorithms(mode)
        return
    if "torch._inductor.config" in sys.modules:
        sys.modules["torch._inductor.config"].deterministic = mode
    setter(mode, warn_only=False)


def prefer_passive_threads() -> None:
    """Idle OpenMP threads sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE`` unless already set).

    Effective only before torch is first imported (OpenMP reads it when it loads). On a CPU shared
    with other processes, spinning threads of many small operators (the predictor's) made scoring
    up to 25× slower on 2 cores (bench/results/inference.json); the arithmetic is unchanged.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def default_cpu_threads() -> int:
    """Torch CPU threads for scoring when ``--threads`` is not given: the CPUs not already busy.

    ``cpu_count − busy``, at least 1 and at most ``cpu_count``, where ``busy`` is
    :func:`busy_cpus`. On a machine shared with other jobs, intra-op threads that cannot all get a
    core make every parallel region wait for the slowest one (a 49,704-variant run was 25× slower
    with 2 threads than with 1 under load); on an idle machine every core is used. Default-mode
    scores agree within the receipt tolerance across thread counts, not always byte for byte
    (docs/numerical-contract.md); ``--numerics reproducible`` pins one thread.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return max(1, min(cpus, cpus - busy_cpus(load, _runnable_now())))


def busy_cpus(load_1m: float, runnable_others: int | None) -> int:
    """CPUs taken by other work: the 1-minute load average, capped by what is runnable right now.

    The load average lags by a minute: right after another job ends (the previous run of a loop, a
    benchmark's last child) it still counts that job, and a quiet 2-core machine would score on one
    thread (0.80× the speed of two on all chrM SNVs). ``runnable_others`` — the other runnable tasks
    seen now (Linux ``/proc/loadavg``), None where unknown — caps it, so only work that is still
    running counts.
    """
    busy = round(load_1m)
    return busy if runnable_others is None else min(busy, runnable_others)


def _running_tasks() -> int:
    """Runnable tasks on the machine now, this process included (``/proc/loadavg``'s fourth field)."""
    with open("/proc/loadavg", encoding="ascii") as fh:
        return int(fh.read().split()[3].split("/")[0])


def _runnable_now(samples: int = 5, gap_s: float = 0.004, read=_running_tasks) -> int | None:
    """Other tasks runnable in every one of a few samples of ``/proc/loadavg`` (this process excluded); None off Linux.

    The least over the samples: a job that keeps a CPU busy is runnable in each of them, while a
    kernel thread or a short command seen in one sample is not work to leave a CPU for (with the
    most, one such blip made a quiet 2-core machine score in one worker, 1.5× slower).
    """
    import time

    seen = []
    for i in range(samples):
        try:
            seen.append(read() - 1)  # the reading process itself is running
        except (OSError, ValueError, IndexError):
            return None
        if i + 1 < samples:
            time.sleep(gap_s)
    return max(0, min(seen))


def scoring_threads(requested: int | None) -> int | None:
    """Threads for a scoring command: ``requested``, else :func:`default_cpu_threads` in a fresh process.

    When torch is already imported (the command runs inside a larger process: tests, notebooks, a
    training job), the process's own thread count is kept (None): training bytes depend on it.
    """
    import sys

    if requested:
        return requested
    return None if "torch" in sys.modules else default_cpu_threads()


def scoring_parallelism(workers: int | None, threads: int | None) -> tuple[int, int | None]:
    """``(worker processes, torch threads per process)`` for a local scoring command.

    Explicit values win (``threads`` defaults to 1 per worker when only ``workers`` is given). With
    neither, a fresh process makes each free CPU (:func:`default_cpu_threads`) a one-thread worker
    process: the per-variant work is mostly Python, which intra-op threads do not share. With only
    ``threads``, or inside a process that already imported torch, the run stays in one process
    (:func:`scoring_threads`).
    """
    import sys

    if workers is not None:
        return workers, threads or 1
    if threads or "torch" in sys.modules:
        return 1, scoring_threads(threads)
    return default_cpu_threads(), 1


def step_seed(seed: int, step: int, stream: int = 0) -> int:
    """A per-step seed derived from the run seed (so a resumed run draws the same batches)."""
    return (seed * 1_000_003 + step * 7_919 + stream * 104_729) % (2**63 - 1)
