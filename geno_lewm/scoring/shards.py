"""Shards of one scoring run: plan them, score one to files, check a finished one, merge them in order.

Engine-neutral (no Ray here): :mod:`geno_lewm.scoring.ray_engine` schedules these functions on a
cluster, and the same functions run in one process.

**Plan** (:func:`plan_shards`). Shard ``I/N`` owns the variants the ``--shard I/N`` rule
(:class:`~geno_lewm.scoring.batching.Sharder`) gives it. For a bgzipped VCF with a tabix/CSI index
the shard is also written as regions: per FASTA contig, the positions whose tile falls in the shard
(found by bisection, the rule is monotone along a contig), so a worker reads only its part of the
file; VCF contigs absent from the FASTA go to the last shard, as in the rule. An unindexed VCF is
read whole by each shard and filtered by the rule.

**One shard** (:func:`score_shard`) scores its regions with :func:`~geno_lewm.scoring.run.score_vcf`
(the single-process code) and returns the shard's score and receipt bytes, one input-record group
number per row (so the annotated VCF re-joins the ALTs of a record) and its counts.

**Work folder** (:func:`write_shard`, :func:`load_shard`). Each finished shard is kept as
``shard-IIIII-of-NNNNN/`` (``scores.jsonl``, ``receipts.jsonl``, ``records.txt``, then
``shard.json`` last, every file written atomically). ``shard.json`` holds the shard's ``key`` (a
hash of the inputs' sha256, the model id, the plan and the settings) and the sha256 of each file:
a shard is reused by ``--resume`` only when both still match.

**Merge** (:func:`merge_shards`) writes the final scores, receipts, annotated VCF and Parquet from
the shards in order: the score and receipt lines are copied byte for byte, so for a
coordinate-sorted VCF (FASTA contig order) the result equals the single-process run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ledger.canonical import canonical_json, sha256_hex
from ledger.errors import InputError
from ledger.fsutil import atomic_open, atomic_write_bytes, atomic_write_text
from ledger.identity import sha256_file

from geno_lewm.scoring.batching import Shard, Sharder
from geno_lewm.scoring.rows import ScoreRow
from geno_lewm.scoring.variants import Region

SHARD_SCHEMA_VERSION: Final = "1.0.0"
GENERATED_BY: Final = "geno-lewm-score"
#: Largest 1-based position a VCF can hold (the region search ends here).
_MAX_POS: Final = 2**31 - 1
_FILES: Final = ("scores.jsonl", "receipts.jsonl", "records.txt")


@dataclass(frozen=True)
class ShardPlan:
    """Shard ``index``/``count`` and, for an indexed VCF, the regions it reads (None: whole file)."""

    index: int
    count: int
    regions: tuple[Region, ...] | None = None

    @property
    def label(self) -> str:
        """``I/N``."""
        return f"{self.index}/{self.count}"

    @property
    def dirname(self) -> str:
        """Work-folder directory name, ``shard-IIIII-of-NNNNN``."""
        return f"shard-{self.index:05d}-of-{self.count:05d}"

    def region_texts(self) -> list[str] | None:
        """The regions as ``CHR:START-END`` / ``CHR:START-`` strings (None: whole file)."""
        if self.regions is None:
            return None
        return [f"{r.chrom}:{r.start}-{'' if r.end is None else r.end}" for r in self.regions]

    def to_dict(self) -> dict[str, Any]:
        """Plain identity of the shard (reports, ledger events, work-folder key)."""
        return {"shard": self.label, "index": self.index, "count": self.count, "regions": self.region_texts()}


def _first_pos0(sharder: Sharder, chrom: str, shard: int) -> int:
    """Smallest 0-based position on ``chrom`` owned by a shard >= ``shard`` (_MAX_POS if none)."""
    lo, hi = 0, _MAX_POS
    while lo < hi:
        mid = (lo + hi) // 2
        if sharder.shard_of(chrom, mid) >= shard:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _clip(region: Region, within: Region | None) -> Region | None:
    """``region`` intersected with the user's ``--region`` (None when empty)."""
    if within is None:
        return region
    if within.chrom != region.chrom:
        return None
    start = max(region.start, within.start)
    ends = [e for e in (region.end, within.end) if e is not None]
    end = min(ends) if ends else None
    if end is not None and end < start:
        return None
    return Region(region.chrom, start, end)


