"""Receipts (RFC-0011, second half): one per scored ALT, binding inputs, model and outputs.

A receipt is one canonical-JSON line (sorted keys, float-free):

``schema_version``     ``"1.0.0"``
``generated_by``       ``"geno-lewm-score"``
``model_id``           sha256 of the model package manifest
``variant``            ``{chrom, pos, ref, alt}``
``input``              ``{reference_window_sha256, window: {chrom, start0, width, pad_left, pad_right},
                       edit: {kind, offset, ref, alt}, state_contract_hash}``
``input_commitment``   sha256(canonical_json(input))
``output``             ``{score, percentile, bucket, confidence}`` as canonical decimal strings
``calibration_hash``   sha256 of the package's calibration table (null without one)
``output_commitment``  sha256(canonical_json({calibration_hash, input_commitment, model_id, output}))
``runtime``            ``{package_version, torch_version, device, dtype}``
``timestamp``          UTC time of the run (outside both commitments)

The i-th receipt belongs to the i-th *scored* row of the score file (error rows have no receipt),
so shard outputs concatenate. :func:`verify_receipts` recomputes every commitment against the
package and the score rows and fails naming the first bad receipt line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geno_lewm.scoring.rows import canonical_field
from geno_lewm.versioning import SemVer, load_document
from ledger.errors import InputError, ProvenanceError

from geno_lewm.scoring.commitments import (  # noqa: F401 - the receipt layout and builder, re-exported
    GENERATED_BY,
    RECEIPT_FIELDS,
    RECEIPT_SCHEMA_VERSION,
    Receipt,
    build_receipt,
    input_commitment,
    input_document,
    output_commitment,
    window_sha256,
)


def load_revocation_list(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """``{model_id: entry}`` from a revocation list ``{"schema_version": "1.x.y", "yanked": [...]}``."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("MISSING_FILE", f"revocation list not found: {p.name}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError("BAD_REVOCATION_LIST", f"{p.name} is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("schema_version"), str) or not isinstance(doc.get("yanked"), list):
        raise InputError("BAD_REVOCATION_LIST", f"{p.name} must be an object with schema_version and a yanked list")
    if SemVer.parse(doc["schema_version"]).major != 1:
        raise InputError("SCHEMA_COMPAT", f"{p.name}: revocation list schema_version {doc['schema_version']} is not 1.x")
    out: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(doc["yanked"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("model_id"), str):
            raise InputError("BAD_REVOCATION_LIST", f"{p.name}: yanked[{i}] needs a model_id")
        out[entry["model_id"]] = {"model_id": entry["model_id"], "reason": str(entry.get("reason", "")), "upgrade_to": entry.get("upgrade_to")}
    return out


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    """Outcome of :func:`verify_receipts` (raised errors cover the failures)."""

    ok: bool
    model_id: str
    receipts: int = 0
    score_rows: int = 0
    error_rows: int = 0
    windows_checked: int = 0
    rescored: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)
    reproduction: str | None = None  # "exact", "within_tolerance" or None (nothing re-scored)
    max_abs_delta: float | None = None  # largest |re-scored - receipt| score difference
    numerics: str = "default"  # numerics mode of the re-scoring run

    def reproduction_line(self) -> str:
        """One human line on the reproduction check (empty when nothing was re-scored)."""
        from geno_lewm.numerics_mode import ABS_TOLERANCE, REL_TOLERANCE

        if self.reproduction is None:
            return ""
        if self.reproduction == "exact":
            return f"reproduced exactly ({self.numerics} numerics), max |Δ| = 0"
        return f"reproduced within tolerance (|Δ| ≤ {ABS_TOLERANCE:g} + {REL_TOLERANCE:g}·|score|), max |Δ| = {self.max_abs_delta:.3g}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary."""
        return {
            "ok": self.ok,
            "model_id": self.model_id,
            "receipts": self.receipts,
            "score_rows": self.score_rows,
            "error_rows": self.error_rows,
            "windows_checked": self.windows_checked,
            "rescored": self.rescored,
            "reproduction": self.reproduction,
            "max_abs_delta": self.max_abs_delta,
            "numerics": self.numerics,
            "warnings": self.warnings,
        }


def _jsonl(path: Path, what: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise InputError("MISSING_FILE", f"{what} file not found: {path.name}")
    with open(path, "rb") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ProvenanceError("RECEIPT_MALFORMED", f"{path.name} line {i} is not valid JSON ({exc.msg})") from None
            if not isinstance(doc, dict):
                raise ProvenanceError("RECEIPT_MALFORMED", f"{path.name} line {i} is not a JSON object")
            yield i, doc


def read_receipt(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A receipt document by the loader contract, with every field of :data:`RECEIPT_FIELDS` present.

    Any ``schema_version`` of the current MAJOR is read and unknown optional fields are ignored
    (commitments cover only the fields they name, so ignoring one changes no hash); a foreign
    MAJOR or a ``required_fields`` entry outside :data:`RECEIPT_FIELDS` is ``INPUT.SCHEMA_COMPAT``;
    a missing field is ``PROVENANCE.RECEIPT_MISMATCH``.
    """
    doc = load_document("receipt", doc, known_fields=frozenset(RECEIPT_FIELDS))
    for name in RECEIPT_FIELDS:
        if name not in doc:
            raise ProvenanceError("RECEIPT_MISMATCH", f"missing field {name!r}")
    return doc


def _bad(line: int, key: str, what: str, hint: str | None = None) -> ProvenanceError:
    return ProvenanceError(
        "RECEIPT_MISMATCH",
        f"receipt line {line} ({key}): {what}",
        hint or "the receipt does not match the scores, the model package or the inputs; re-score to regenerate both",
    )


def _key(v: Any) -> str:
    if isinstance(v, dict):
        return f"{v.get('chrom')}:{v.get('pos')}:{v.get('ref')}:{v.get('alt')}"
    return "?"


def verify_receipts(
    model_dir: str | os.PathLike[str],
    receipts: str | os.PathLike[str],
    scores: str | os.PathLike[str],
    *,
    fasta: str | os.PathLike[str] | None = None,
    vcf: str | os.PathLike[str] | None = None,
    revocation_list: str | os.PathLike[str] | None = None,
    sample: int = 16,
    device: str = "cpu",
    numerics: str = "default",
) -> VerifyResult:
    """Recompute every receipt's commitments; raise ``PROVENANCE.RECEIPT_*`` naming the first bad line.

    Always: package manifest hashes (``verify_package``), ``model_id``, state-contract and
    calibration hashes, input and output commitments, and the 1:1 pairing with the scored rows of
    ``scores`` (same variant, same canonical outputs). With ``fasta``: every committed reference
    window is rebuilt and hashed. With ``fasta`` and ``vcf``: up to ``sample`` evenly spread
    receipts must name variants present in the VCF and are re-scored with the model (in ``numerics``
    mode) and must *reproduce* the committed outputs: the score within the tolerant tier's
    tolerance (:func:`geno_lewm.numerics_mode.within_tolerance`; exactly when both the receipt and
    this run use ``reproducible`` numerics on CPU with the same torch), and percentile, bucket and
    confidence exactly as the package's calibration gives them for the receipt's score.
    ``result.max_abs_delta`` reports the largest score difference. A yanked model (``revocation_list``) adds a ``model_yanked``
    warning; verification still runs.
    """
    if fasta is not None and vcf is not None:
        from geno_lewm.numerics_mode import require

        require(numerics)  # before anything loads torch
    from geno_lewm.calibration import calibration_hash
    from geno_lewm.package import model_id_of, verify_package

    manifest = verify_package(model_dir)
    model_id = model_id_of(model_dir)
    contract_hash = manifest["state_contract"]["hash"]
    cal_path = next((Path(model_dir) / a["path"] for a in manifest["artifacts"] if a["role"] == "calibration"), None)
    cal_hash = calibration_hash(cal_path) if cal_path is not None else None
    pool: list[tuple[int, dict[str, Any]]] = []  # bounded, evenly thinned sample for re-scoring
    result = VerifyResult(ok=False, model_id=model_id)
    if revocation_list is not None:
        yanked = load_revocation_list(revocation_list)
        if model_id in yanked:
            e = yanked[model_id]
            result.warnings.append({"code": "model_yanked", "model_id": model_id, "reason": e["reason"], "upgrade_to": e["upgrade_to"]})

    rpath, spath = Path(receipts), Path(scores)
    scored_rows = _scored_rows(spath, result)
    checked_receipts: list[tuple[int, dict[str, Any]]] = []
    for line, doc in _jsonl(rpath, "receipts"):
        key = _key(doc.get("variant"))
        try:
            doc = read_receipt(doc)
        except (InputError, ProvenanceError) as exc:
            raise _bad(line, key, exc.message) from None
        if doc["model_id"] != model_id:
            raise _bad(
                line,
                key,
                f"model_id {str(doc['model_id'])[:12]}… is not this package's ({model_id[:12]}…)",
                "verify against the model package that produced the receipts",
            )
        inp = doc["input"]
        if not isinstance(inp, dict) or inp.get("state_contract_hash") != contract_hash:
            raise _bad(line, key, "state contract hash differs from the package's")
        if input_commitment(inp) != doc["input_commitment"]:
            raise _bad(line, key, "input commitment does not match its input document")
        if doc["calibration_hash"] != cal_hash:
            raise _bad(line, key, "calibration hash differs from the package's calibration table")
        want = output_commitment(model_id=model_id, input_commitment=doc["input_commitment"], calibration_hash=cal_hash, output=doc["output"])
        if want != doc["output_commitment"]:
            raise _bad(line, key, "output commitment does not match its outputs")
        row = next(scored_rows, None)
        if row is None:
            raise _bad(line, key, "has no matching scored row in the score file (fewer scored rows than receipts)")
        sline, srow = row
        if _key(srow) != key or srow.get("model_id") != model_id:
            raise _bad(line, key, f"pairs with score line {sline} ({_key(srow)}), a different variant or model")
        got = {name: (canonical_field(srow.get(name)) if name != "bucket" else srow.get(name)) for name in ("score", "percentile", "bucket", "confidence")}
        if got != doc["output"]:
            raise _bad(line, key, f"score line {sline} outputs {got} differ from the receipt's {doc['output']}")
        result.receipts += 1
        if fasta is not None:
            checked_receipts.append((line, {"variant": doc["variant"], "input": inp, "output": doc["output"], "runtime": doc.get("runtime")}))
            if len(checked_receipts) >= 4096:
                _check_windows(fasta, checked_receipts, result)
                _collect_sample(checked_receipts, pool, sample)
                checked_receipts = []
    leftover = next(scored_rows, None)
    if leftover is not None:
        raise ProvenanceError(
            "RECEIPT_MISSING", f"score line {leftover[0]} ({_key(leftover[1])}) has no receipt", "re-score to regenerate the scores and receipts together"
        )
    if fasta is not None:
        _check_windows(fasta, checked_receipts, result)
        _collect_sample(checked_receipts, pool, sample)
        if vcf is not None:
            _rescore(model_dir, fasta, vcf, pool, sample, result, device=device, numerics=numerics)
    result.ok = True
    return result


def _scored_rows(path: Path, result: VerifyResult) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, row in _jsonl(path, "scores"):
        if row.get("generated_by") != GENERATED_BY:
            raise ProvenanceError("RECEIPT_MISMATCH", f"score line {line}: generated_by is {row.get('generated_by')!r}, not {GENERATED_BY!r}")
        if row.get("error_code") is not None:
            result.error_rows += 1
            continue
        result.score_rows += 1
        yield line, row


def _check_windows(fasta: str | os.PathLike[str], items: list[tuple[int, dict[str, Any]]], result: VerifyResult) -> None:
    """Rebuild each committed reference window from the FASTA and compare its hash."""
    from geno_lewm.scoring.reference import Reference

    if not items:
        return
    with Reference(fasta) as ref:
        for line, doc in items:
            w = doc["input"]["window"]
            chrom, start0, width = w["chrom"], int(w["start0"]), int(w["width"])
            if ref.length(chrom) is None:
                raise _bad(line, _key(doc["variant"]), f"contig {chrom!r} is not in the FASTA")
            seq = "N" * int(w["pad_left"]) + ref.fetch(chrom, max(start0, 0), start0 + width) + "N" * int(w["pad_right"])
            if len(seq) != width or window_sha256(seq) != doc["input"]["reference_window_sha256"]:
                raise _bad(line, _key(doc["variant"]), "reference window hash does not match the FASTA", "score and verify against the same FASTA")
            result.windows_checked += 1


def _collect_sample(items: list[tuple[int, dict[str, Any]]], pool: list[tuple[int, dict[str, Any]]], sample: int) -> None:
    """Keep at most ``2 * sample`` receipts spread over the file (halving every other entry)."""
    if sample <= 0:
        return
    pool.extend(items)
    while len(pool) > 2 * sample:
        pool[:] = pool[::2]


def _exact_required(doc: dict[str, Any], numerics: str, runtime: dict[str, str]) -> bool:
    """The exact tier applies: receipt and re-scoring both ran pinned numerics on CPU with the same torch."""
    claimed = doc.get("runtime") or {}
    return (
        numerics == "reproducible"
        and runtime.get("device") == "cpu"
        and claimed.get("numerics") == "reproducible"
        and claimed.get("device") == "cpu"
        and claimed.get("torch_version") == runtime.get("torch_version")
    )


def _rescore(
    model_dir: Any, fasta: Any, vcf: Any, pool: list[tuple[int, dict[str, Any]]], sample: int, result: VerifyResult, *, device: str, numerics: str = "default"
) -> None:
    """Check the sampled receipts' variants are in the VCF, then re-score them (exact or within tolerance)."""
    from geno_lewm.numerics_mode import tolerance, within_tolerance
    from geno_lewm.scoring.run import ScoringSession, reproduce_variants
    from geno_lewm.scoring.variants import Variant

    if not pool or sample <= 0:
        return
    chosen = pool if len(pool) <= sample else [pool[i * len(pool) // sample] for i in range(sample)]
    keys = {(d["variant"]["chrom"], int(d["variant"]["pos"]), d["variant"]["ref"], d["variant"]["alt"]) for _, d in chosen}
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.variants import read_variants

    found: set[tuple[str, int, str, str]] = set()
    with Reference(fasta) as ref:
        for item in read_variants(vcf, ref, max_allele_bp=1 << 30):
            k = (item.chrom, item.pos, item.ref, item.alt)
            if k in keys:
                found.add(k)
    for line, doc in chosen:
        v = doc["variant"]
        if (v["chrom"], int(v["pos"]), v["ref"], v["alt"]) not in found:
            raise _bad(line, _key(v), "variant is not in the VCF", "verify with the VCF that was scored")
    variants = [Variant(d["variant"]["chrom"], int(d["variant"]["pos"]), d["variant"]["ref"], d["variant"]["alt"]) for _, d in chosen]
    session = ScoringSession(model_dir, device=device, numerics=numerics)
    result.numerics = numerics
    outputs = reproduce_variants(model_dir, fasta, variants, [str(d["output"]["score"]) for _, d in chosen], session=session)
    hint = "the model, runtime or inputs differ from the scoring run (docs/numerical-contract.md)"
    exact_all, max_delta = True, 0.0
    for (line, doc), out in zip(chosen, outputs, strict=True):
        claimed = doc["output"]
        if out is None:
            raise _bad(line, _key(doc["variant"]), f"re-scoring gave an error row, the receipt says {claimed}", hint)
        rescored, derived = out
        if derived != claimed:
            raise _bad(line, _key(doc["variant"]), f"the package's calibration gives {derived} for the receipt's score, the receipt says {claimed}", hint)
        delta = abs(float(rescored["score"]) - float(claimed["score"]))
        max_delta = max(max_delta, delta)
        if _exact_required(doc, numerics, session.runtime):
            if rescored["score"] != claimed["score"]:
                raise _bad(
                    line,
                    _key(doc["variant"]),
                    f"re-scoring with reproducible numerics gave score {rescored['score']}, the receipt says {claimed['score']} (both pinned: they must match exactly)",
                    hint,
                )
        elif not within_tolerance(float(claimed["score"]), float(rescored["score"])):
            raise _bad(
                line,
                _key(doc["variant"]),
                f"re-scoring gave score {rescored['score']}, the receipt says {claimed['score']}: |Δ| = {delta:.3g} exceeds the tolerance {tolerance(float(claimed['score'])):.3g}",
                hint,
            )
        exact_all = exact_all and rescored["score"] == claimed["score"]
        result.rescored += 1
    result.max_abs_delta = max_delta
    result.reproduction = "exact" if exact_all else "within_tolerance"


__all__ = [
    "GENERATED_BY",
    "RECEIPT_FIELDS",
    "RECEIPT_SCHEMA_VERSION",
    "Receipt",
    "VerifyResult",
    "build_receipt",
    "input_commitment",
    "input_document",
    "load_revocation_list",
    "output_commitment",
    "verify_receipts",
    "window_sha256",
]
