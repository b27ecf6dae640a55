"""Writer serialisation across processes: an ``fcntl`` lock file that records its holder.

DuckDB lets one process at a time open a database file for writing. The ledger therefore holds
DuckDB connections only for one operation, and writers first take an exclusive ``flock`` on
``<ledger>.lock``. The holder writes its pid, command and start time into the file, so a writer
that gives up after its timeout can say who holds the ledger (``LEDGER.BUSY``). The kernel drops
the lock when the holder exits or is killed, so a crash never leaves the ledger locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ledger.errors import LedgerError


def lock_path_for(ledger_path: str | os.PathLike[str]) -> Path:
    """The lock file beside a ledger file."""
    p = Path(ledger_path)
    return p.with_name(p.name + ".lock")


def read_holder(lock_path: Path) -> str:
    """The holder description last written into ``lock_path`` ("unknown" if none)."""
    try:
        text = lock_path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "unknown"
    return text or "unknown"


def _describe_self() -> str:
    cmd = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:4]))
    return f"pid={os.getpid()} cmd={cmd[:120]!r} since={time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}"


@contextlib.contextmanager
def writer_lock(ledger_path: str | os.PathLike[str], timeout_s: float) -> Iterator[None]:
    """Hold the exclusive writer lock of ``ledger_path``; wait up to ``timeout_s`` then raise ``LEDGER.BUSY``."""
    lp = lock_path_for(ledger_path)
    lp.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, timeout_s)
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LedgerError(
                        "BUSY",
                        f"ledger is locked by another writer ({read_holder(lp)}); waited {timeout_s:g} s",
                        "wait for that process to finish, or raise the timeout (--busy-timeout)",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (_describe_self() + "\n").encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