def plan_shards(
    vcf: str | os.PathLike[str], contigs: tuple[str, ...], lengths: dict[str, int], window_bp: int, count: int, *, region: Region | None = None
) -> list[ShardPlan]:
    """The ``count`` shards of a run over ``vcf`` (module docstring); ``INPUT.BAD_SHARD`` if count < 1."""
    from geno_lewm.scoring.variants import open_vcf

    if count < 1:
        raise InputError("BAD_SHARD", f"--shards must be >= 1 (got {count})", "pass --shards N with N >= 1")
    vf = open_vcf(vcf)
    try:
        indexed = list(vf.index) if vf.index is not None else None
    finally:
        vf.close()
    if indexed is None:
        return [ShardPlan(i, count) for i in range(1, count + 1)]
    in_vcf = set(indexed)
    per: dict[int, list[Region]] = {i: [] for i in range(1, count + 1)}
    for chrom in contigs:
        if chrom not in in_vcf:
            continue
        sharder = Sharder(Shard(1, count), contigs, lengths, window_bp)
        bounds = [_first_pos0(sharder, chrom, s) for s in range(1, count + 2)]
        for s in range(1, count + 1):
            lo, hi = bounds[s - 1], bounds[s]  # 0-based [lo, hi)
            if hi <= lo:
                continue
            reg = _clip(Region(chrom, lo + 1, None if hi >= _MAX_POS else hi), region)
            if reg is not None:
                per[s].append(reg)
    for chrom in indexed:  # contigs the FASTA lacks: last shard (error rows), file order
        if chrom not in lengths:
            reg = _clip(Region(chrom), region)
            if reg is not None:
                per[count].append(reg)
    return [ShardPlan(i, count, tuple(per[i])) for i in range(1, count + 1)]


@dataclass
class ShardResult:
    """What scoring one shard produced (bytes travel from a worker to the driver)."""

    plan: ShardPlan
    scores: bytes
    receipts: bytes
    records: bytes  # one input-record group number per score row (ASCII lines)
    counts: dict[str, Any]  # records, alts, scored, errors, errors_by_code
    work: dict[str, int]
    runtime: dict[str, str]
    timestamp: str
    seconds: float
    node: dict[str, str] = field(default_factory=dict)  # node_id, hostname (filled by the engine)


