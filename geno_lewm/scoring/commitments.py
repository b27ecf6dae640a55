"""Receipt building: the commitments binding a scored ALT's inputs, model and outputs (RFC-0011).

:func:`build_receipt` is what the scoring run calls for each scored row; the receipt layout is
documented in :mod:`geno_lewm.scoring.receipts` (which re-exports these names and verifies receipts).
This module does not import the scoring run, so scoring and verification do not import each other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

from geno_lewm.scoring.rows import ScoreRow
from geno_lewm.versioning import SCHEMAS
from ledger.canonical import canonical_json, canonical_json_of_checked, sha256_hex

RECEIPT_SCHEMA_VERSION: Final = SCHEMAS["receipt"].version
GENERATED_BY: Final = "geno-lewm-score"

#: Top-level receipt fields, in the order documented above.
RECEIPT_FIELDS: Final[tuple[str, ...]] = (
    "schema_version",
    "generated_by",
    "model_id",
    "variant",
    "input",
    "input_commitment",
    "output",
    "calibration_hash",
    "output_commitment",
    "runtime",
    "timestamp",
)


def window_sha256(seq: str) -> str:
    """sha256 of the upper-cased reference window (ASCII), as committed in receipts."""
    return hashlib.sha256(seq.upper().encode("ascii")).hexdigest()


def input_document(window: Any, edit: Any, state_contract_hash: str, *, window_hash: str | None = None) -> dict[str, Any]:
    """The committed input: reference window (hash + placement), edit and state contract hash.

    ``window_hash`` may carry ``window_sha256(window.seq)`` computed once per window by the caller.
    """
    return {
        "reference_window_sha256": window_sha256(window.seq) if window_hash is None else window_hash,
        "window": {
            "chrom": window.chrom,
            "start0": int(window.start0),
            "width": len(window.seq),
            "pad_left": int(window.pad_left),
            "pad_right": int(window.pad_right),
        },
        "edit": {"kind": edit.kind, "offset": int(edit.offset), "ref": edit.ref, "alt": edit.alt},
        "state_contract_hash": state_contract_hash,
    }


def input_commitment(doc: dict[str, Any]) -> str:
    """sha256 of the canonical input document."""
    return sha256_hex(canonical_json(doc))


def output_commitment(*, model_id: str, input_commitment: str, calibration_hash: str | None, output: dict[str, Any]) -> str:
    """sha256 binding model, input commitment, calibration table and the canonical outputs."""
    return sha256_hex(canonical_json({"calibration_hash": calibration_hash, "input_commitment": input_commitment, "model_id": model_id, "output": output}))


@dataclass(frozen=True)
class Receipt:
    """A receipt as a plain document (see module docstring)."""

    doc: dict[str, Any]
    #: top-level fields already canonicalised when the commitments were computed (see :func:`build_receipt`)
    checked: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        """Canonical JSON bytes (one line)."""
        return canonical_json_of_checked(self.doc, self.checked) if self.checked else canonical_json(self.doc)


def build_receipt(
    row: ScoreRow,
    window: Any,
    edit: Any,
    *,
    state_contract_hash: str,
    calibration_hash: str | None,
    runtime: dict[str, str],
    timestamp: str,
    window_hash: str | None = None,
) -> Receipt:
    """The receipt of a scored row (``window_hash``: the window's sha256 when the caller already has it)."""
    inp = input_document(window, edit, state_contract_hash, window_hash=window_hash)
    ic = input_commitment(inp)
    out = row.output_fields()
    return Receipt(
        {
            "schema_version": RECEIPT_SCHEMA_VERSION,
            "generated_by": GENERATED_BY,
            "model_id": row.model_id,
            "variant": row.key,
            "input": inp,
            "input_commitment": ic,
            "output": out,
            "calibration_hash": calibration_hash,
            "output_commitment": output_commitment(model_id=row.model_id, input_commitment=ic, calibration_hash=calibration_hash, output=out),
            "runtime": dict(runtime),
            "timestamp": timestamp,
        },
        checked=("input", "output"),  # both went through canonical_json for the commitments above
    )


# --------------------------------------------------------------------------------------------
# Revocation list
# --------------------------------------------------------------------------------------------
