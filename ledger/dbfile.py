"""Typed errors for a ledger database file DuckDB cannot open or read (damaged, not a database, I/O)."""

from __future__ import annotations

import os
from pathlib import Path

from ledger.errors import LedgerError

#: DuckDB messages that mean the file's bytes are damaged (not a lock, not a query mistake).
_CORRUPTION_MARKERS = (
    "corrupt",
    "checksum",
    "serialization error",
    "internal error",
    "could not read enough bytes",
    "failed to deserialize",
    "invalid block",
    "not a valid duckdb database",
)


def is_corruption(exc: BaseException) -> bool:
    """True when ``exc`` is a DuckDB error saying the database file itself is damaged or not a database."""
    try:
        import duckdb
    except ImportError:  # pragma: no cover - duckdb is a dependency of ledger
        return False
    if not isinstance(exc, duckdb.Error) or isinstance(exc, (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException)):
        return False
    text = str(exc).lower()
    return any(m in text for m in _CORRUPTION_MARKERS)


def storage_error(path: Path, exc: BaseException) -> LedgerError:
    """The typed error for a DuckDB failure opening or reading ``path``, naming the file (never its absolute path).

    ``LEDGER.NOT_A_LEDGER`` when the file is not a DuckDB database at all, ``LEDGER.CORRUPT`` when
    its bytes are damaged (a checksum or catalog failure), else ``LEDGER.IO``.
    """
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = first.lower()
    if "not a valid duckdb database" in text:
        return LedgerError(
            "NOT_A_LEDGER",
            f"{path.name} is not a ledger database (not a DuckDB file)",
            "pass the ledger.duckdb created by `geno-lewm-ledger init` (e.g. WORKDIR/ledger.duckdb)",
        )
    if is_corruption(exc):
        detail = first.replace(str(path), path.name).replace(os.path.realpath(path), path.name)
        return LedgerError(
            "CORRUPT",
            f"ledger file {path.name} is damaged: {detail[:200]}",
            "the file's bytes changed on disk; restore it from a verified copy (backup, release artifact or another clone)",
        )
    return LedgerError(
        "IO",
        f"cannot open {path.name}: {first.replace(str(path.resolve()), path.name)[:300]}",
        "check the file's permissions and the disk; see the message above",
    )