def score_shard(
    session: Any,
    plan: ShardPlan,
    model_dir: str | os.PathLike[str],
    vcf: str | os.PathLike[str],
    fasta: str | os.PathLike[str],
    *,
    timestamp: str,
    batch_size: int = 64,
    region: Region | None = None,
) -> ShardResult:
    """Score shard ``plan`` with a loaded :class:`~geno_lewm.scoring.run.ScoringSession` (files in a temp dir)."""
    import time

    from geno_lewm.scoring.run import score_vcf

    t0 = time.perf_counter()
    pieces: list[Region | None] = list(plan.regions) if plan.regions is not None else [region]
    scores, receipts, groups = bytearray(), bytearray(), bytearray()
    counts: dict[str, Any] = {"records": 0, "alts": 0, "scored": 0, "errors": 0, "errors_by_code": {}}
    work: dict[str, int] = {}
    group = -1
    runtime: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="geno-lewm-shard-") as tmp:
        for k, piece in enumerate(pieces):
            last: list[int | None] = [None]

            def on_row(row: ScoreRow, _last: list[int | None] = last) -> None:
                nonlocal group
                if row.record != _last[0]:
                    _last[0] = row.record
                    group += 1
                    counts["records"] += 1
                groups.extend(b"%d\n" % group)

            s_path, r_path = Path(tmp) / f"{k}.scores.jsonl", Path(tmp) / f"{k}.receipts.jsonl"
            summ = score_vcf(
                model_dir,
                vcf,
                fasta,
                output_scores=s_path,
                output_receipts=r_path,
                region=piece,
                shard=Shard(plan.index, plan.count),
                batch_size=batch_size,
                progress=False,
                session=session,
                timestamp=timestamp,
                on_row=on_row,
            )
            scores += s_path.read_bytes()
            receipts += r_path.read_bytes()
            counts["alts"] += summ.alts
            counts["scored"] += summ.scored
            counts["errors"] += summ.errors
            for code, n in summ.errors_by_code.items():
                counts["errors_by_code"][code] = counts["errors_by_code"].get(code, 0) + n
            for name, n in summ.work.items():
                work[name] = work.get(name, 0) + int(n)
            runtime = dict(summ.runtime)
    counts["errors_by_code"] = dict(sorted(counts["errors_by_code"].items()))
    return ShardResult(plan, bytes(scores), bytes(receipts), bytes(groups), counts, work, runtime or dict(session.runtime), timestamp, time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------
# Work folder
# --------------------------------------------------------------------------------------------


def work_dir_for(output_scores: str | os.PathLike[str]) -> Path:
    """The work folder beside the outputs: ``<scores>.shards/``."""
    p = Path(output_scores)
    return p.with_name(p.name + ".shards")


def shard_key(run_key: dict[str, Any], plan: ShardPlan) -> str:
    """sha256 naming what a shard's outputs depend on (inputs, model, settings, plan)."""
    return sha256_hex(canonical_json({"run": run_key, "shard": plan.to_dict()}))


def write_shard(work: str | os.PathLike[str], result: ShardResult, *, key: str) -> dict[str, Any]:
    """Write a finished shard into the work folder (``shard.json`` last); return its manifest."""
    d = Path(work) / result.plan.dirname
    d.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    for name, data in zip(_FILES, (result.scores, result.receipts, result.records), strict=True):
        atomic_write_bytes(d / name, data)
        digest, size = sha256_file(d / name)
        files[name] = {"sha256": digest, "size": size}
    doc = {
        "schema_version": SHARD_SCHEMA_VERSION,
        "generated_by": GENERATED_BY,
        "kind": "score_shard",
        "key": key,
        **result.plan.to_dict(),
        "files": files,
        "counts": result.counts,
        "work": result.work,
        "runtime": result.runtime,
        "timestamp": result.timestamp,
        "seconds": f"{result.seconds:.3f}",
        "node": dict(result.node),
    }
    atomic_write_text(d / "shard.json", json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return doc


def load_shard(work: str | os.PathLike[str], plan: ShardPlan, *, key: str) -> dict[str, Any] | None:
    """The manifest of a finished shard whose key and file hashes still match (else None)."""
    d = Path(work) / plan.dirname
    try:
        doc = json.loads((d / "shard.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("key") != key or not isinstance(doc.get("files"), dict):
        return None
    for name in _FILES:
        want = doc["files"].get(name)
        if not isinstance(want, dict) or not (d / name).is_file():
            return None
        if list(sha256_file(d / name)) != [want.get("sha256"), want.get("size")]:
            return None
    return doc


def clear_work_dir(work: str | os.PathLike[str]) -> None:
    """Remove the work folder (after a merged run, or before a fresh one)."""
    shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Merge
# --------------------------------------------------------------------------------------------


def _row_of(line: bytes, record: int) -> ScoreRow:
    """A score row parsed back from its JSON line (numbers kept as their exact canonical tokens)."""
    d = json.loads(line, parse_float=str, parse_int=str)
    return ScoreRow(
        d["model_id"],
        d["chrom"],
        int(d["pos"]),
        d["ref"],
        d["alt"],
        d["id"],
        d["score"],
        d["percentile"],
        d["bucket"],
        d["confidence"],
        d["error_code"],
        d["error_message"],
        bool(d["stand_in"]),
        record,
    )


def _lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                yield line.rstrip(b"\n")


def merge_shards(
    shard_dirs: Iterable[str | os.PathLike[str]],
    *,
    output_scores: str | os.PathLike[str],
    output_receipts: str | os.PathLike[str],
    output_vcf: str | os.PathLike[str] | None = None,
    output_parquet: str | os.PathLike[str] | None = None,
    contigs: dict[str, int] | None = None,
    model_id: str = "",
    stand_in: bool = False,
) -> None:
    """Write the final outputs from finished shard folders, in order (all files or none)."""
    from geno_lewm.scoring.writers import JsonlWriter, ParquetWriter, VcfWriter

    dirs = [Path(d) for d in shard_dirs]
    with contextlib.ExitStack() as stack:
        scores_w = stack.enter_context(atomic_open(output_scores, "wb"))
        receipts_w = stack.enter_context(JsonlWriter(output_receipts))
        vcf_w = stack.enter_context(VcfWriter(output_vcf, contigs=contigs or {}, model_id=model_id, stand_in=stand_in)) if output_vcf else None
        pq_w = stack.enter_context(ParquetWriter(output_parquet)) if output_parquet else None
        offset = 0
        for d in dirs:
            with open(d / "scores.jsonl", "rb") as src:
                shutil.copyfileobj(src, scores_w, 1 << 20)
            for line in _lines(d / "receipts.jsonl"):
                receipts_w.write_lines(line + b"\n", 1)
            if vcf_w is None and pq_w is None:
                continue
            top = -1
            with open(d / "records.txt", "rb") as groups:
                for line in _lines(d / "scores.jsonl"):
                    g = int(groups.readline())
                    top = max(top, g)
                    row = _row_of(line, offset + g)
                    if vcf_w is not None:
                        vcf_w.write(row)
                    if pq_w is not None:
                        pq_w.write(row)
            offset += top + 1


__all__ = [
    "SHARD_SCHEMA_VERSION",
    "ShardPlan",
    "ShardResult",
    "clear_work_dir",
    "load_shard",
    "merge_shards",
    "plan_shards",
    "score_shard",
    "shard_key",
    "work_dir_for",
    "write_shard",
]
