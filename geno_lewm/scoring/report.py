"""The batch receipt report: a compact, checkable summary of one score/receipt file pair.

It binds the score and receipt JSONL files by name, sha256 and size, records the row counts
(scored, errors by code) and a digest over the receipts' output commitments in order, so a later
check (the terminal demo, the release verifiers) can tell stale or mutated files apart.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Final

from ledger.identity import sha256_file

REPORT_SCHEMA_VERSION: Final = "1.0.0"
GENERATED_BY: Final = "geno-lewm-score"


def _identity(path: str | os.PathLike[str]) -> dict[str, Any]:
    digest, size = sha256_file(path)
    return {"path": Path(path).name, "sha256": digest, "size": size}


def receipts_digest(receipts: str | os.PathLike[str]) -> tuple[str, int]:
    """sha256 over the receipts' output commitments joined by newlines, and the receipt count."""
    h = hashlib.sha256()
    n = 0
    with open(receipts, "rb") as fh:
        for line in fh:
            if line.strip():
                h.update(json.loads(line)["output_commitment"].encode("ascii") + b"\n")
                n += 1
    return h.hexdigest(), n


def field_names(path: str | os.PathLike[str]) -> list[str]:
    """Field names of the first JSON row of a JSONL file (in file order); [] when empty."""
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                return list(json.loads(line))
    return []


def batch_report(summary: Any, *, scores: str | os.PathLike[str], receipts: str | os.PathLike[str], engine: dict[str, Any] | None = None) -> dict[str, Any]:
    """The batch receipt report for a finished run (``summary``: a ScoreSummary).

    ``engine`` (a cluster run's engine name, shard count and each shard's identity) is added as
    the report's ``engine`` block when given.
    """
    digest, n = receipts_digest(receipts)
    d = summary.to_dict()
    doc = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "generated_by": GENERATED_BY,
        "kind": "score_receipt_batch",
        "model_id": summary.model_id,
        "release_id": summary.release_id,
        "stand_in": summary.stand_in,
        "counts": d["counts"],
        "receipt_count": n,
        "receipts_output_commitments_sha256": digest,
        "score_fields": field_names(scores),
        "receipt_fields": field_names(receipts),
        "artifacts": {"scores": _identity(scores), "receipts": _identity(receipts)},
        "calibrated": summary.calibrated,
        "runtime": d["runtime"],
    }
    if engine is not None:
        doc["engine"] = engine
    return doc


__all__ = ["batch_report", "field_names", "receipts_digest"]
