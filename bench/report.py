"""What every benchmark's JSON result shares: the machine basics, the command line, the stand-in note, the write."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ledger.fsutil import atomic_write_text


def host_basics() -> dict[str, Any]:
    """The fields every ``machine`` block starts from: platform string, architecture, CPU count, Python version."""
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count(), "python": platform.python_version()}


def worker_memory(summary: dict[str, Any], peak_rss_mb: float) -> dict[str, Any]:
    """A scoring run's processes and memory from its ``--json`` summary and the command's peak RSS (``wait4``: its largest process).

    ``peak_rss_mb_sum`` adds the worker processes' own peaks to it: an upper bound of the run's
    memory, since pages the workers share with the parent (torch's libraries, the loaded model,
    copy-on-write after the fork) are counted once per process.
    """
    workers = summary.get("workers") or {}
    peaks = [float(x) for x in workers.get("peak_rss_mb", [])]
    return {
        "worker_processes": int(workers.get("processes", 1)),
        "worker_peak_rss_mb": peaks,
        "peak_rss_mb_sum": round(peak_rss_mb + sum(peaks), 1),
    }


def target_row(name: str, measured: float | None, target: float, *, at_most: bool = False) -> dict[str, Any] | None:
    """A target beside its measurement (``met`` false for a miss); None when nothing was measured."""
    if measured is None:
        return None
    return {
        "name": name,
        "target": ("≤ " if at_most else "≥ ") + str(target),
        "measured": measured,
        "met": measured <= target if at_most else measured >= target,
    }


class TreeMemory:
    """The peak proportional set size (PSS) of a running process and its children, sampled from ``/proc`` (a context manager).

    PSS charges each shared page to the processes sharing it in equal parts, so the sum over a
    process tree is what the run really holds: torch's libraries and the loaded model, shared
    copy-on-write by forked scoring workers, count once (the summed RSS counts them per process).
    Sampled from a thread of the benchmark: every ``first_interval`` seconds for the first
    ``first_s`` seconds (start-up, while one process loads and a core is mostly idle; a short run
    still gets samples after its workers fork), then every ``interval`` seconds. A sample reads
    about 1.7 ms of ``/proc`` per process, so once a second keeps the sampler under 0.5% of a core,
    out of the timings it sits beside. A peak shorter than the interval can be missed, so for a
    run of a second or two the figure is a lower bound. ``peak_mb`` is None where
    ``/proc/<pid>/smaps_rollup`` is unreadable.
    """

    def __init__(self, pid: int, *, interval: float = 1.0, first_interval: float = 0.1, first_s: float = 2.0) -> None:
        import threading
        import time

        self.pid = pid
        self.interval = interval
        self.first_interval = first_interval
        self._fast_until = time.monotonic() + first_s
        self.peak_mb: float | None = None
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pss-sampler", daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import time

        while True:
            total = self.sample()
            if total is not None:
                self.samples += 1
                self.peak_mb = total if self.peak_mb is None else max(self.peak_mb, total)
            if self._stop.wait(self.first_interval if time.monotonic() < self._fast_until else self.interval):
                return

    def sample(self) -> float | None:
        """The PSS (MiB) of the process and its children now; None when none could be read."""
        pids = [self.pid, *_children(self.pid)]
        sizes = [kb for kb in map(_pss_kb, pids) if kb is not None]
        return round(sum(sizes) / 1024.0, 1) if sizes else None


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (``/proc/<pid>/task/*/children``; empty where unreadable)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out.extend(int(x) for x in fh.read().split())
        except (OSError, ValueError):
            continue
    return out


def _pss_kb(pid: int) -> int | None:
    """``Pss`` of ``/proc/<pid>/smaps_rollup`` in kB (None when the process is gone or the file unreadable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def command_line(module: str, argv: list[str] | None) -> list[str]:
    """``python -m <module>`` and its arguments (``sys.argv`` when ``argv`` is None), absolute paths cut to their file names."""
    return ["python", "-m", module] + [a if not os.path.isabs(a) else Path(a).name for a in (argv if argv is not None else sys.argv[1:])]


#: What the tiny stand-in's timings are (the encoder's own note names any other stand-in).
TINY_TIMINGS_NOTE = "Measured with the tiny stand-in encoder (no biological skill); timings only."


def timings_note(model_dir: str | Path) -> str:
    """The stand-in sentence for a package's timings: its encoder's own ``geno_lewm_note`` when it has one, else the tiny stand-in's.

    A randomly initialised Carbon-shaped encoder (``bench.cuda``) is a stand-in too, but not the tiny one.
    """
    from geno_lewm.encoder.tiny import TINY_ENCODER_ID

    try:
        cfg = json.loads((Path(model_dir) / "encoder" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return TINY_TIMINGS_NOTE
    note = cfg.get("geno_lewm_note") if cfg.get("geno_lewm_encoder_id") != TINY_ENCODER_ID else None
    return note if isinstance(note, str) and note else TINY_TIMINGS_NOTE


def note_stand_in(doc: dict[str, Any], stand_in: bool) -> None:
    """Add ``stand_in_note`` (the tiny stand-in encoder's sentence) to ``doc`` when the figures come from the stand-in model."""
    if stand_in:
        from geno_lewm.encoder.tiny import STAND_IN_SENTENCE

        doc["stand_in_note"] = STAND_IN_SENTENCE


def write_json(path: str | Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` to ``path`` atomically as indented JSON with sorted keys and a final newline."""
    atomic_write_text(Path(path), json.dumps(doc, indent=2, sort_keys=True) + "\n")


def finish(path: str | Path, doc: dict[str, Any], summary: Iterable[str]) -> int:
    """Write ``doc`` (:func:`write_json`), print each ``summary`` line on stderr; the benchmark's exit code (0)."""
    write_json(path, doc)
    for line in summary:
        print(line, file=sys.stderr)
    return 0
