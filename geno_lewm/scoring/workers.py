"""Local worker processes: chunks of variants scored on every free CPU of one machine, in input order.

Most of a scoring run's per-variant cost is Python (placing, pooling, context tokens, rows,
receipts) around small, fixed-shape tensor calls, so torch's intra-op threads leave the second
core mostly idle. :class:`WorkerPool` forks ``workers`` processes **after** the model package is
verified and loaded (each shares the loaded weights copy-on-write, so start-up is paid once); each
worker opens its own FASTA handle, keeps its own window cache and runs with ``threads`` torch
threads (1 by default). The parent reads the VCF, hands out chunks round-robin and receives each
chunk's rows, row bytes and receipt bytes in chunk order, so the outputs are written exactly as the
single-process run writes them. At most :data:`IN_FLIGHT` chunks per worker are outstanding:
memory stays bounded at any input size.

Numerics: a variant's score depends only on the thread count its process runs with (fixed-shape
predictor batches; docs/scoring.md), so ``workers=N, threads=1`` writes the same bytes as one
process with ``--threads 1`` for any N; ``--numerics reproducible`` stays byte-identical.

Forking needs the ``fork`` start method (Linux) and a CPU device; elsewhere :func:`usable_workers`
answers 1 and the run stays in-process. A worker that dies is ``RESOURCE.SCORING_WORKER_DIED``; a
typed error inside a worker reaches the caller with its own code; no output is committed either way.

Test hook: ``GENO_LEWM_TEST_CRASH_CHUNK=N`` makes the worker that receives chunk ``N`` (0-based,
counted per worker) exit abruptly (``os._exit``), as a process killed for memory would.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import resource
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from ledger.errors import GenoError, ResourceError

#: Chunks outstanding per worker (one being scored, one waiting): enough to keep a worker busy.
IN_FLIGHT: Final = 2
CRASH_ENV: Final = "GENO_LEWM_TEST_CRASH_CHUNK"


@dataclass
class ChunkResult:
    """One scored chunk: its rows (in input order, as columns), their JSONL bytes and the receipts' JSONL bytes."""

    columns: tuple[list[Any], ...]  # geno_lewm.scoring.rows.row_columns of the rows, error rows included
    row_lines: bytes  # one JSON line per row, each ending in a newline
    receipt_lines: bytes  # one JSON line per scored row, each ending in a newline

    @property
    def count(self) -> int:
        """Rows in the chunk."""
        return len(self.columns[0])

    def rows(self) -> list[Any]:
        """The chunk's :class:`~geno_lewm.scoring.rows.ScoreRow` objects."""
        from geno_lewm.scoring.rows import rows_from_columns

        return rows_from_columns(self.columns)


@dataclass
class _Failure:
    """A worker's exception, sent back instead of a result (typed errors keep their code)."""

    code: str | None
    message: str
    hint: str | None = None

    @classmethod
    def of(cls, exc: BaseException) -> _Failure:
        if isinstance(exc, GenoError):
            return cls(exc.code, exc.message, exc.hint)
        return cls(None, f"{type(exc).__name__}: {exc}")

    def error(self) -> GenoError:
        if self.code is not None:
            return GenoError(self.code, self.message, self.hint)
        return ResourceError(
            "SCORING_WORKER_FAILED",
            f"a scoring worker process failed: {self.message}",
            "re-run with --workers 1 --debug to see the traceback in-process",
        )


@dataclass
class _Done:
    """A worker's last message: its work counters and its peak resident memory."""

    stats: Any  # geno_lewm.scoring.scorer.ScorerStats
    peak_rss_mb: float


def usable_workers(requested: int | None, *, device: str, default: int) -> int:
    """How many worker processes a run can use: ``requested`` (or ``default``), 1 where forking is unsafe.

    Forking is used only with the ``fork`` start method (Linux) and a CPU device (a CUDA context
    does not survive a fork).
    """
    n = default if requested is None else requested
    if n < 1:
        from ledger.errors import InputError

        raise InputError("BAD_WORKERS", f"--workers must be >= 1 (got {n})", "pass --workers N with N >= 1, or leave it out")
    if n > 1 and (device != "cpu" or "fork" not in mp.get_all_start_methods() or sys.platform != "linux"):
        return 1
    return n


