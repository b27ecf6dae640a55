"""Build a model package's calibration table (``geno-lewm-calibrate``) and reseal the package.

**Null set (the stated choice).** When the package holds its ``training_run.json`` (packages made
by ``geno-lewm-train``), null SNVs are drawn only inside the training split's **held-out region
blocks**: the region split guarantees no training window touches those blocks, so the null set is
disjoint from every training edit *and* every training window. Packages without a training record
fall back to the whole reference (recorded as ``null_set.scope = "genome"``). Positions of an
optional ``--exclude-vcf`` (e.g. the variants you are about to score) are always excluded.
Null variants are scored by exactly the scoring code path (:class:`ScoringSession`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from geno_lewm.calibration import CALIBRATION_FILE, GENERATED_BY, CalibrationTable, features_of, sample_null_snvs
from geno_lewm.scoring.netguard import no_network
from geno_lewm.scoring.reference import Reference
from geno_lewm.scoring.variants import Variant, VariantIssue, read_variants
from ledger.errors import InputError


def heldout_intervals(model_dir: str | os.PathLike[str]) -> list[tuple[str, int, int]] | None:
    """Held-out region blocks ``(chrom, start0, end0)`` from the package's training record, if any."""
    rec = Path(model_dir) / "training_run.json"
    if not rec.is_file():
        return None
    try:
        split = json.loads(rec.read_text(encoding="utf-8"))["split"]
        block = int(split["block_bp"])
        return [(str(c), int(b) * block, (int(b) + 1) * block) for c, b in split["heldout_blocks"]]
    except (KeyError, TypeError, ValueError, json.JSONDecodeError):
        raise InputError(
            "BAD_TRAINING_RECORD",
            "training_run.json in the model package has no readable split.heldout_blocks",
            "re-train, or remove the record to calibrate genome-wide",
        ) from None


def calibrate_package(
    model_dir: str | os.PathLike[str],
    fasta: str | os.PathLike[str],
    *,
    n_null: int = 2000,
    seed: int = 0,
    min_count: int = 30,
    exclude_vcf: str | os.PathLike[str] | None = None,
    device: str = "auto",
    batch_size: int = 64,
) -> dict[str, Any]:
    """Score a null set, write ``calibration.parquet`` into the package, reseal; return a summary."""
    from geno_lewm.package import reseal
    from geno_lewm.scoring.run import ScoringSession

    sess = ScoringSession(model_dir, device=device)
    before = sess.model_id
    intervals = heldout_intervals(model_dir)
    with no_network(), Reference(fasta) as ref:
        exclude: set[tuple[str, int]] = set()
        if exclude_vcf is not None:
            for item in read_variants(exclude_vcf, ref, max_allele_bp=1 << 30):
                exclude.add((item.chrom, item.pos))
        null = sample_null_snvs(ref, n_null, seed=seed, intervals=intervals, exclude=exclude)
        scorer = sess.scorer(ref, batch_size=batch_size)
        results = scorer.score([Variant(c, p, r, a) for c, p, r, a in null])
    scores, feats, dropped = [], [], 0
    for r in results:
        if isinstance(r, VariantIssue):
            dropped += 1
            continue
        p = r.placed
        scores.append(r.score)
        feats.append(features_of(p.window.seq, sess.window_bp, p.edit.offset, p.edit.ref, pad_left=p.window.pad_left, pad_right=p.window.pad_right))
    meta = {
        "generated_by": GENERATED_BY,
        "model_id_basis": before,
        "stand_in": sess.stand_in,
        "null_set": {
            "kind": "random_snvs",
            "scope": "training_heldout_blocks" if intervals is not None else "genome",
            "n": len(scores),
            "dropped": dropped,
            "seed": seed,
            "excluded_positions": len(exclude),
            "fasta": Path(fasta).name,
        },
    }
    table = CalibrationTable.build(scores, feats, min_count=min_count, meta=meta)
    table.write(Path(model_dir) / CALIBRATION_FILE)
    after = reseal(model_dir, add=[(CALIBRATION_FILE, "calibration")])
    return {
        "schema_version": "1.0.0",
        "generated_by": GENERATED_BY,
        "model_id_before": before,
        "model_id": after,
        "calibration": CALIBRATION_FILE,
        "null_set": meta["null_set"],
        "min_count": min_count,
        "buckets": {k: len(v) for k, v in sorted(table.buckets.items())},
        "stand_in": sess.stand_in,
    }


__all__ = ["calibrate_package", "heldout_intervals"]
