"""A small progress reporter on stderr (data stays on stdout).

On a terminal it redraws one line (``\\r``) at most every 0.2 s; otherwise (logs, CI) it prints a
line every 10 s. ``enabled=False`` silences it (``--quiet``).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts scored ALTs and reports throughput on stderr."""

    def __init__(self, label: str = "scoring", *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = label
        self.count = 0
        self.errors = 0
        self.start = time.perf_counter()
        self._last = 0.0

    def update(self, n: int, errors: int = 0) -> None:
        """Add ``n`` processed ALTs (``errors`` of which were error rows)."""
        self.count += n
        self.errors += errors
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last >= (0.2 if self.tty else 10.0):
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.count / max(now - self.start, 1e-9)
        text = f"{self.label}: {self.count:,} ALTs ({self.errors:,} errors) {rate:,.0f}/s"
        if self.tty:
            self.stream.write("\r" + text.ljust(72))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Finish the progress line."""
        if self.enabled and self.tty and self._last:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()


__all__ = ["Progress"]