def _serve(session: Any, fasta: str, batch_size: int, timestamp: str, threads: int, tasks: Any, results: Any) -> None:
    """A worker's loop: score each chunk from ``tasks`` (a queue) and send its :class:`ChunkResult` on ``results`` (a pipe)."""
    import torch

    from geno_lewm.scoring.reference import Reference

    torch.set_num_threads(threads)
    crash_at = int(os.environ.get(CRASH_ENV, "-1") or -1)
    try:
        with Reference(fasta) as ref:
            scorer = session.scorer(ref, batch_size=batch_size)
            n = 0
            while (task := tasks.get()) is not None:
                if n == crash_at:
                    os._exit(9)
                results.send(session.score_chunk(scorer, task, timestamp=timestamp))
                n += 1
            results.send(_Done(scorer.stats, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0))
    except KeyboardInterrupt:
        return
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent, typed where it can be
        results.send(_Failure.of(exc))


@dataclass
class WorkerPool:
    """Forked scoring workers over a loaded :class:`~geno_lewm.scoring.run.ScoringSession` (a context manager)."""

    session: Any
    fasta: str
    workers: int
    threads: int = 1
    batch_size: int = 64
    timestamp: str = ""
    stats: list[Any] = field(default_factory=list)  # each worker's ScorerStats, after a clean finish
    peak_rss_mb: list[float] = field(default_factory=list)  # each worker's peak RSS (MiB; shared pages counted in each)
    _procs: list[Any] = field(default_factory=list)
    _tasks: list[Any] = field(default_factory=list)
    _results: list[Any] = field(default_factory=list)

    def __enter__(self) -> WorkerPool:
        ctx = mp.get_context("fork")
        ends = []
        for _ in range(self.workers):
            # tasks: a queue (its feeder thread never blocks the parent); results: a pipe whose write end
            # only the worker holds, so a worker that dies, even halfway through a message, reads as EOF
            tasks = ctx.Queue()
            reader, writer = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_serve,
                args=(self.session, os.fspath(self.fasta), self.batch_size, self.timestamp, self.threads, tasks, writer),
                daemon=True,
            )
            self._tasks.append(tasks)
            self._results.append(reader)
            self._procs.append(proc)
            ends.append(writer)
        # the parent's objects (the loaded model above all) go to the collector's permanent generation for
        # the forks: a worker's collections then neither scan them (1.4% of its time) nor write to their
        # pages (which would copy them out of the memory it shares with the parent)
        gc.freeze()
        try:
            for proc in self._procs:  # every fork before the first put starts a queue's feeder thread
                proc.start()
        finally:
            gc.unfreeze()  # the parent collects as before (a library caller may score many inputs)
        for writer in ends:
            writer.close()
        return self

    def _get(self, w: int) -> Any:
        """The next message from worker ``w`` (``RESOURCE.SCORING_WORKER_DIED`` when it died instead)."""
        try:
            msg = self._results[w].recv()  # EOF when the worker died: only it held the write end
        except (EOFError, OSError):
            self._procs[w].join(timeout=5)
            raise ResourceError(
                "SCORING_WORKER_DIED",
                f"scoring worker {w + 1} of {self.workers} exited (status {self._procs[w].exitcode}) before returning its chunk",
                "check free memory (each worker holds its own window cache); re-run with fewer --workers",
            ) from None
        if isinstance(msg, _Failure):
            raise msg.error()
        return msg

    def map(self, chunks: Iterable[list[Any]]) -> Iterator[ChunkResult]:
        """Score ``chunks`` (lists of reader items) and yield their results in the same order."""
        it = iter(chunks)
        sent = received = 0
        exhausted = False

        def send() -> None:
            nonlocal sent, exhausted
            chunk = next(it, None)
            if chunk is None:
                exhausted = True
                return
            self._tasks[sent % self.workers].put(chunk)
            sent += 1

        while not exhausted and sent < IN_FLIGHT * self.workers:
            send()
        while received < sent:
            result = self._get(received % self.workers)
            received += 1
            if not exhausted:
                send()
            yield result

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None:
            for tasks in self._tasks:
                tasks.put(None)
            done = [self._get(w) for w in range(self.workers)]
            self.stats = [d.stats for d in done]
            self.peak_rss_mb = [round(d.peak_rss_mb, 1) for d in done]
            for proc in self._procs:
                proc.join()
        else:
            for proc in self._procs:
                if proc.is_alive():
                    proc.terminate()
            for proc in self._procs:
                proc.join(timeout=5)
        for tasks in self._tasks:
            tasks.close()
            tasks.cancel_join_thread()
        for conn in self._results:
            conn.close()


__all__ = ["CRASH_ENV", "IN_FLIGHT", "ChunkResult", "WorkerPool", "usable_workers"]
