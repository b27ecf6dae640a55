"""Run a CPU-bound function over index ranges on every core (Ed25519 signing and verification).

``cryptography``'s Ed25519 calls hold the GIL, so threads do not scale; this module forks worker
processes instead. The work items are published in a module global *before* the fork, so workers
read them through copy-on-write memory and only the small per-range results travel back by pipe.
The calling process computes the first range itself while ``workers - 1`` forked children
compute the others (no process pool: a bare ``fork`` costs a few ms, a pool's start-up and
management thread several times that). Forking is used only on Linux, only for batches of at
least :data:`MIN_PARALLEL` items, only when the process runs a single thread (forking a threaded
process can copy a lock another thread holds, e.g. inside OpenSSL, and hang the child: the
cockpit verifies from worker threads), and never inside a worker; everywhere else the function
runs in-process. ``GENO_LEWM_LEDGER_WORKERS`` caps the number of processes (``1`` turns
parallelism off).
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Any

#: Smallest batch worth forking for (a fork costs ~5-20 ms; one Ed25519 op ~30-110 us).
MIN_PARALLEL = 2048
ENV_WORKERS = "GENO_LEWM_LEDGER_WORKERS"

_DATA: Any = None  # the published work items, read by forked workers
_IN_WORKER = False


def workers_for(n: int, workers: int | None = None) -> int:
    """How many processes :func:`map_ranges` would use for ``n`` items (the calling one included)."""
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


class WorkerError(RuntimeError):
    """A forked worker died or raised an exception that could not be sent back as itself."""


def _child(fn: Callable[[int, int], Any], start: int, stop: int, wfd: int) -> None:
    """Body of a forked worker: compute one range, send ``(ok, value)`` pickled down ``wfd``, exit."""
    code = 1
    try:
        _mark_worker()
        try:
            payload = pickle.dumps((True, fn(start, stop)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - every failure is reported to the parent
            try:
                payload = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
                pickle.loads(payload)  # must round-trip, or the parent could not re-raise it
            except Exception:  # noqa: BLE001
                payload = pickle.dumps((False, WorkerError(f"worker failed: {type(exc).__name__}: {exc}")))
        view = memoryview(payload)
        while view:
            view = view[os.write(wfd, view) :]
        code = 0
    finally:
        os._exit(code)  # never run the parent's atexit handlers, finalisers or open connections' destructors


def _collect(pid: int, rfd: int) -> Any:
    """Read a child's result, reap it, and return the value (re-raising its exception)."""
    chunks = []
    try:
        while True:
            chunk = os.read(rfd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(rfd)
        _, status = os.waitpid(pid, 0)
    if not chunks:
        raise WorkerError(f"worker process {pid} ended without a result (wait status {status})")
    ok, value = pickle.loads(b"".join(chunks))
    if not ok:
        raise value
    return value


def map_ranges(fn: Callable[[int, int], Any], items: Any, n: int, *, workers: int | None = None, align: int = 1) -> list[Any]:
    """``[fn(start, stop) for each contiguous range of 0..n]``, in order, over worker processes.

    ``fn`` must be a module-level function; it reads ``items`` through :func:`data`. Every range
    but the last starts and ends on a multiple of ``align``. With one worker (or one range) it runs
    in this process on the single range ``(0, n)``; otherwise this process computes the first
    range and forked children the rest.
    """
    global _DATA
    w = workers_for(n, workers)
    prev, _DATA = _DATA, items
    try:
        if w == 1:
            return [fn(0, n)]
        step = -(-n // w)
        step = -(-step // align) * align
        bounds = [(i, min(n, i + step)) for i in range(0, n, step)]
        if len(bounds) == 1:
            return [fn(0, n)]
        children: list[tuple[int, int]] = []  # (pid, read end of its pipe)
        try:
            for a, b in bounds[1:]:
                rfd, wfd = os.pipe()
                pid = os.fork()
                if pid == 0:  # child
                    os.close(rfd)
                    _child(fn, a, b, wfd)
                os.close(wfd)
                children.append((pid, rfd))
            out = [fn(*bounds[0])]
            while children:
                pid, rfd = children.pop(0)
                out.append(_collect(pid, rfd))
            return out
        finally:
            for pid, rfd in children:  # only on an error or interrupt: stop and reap the rest
                os.close(rfd)
                try:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
    finally:
        _DATA = prev


_FRAME = struct.Struct("<IBQ")  # (chunk index, ok flag, payload length) before each pickled chunk result
_TICKET = struct.Struct("<I")  # a chunk index handed out through the shared ticket pipe
_PIPE_BYTES = 1 << 20  # ask for 1 MiB result pipes so a worker rarely waits for the reader


def _read_exact(fd: int, n: int) -> bytes:
    """Exactly ``n`` bytes from ``fd`` (fewer only at end of file)."""
    parts, got = [], 0
    while got < n:
        chunk = os.read(fd, n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


class ChunkStream:
    """``fn(start, stop)`` over consecutive chunks of ``0..n``, computed ahead by forked workers, read in order.

    The chunk indices are written up front into one shared "ticket" pipe; each worker takes the
    next ticket when it is free (a pipe read of a few bytes is atomic on Linux), so a worker slowed
    by other load simply takes fewer chunks. Each worker writes every result down its own pipe as
    soon as it is ready, and the reader gets them back in chunk order, so it can use chunk ``k``
    (e.g. insert it into the database) while the workers compute the later ones. Without workers
    (see :func:`workers_for`) each chunk is computed in this process when it is read. Use it as a
    context manager: leaving it early stops and reaps the workers. Create it with
    :func:`stream_chunks`.
    """

    def __init__(self, fn: Callable[[int, int], Any], items: Any, n: int, chunk: int, workers: int) -> None:
        self._fn, self._items, self.n = fn, items, n
        self.bounds = [(a, min(n, a + chunk)) for a in range(0, n, chunk)] if n else []
        self._children: dict[int, int] = {}  # read end of its result pipe -> pid
        w = min(workers, len(self.bounds))
        if w <= 1:
            return
        global _DATA
        prev, _DATA = _DATA, items
        tickets_r, tickets_w = os.pipe()
        try:
            tickets = b"".join(_TICKET.pack(k) for k in range(len(self.bounds)))
            if len(tickets) > 65536:  # the default pipe capacity: all tickets must fit before any worker runs
                raise ValueError(f"too many chunks ({len(self.bounds)}) for one ticket pipe")
            os.write(tickets_w, tickets)
            os.close(tickets_w)
            tickets_w = -1
            for _ in range(w):
                rfd, wfd = os.pipe()
                try:
                    import fcntl

                    fcntl.fcntl(wfd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
                except (ImportError, AttributeError, OSError):
                    pass  # a smaller pipe only makes the worker wait for the reader sooner
                pid = os.fork()
                if pid == 0:  # child
                    self._serve(tickets_r, wfd)
                os.close(wfd)
                self._children[rfd] = pid
        except BaseException:
            self.close()
            raise
        finally:
            if tickets_w >= 0:
                os.close(tickets_w)
            os.close(tickets_r)
            _DATA = prev

    def _serve(self, tickets: int, wfd: int) -> None:
        code = 1
        try:
            _mark_worker()
            for rfd in self._children:  # the other workers' result pipes are not ours to hold
                os.close(rfd)
            while True:
                ticket = os.read(tickets, _TICKET.size)
                if len(ticket) != _TICKET.size:
                    break
                (k,) = _TICKET.unpack(ticket)
                a, b = self.bounds[k]
                try:
                    ok, payload = 1, pickle.dumps(self._fn(a, b), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException as exc:  # noqa: BLE001 - every failure is reported to the reader
                    ok = 0
                    try:
                        payload = pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL)
                        pickle.loads(payload)
                    except Exception:  # noqa: BLE001
                        payload = pickle.dumps(WorkerError(f"worker failed: {type(exc).__name__}: {exc}"))
                view = memoryview(_FRAME.pack(k, ok, len(payload)) + payload)
                while view:
                    view = view[os.write(wfd, view) :]
                if not ok:
                    break
            code = 0
        finally:
            os._exit(code)

    def __iter__(self) -> Iterator[tuple[int, int, Any]]:
        """Yield ``(start, stop, fn(start, stop))`` for every chunk, in order."""
        if not self._children:
            global _DATA
            for a, b in self.bounds:
                prev, _DATA = _DATA, self._items
                try:
                    value = self._fn(a, b)
                finally:
                    _DATA = prev
                yield a, b, value
            return
        import select

        ready: dict[int, tuple[int, bytes]] = {}  # chunk index -> (ok, payload), received out of order
        poller = select.poll()  # poll, not select: no FD_SETSIZE limit in processes with many open files
        for fd in self._children:
            poller.register(fd, select.POLLIN)
        live = len(self._children)
        for k, (a, b) in enumerate(self.bounds):
            while k not in ready:
                if not live:
                    raise WorkerError(f"every worker ended before sending chunk {a}:{b}")
                for fd, _ in poller.poll():
                    head = _read_exact(fd, _FRAME.size)
                    if len(head) != _FRAME.size:  # this worker has finished (or died)
                        poller.unregister(fd)
                        live -= 1
                        continue
                    j, ok, length = _FRAME.unpack(head)
                    payload = _read_exact(fd, length)
                    if len(payload) != length:
                        raise WorkerError(f"worker process {self._children[fd]} ended while sending chunk {j}")
                    ready[j] = (ok, payload)
            ok, payload = ready.pop(k)
            value = pickle.loads(payload)
            if not ok:
                raise value
            yield a, b, value

    def close(self) -> None:
        """Stop and reap any workers still running (finished ones are only reaped)."""
        children, self._children = self._children, {}
        for rfd, pid in children.items():
            os.close(rfd)
            try:
                os.kill(pid, signal.SIGKILL)  # a finished worker is already a zombie: the signal is harmless
            except ProcessLookupError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

    def __enter__(self) -> "ChunkStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stream_chunks(fn: Callable[[int, int], Any], items: Any, n: int, *, chunk: int, workers: int | None = None) -> ChunkStream:
    """Start computing ``fn`` over chunks of about ``chunk`` items of ``0..n`` in forked workers (see :class:`ChunkStream`).

    Workers take chunks as they become free, so uneven load evens out (at most 8192 chunks).

    ``fn`` must be a module-level function reading ``items`` through :func:`data`. The workers
    start at once, so the caller can do other work (take a lock, open a transaction) meanwhile.
    """
    return ChunkStream(fn, items, n, max(1, chunk, -(-n // 8192)), workers_for(n, workers))
