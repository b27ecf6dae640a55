"""Receipt building: the commitments binding a scored ALT's inputs, model and outputs (RFC-0011).

:func:`build_receipt` is what the scoring run calls for each scored row; the receipt layout is
documented in :mod:`geno_lewm.scoring.receipts` (which re-exports these names and verifies receipts).
This module does not import the scoring run, so scoring and verification do not import each other.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

import msgspec

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
        "window": window_placement(window),
        "edit": edit_document(edit),
        "state_contract_hash": state_contract_hash,
    }


def window_placement(window: Any) -> dict[str, Any]:
    """The ``input.window`` part of a receipt: where the reference window lies and how it is padded."""
    return {
        "chrom": str(window.chrom),
        "start0": int(window.start0),
        "width": len(window.seq),
        "pad_left": int(window.pad_left),
        "pad_right": int(window.pad_right),
    }


def edit_document(edit: Any) -> dict[str, Any]:
    """The ``input.edit`` part of a receipt."""
    return {"kind": edit.kind, "offset": int(edit.offset), "ref": edit.ref, "alt": edit.alt}


def input_commitment(doc: dict[str, Any]) -> str:
    """sha256 of the canonical input document."""
    return sha256_hex(canonical_json(doc))


def output_commitment(*, model_id: str, input_commitment: str, calibration_hash: str | None, output: dict[str, Any]) -> str:
    """sha256 binding model, input commitment, calibration table and the canonical outputs."""
    return sha256_hex(canonical_json({"calibration_hash": calibration_hash, "input_commitment": input_commitment, "model_id": model_id, "output": output}))


class Receipt:
    """A receipt: its document (see module docstring) and its canonical JSON bytes.

    Built from the document (:func:`build_receipt`) or from the bytes (:class:`ReceiptEncoder`,
    the scoring run's fast path); the other form is derived on first use.
    """

    __slots__ = ("_data", "_doc", "checked")

    def __init__(self, doc: dict[str, Any] | None = None, checked: tuple[str, ...] = (), data: bytes | None = None) -> None:
        if doc is None and data is None:
            raise ValueError("a receipt needs its document or its bytes")
        self._doc = doc
        self._data = data
        #: top-level fields already canonicalised when the commitments were computed (see :func:`build_receipt`)
        self.checked = checked

    @property
    def doc(self) -> dict[str, Any]:
        """The receipt document."""
        if self._doc is None:
            self._doc = msgspec.json.decode(self._data)
        return self._doc

    def to_json(self) -> bytes:
        """Canonical JSON bytes (one line)."""
        if self._data is None:
            self._data = canonical_json_of_checked(self._doc, self.checked) if self.checked else canonical_json(self._doc)
        return self._data


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


_SORTED = msgspec.json.Encoder(order="sorted")  # canonical_json's encoding, for documents float-free by construction


class ReceiptEncoder:
    """The receipts of one scoring run, byte for byte what :func:`build_receipt` gives, at a fraction of the cost.

    What is the same for every receipt of the run (runtime, calibration table, state contract,
    timestamp) is checked and encoded once; each window's part of the input document once per
    window (:meth:`window_part`). Per receipt, the input and output documents are encoded once
    and spliced into the commitment document and the receipt as raw canonical bytes, instead of
    being walked for floats and encoded again. Every per-receipt value is a ``str``, an ``int`` or
    ``None`` by construction (edits and rows are typed; numbers are canonical decimal strings),
    so the canonical encoding needs no float walk: the bytes equal ``canonical_json`` of the same
    document (tests/scoring/test_scale_path.py compares every row of a run with :func:`build_receipt`).
    """

    def __init__(self, *, state_contract_hash: str, calibration_hash: str | None, runtime: dict[str, str], timestamp: str) -> None:
        self.state_contract_hash = str(state_contract_hash)
        self.calibration_hash = None if calibration_hash is None else str(calibration_hash)
        self.timestamp = str(timestamp)
        self._runtime_raw = msgspec.Raw(canonical_json(dict(runtime)))  # checked for floats here, once

    @staticmethod
    def window_part(window: Any, window_hash: str) -> tuple[msgspec.Raw, str]:
        """The window's share of every input document placed in it: its placement (encoded) and its sha256."""
        return msgspec.Raw(canonical_json(window_placement(window))), str(window_hash)

    def receipt(self, row: ScoreRow, window_part: tuple[msgspec.Raw, str], edit: Any) -> Receipt:
        """The receipt of a scored ``row`` whose edit ``edit`` lies in the window of ``window_part`` (its bytes; the document on demand)."""
        placement, window_hash = window_part
        inp = {"reference_window_sha256": window_hash, "window": placement, "edit": edit_document(edit), "state_contract_hash": self.state_contract_hash}
        inp_bytes = _SORTED.encode(inp)
        ic = hashlib.sha256(inp_bytes).hexdigest()
        out = row.output_fields()
        out_raw = msgspec.Raw(_SORTED.encode(out))
        model_id = row.model_id
        oc = hashlib.sha256(
            _SORTED.encode({"calibration_hash": self.calibration_hash, "input_commitment": ic, "model_id": model_id, "output": out_raw})
        ).hexdigest()
        variant = {"chrom": row.chrom, "pos": int(row.pos), "ref": row.ref, "alt": row.alt}
        doc = {
            "schema_version": RECEIPT_SCHEMA_VERSION,
            "generated_by": GENERATED_BY,
            "model_id": model_id,
            "variant": variant,
            "input": msgspec.Raw(inp_bytes),
            "input_commitment": ic,
            "output": out_raw,
            "calibration_hash": self.calibration_hash,
            "output_commitment": oc,
            "runtime": self._runtime_raw,
            "timestamp": self.timestamp,
        }
        return Receipt(data=_SORTED.encode(doc))


# --------------------------------------------------------------------------------------------
# Revocation list
# --------------------------------------------------------------------------------------------
