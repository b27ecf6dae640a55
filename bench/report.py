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


def command_line(module: str, argv: list[str] | None) -> list[str]:
    """``python -m <module>`` and its arguments (``sys.argv`` when ``argv`` is None), absolute paths cut to their file names."""
    return ["python", "-m", module] + [a if not os.path.isabs(a) else Path(a).name for a in (argv if argv is not None else sys.argv[1:])]


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
