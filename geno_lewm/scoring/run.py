"""Run a scoring job: VCF + FASTA + model package → score rows, receipts and optional VCF/Parquet.

:func:`score_vcf` is what ``geno-lewm-score`` runs and what the terminal demo, the benchmark and
the release tooling call programmatically. :class:`ScoringSession` holds a verified, loaded model
package, its calibration table and the run's runtime description so several inputs can be scored
without reloading. Everything runs inside :func:`geno_lewm.scoring.netguard.no_network`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from geno_lewm.numerics import canonical_decimal
from geno_lewm.scoring.batching import Shard, Sharder, chunked
from geno_lewm.scoring.netguard import no_network
from geno_lewm.scoring.progress import Progress
from geno_lewm.scoring.reference import Reference
from geno_lewm.scoring.rows import GENERATED_BY, ROW_ATTRIBUTES, ScoreRow, error_row, row_columns, scored_row
from geno_lewm.scoring.variants import Region, Variant, VariantIssue, read_variants
from geno_lewm.scoring.workers import ChunkResult, WorkerPool, usable_workers

SUMMARY_SCHEMA_VERSION: Final = "1.0.0"
STAND_IN_NOTE: Final = "Scored with the tiny stand-in encoder: the scores carry no biological skill."


def utc_now() -> str:
    """UTC timestamp ``YYYY-MM-DDTHH:MM:SSZ`` (``$SOURCE_DATE_EPOCH`` when set: reproducible receipts)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ScoringSession:
    """A verified, loaded model package ready to score (encoder, predictor, calibration table)."""

    def __init__(self, model_dir: str | os.PathLike[str], *, device: str = "auto", threads: int | None = None, numerics: str = "default") -> None:
        from geno_lewm import numerics_mode

        numerics_mode.require(numerics)  # before torch loads: reproducible mode pins the CPU kernels
        threads = numerics_mode.apply_threads(numerics, threads)
        from geno_lewm import __version__
        from geno_lewm.calibration import CalibrationTable, calibration_hash
        from geno_lewm.package import ModelPackage
        from geno_lewm.runtime import configure_determinism

        import torch

        configure_determinism(0, threads=threads, deterministic=True)
        self.threads: int = torch.get_num_threads()  # torch threads this process scores with
        with no_network():
            self.package = ModelPackage.load(model_dir, device=device)
        self.model_id: str = self.package.model_id
        self.stand_in: bool = bool(self.package.stand_in)
        self.contract_hash: str = self.package.contract.hash()
        cal = self.package.artifact_path("calibration")
        self.calibration = CalibrationTable.read(cal) if cal is not None else None
        self.calibration_hash = calibration_hash(cal) if cal is not None else None
        dtype = str(self.package.encoder.dtype).replace("torch.", "")
        self.runtime = {
            "package_version": __version__,
            "torch_version": torch.__version__.split("+")[0],
            "device": self.package.encoder.device.type,
            "dtype": dtype,
            "numerics": numerics,
        }

    @property
    def window_bp(self) -> int:
        """The state contract's window width."""
        return int(self.package.contract.window_bp)

    def max_allele_bp(self) -> int:
        """Longest REF/ALT the tiling rule can place (a quarter window)."""
        return max(1, self.window_bp // 4)

    def scorer(self, reference: Reference, *, batch_size: int = 64):
        """A fresh :class:`~geno_lewm.scoring.scorer.Scorer` over ``reference``."""
        from geno_lewm.scoring.scorer import Scorer

        return Scorer(self.package, reference, batch_size=batch_size)

    def row_for(self, placed: Any, score: float, *, gc: float | None = None) -> ScoreRow:
        """The score row of a placed variant with ``score`` (calibration applied when the package has a table).

        ``gc`` is the window's GC fraction when the caller already has it (computed here otherwise).
        """
        from geno_lewm.calibration import features_of

        p = placed
        text = canonical_decimal(score)
        pct = bucket = conf = None
        if self.calibration is not None:
            f = features_of(p.window.seq, self.window_bp, p.edit.offset, p.edit.ref, pad_left=p.window.pad_left, pad_right=p.window.pad_right, gc=gc)
            pct, bucket, conf = self.calibration.lookup_canonical(text, f)
        return scored_row(self.model_id, p.variant, text, pct, bucket, conf, stand_in=self.stand_in)

    def rows(self, results: Iterable[Any], *, timestamp: str) -> Iterator[tuple[ScoreRow, Any]]:
        """Turn scorer results into ``(row, receipt-or-None)`` pairs (calibration applied).

        Per-window work (the window's sha256 and GC fraction) is done once per window, not per
        variant: the memo is keyed on the window's identity and holds only the last few windows.
        """
        from geno_lewm.calibration import gc_fraction
        from geno_lewm.scoring.commitments import ReceiptEncoder, window_sha256

        receipts = ReceiptEncoder(state_contract_hash=self.contract_hash, calibration_hash=self.calibration_hash, runtime=self.runtime, timestamp=timestamp)
        memo: OrderedDict[tuple[str, int, str], tuple[Any, float | None]] = OrderedDict()
        for r in results:
            if isinstance(r, VariantIssue):
                yield error_row(self.model_id, r, stand_in=self.stand_in), None
                continue
            p = r.placed
            win = p.window
            key = (win.chrom, win.start0, win.seq)
            per_window = memo.get(key)
            if per_window is None:
                per_window = (receipts.window_part(win, window_sha256(win.seq)), gc_fraction(win.seq) if self.calibration is not None else None)
                memo[key] = per_window
                if len(memo) > 64:
                    memo.popitem(last=False)
            row = self.row_for(p, r.score, gc=per_window[1])
            receipt = receipts.receipt(row, per_window[0], p.edit)
            yield row, receipt

    def score_chunk(self, scorer: Any, items: list[Variant | VariantIssue], *, timestamp: str) -> ChunkResult:
        """Score one chunk of reader items: its rows (input order), their JSONL bytes and the receipts' JSONL bytes.

        The unit of work of a scoring run, in-process or in a worker process (:mod:`geno_lewm.scoring.workers`).
        """
        rows: list[ScoreRow] = []
        row_lines: list[bytes] = []
        receipt_lines: list[bytes] = []
        for row, receipt in self.rows(scorer.score(items), timestamp=timestamp):
            rows.append(row)
            row_lines.append(row.to_json())
            if receipt is not None:
                receipt_lines.append(receipt.to_json())
        return ChunkResult(row_columns(rows), _lines(row_lines), _lines(receipt_lines))


def _worker_threads(numerics: str, threads: int | None) -> int:
    """Torch threads of each worker process: the pinned count in reproducible mode, else ``threads`` (default 1)."""
    from geno_lewm import numerics_mode

    return numerics_mode.apply_threads(numerics, threads) or 1


def _lines(lines: list[bytes]) -> bytes:
    """JSON lines joined, each ending in a newline."""
    return b"\n".join(lines) + b"\n" if lines else b""


@dataclass
class ScoreSummary:
    """What a scoring run did (printed as ``--json``; counted into the batch receipt report)."""

    model_id: str
    release_id: str
    stand_in: bool
    records: int = 0
    alts: int = 0
    scored: int = 0
    errors: int = 0
    errors_by_code: dict[str, int] = field(default_factory=dict)
    outside_shard: int = 0
    seconds: float = 0.0
    work: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    region: str | None = None
    shard: str | None = None
    calibrated: bool = False
    runtime: dict[str, str] = field(default_factory=dict)
    timestamp: str = ""
    workers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (``generated_by=geno-lewm-score``)."""
        return {
            "schema_version": SUMMARY_SCHEMA_VERSION,
            "generated_by": GENERATED_BY,
            "model_id": self.model_id,
            "release_id": self.release_id,
            "stand_in": self.stand_in,
            **({"stand_in_note": STAND_IN_NOTE} if self.stand_in else {}),
            "inputs": self.inputs,
            "region": self.region,
            "shard": self.shard,
            "counts": {
                "records": self.records,
                "alts": self.alts,
                "scored": self.scored,
                "errors": self.errors,
                "errors_by_code": dict(sorted(self.errors_by_code.items())),
                "outside_shard": self.outside_shard,
            },
            "work": self.work,
            "calibrated": self.calibrated,
            "runtime": self.runtime,
            "workers": self.workers,
            "timing": {"seconds": round(self.seconds, 3), "alts_per_second": round(self.alts / self.seconds, 1) if self.seconds > 0 else None},
            "outputs": self.outputs,
            "timestamp": self.timestamp,
        }

    def stderr_line(self) -> str:
        """One human line for stderr."""
        errs = ", ".join(f"{c}×{n}" for c, n in sorted(self.errors_by_code.items()))
        note = " [stand-in model: no biological skill]" if self.stand_in else ""
        return f"scored {self.scored:,} of {self.alts:,} ALTs in {self.seconds:.2f}s; {self.errors:,} error rows{(' (' + errs + ')') if errs else ''}{note}"


def score_vcf(
    model_dir: str | os.PathLike[str],
    vcf: str | os.PathLike[str],
    fasta: str | os.PathLike[str],
    *,
    output_scores: str | os.PathLike[str],
    output_receipts: str | os.PathLike[str],
    output_vcf: str | os.PathLike[str] | None = None,
    output_parquet: str | os.PathLike[str] | None = None,
    region: str | Region | None = None,
    shard: str | Shard | None = None,
    batch_size: int = 64,
    device: str = "auto",
    threads: int | None = None,
    progress: bool = True,
    session: ScoringSession | None = None,
    numerics: str = "default",
    timestamp: str | None = None,
    on_row: Callable[[ScoreRow], None] | None = None,
    workers: int = 1,
) -> ScoreSummary:
    """Score every ALT of ``vcf`` and write the outputs atomically; return the run summary.

    Streams the VCF (bounded memory), groups variants by reference window, encodes each distinct
    window once, runs the predictor batched and writes one score row per ALT (error rows included)
    and one receipt per scored ALT. Never touches the network. ``numerics="reproducible"`` pins the
    CPU kernels (:mod:`geno_lewm.numerics_mode`; before torch loads, else ``RESOURCE.NUMERICS_UNPINNED``).
    ``timestamp`` (default: now) is the receipts' run time; ``on_row`` sees every row as it is
    written (the cluster engine records each row's input-record ordinal with it). ``workers > 1``
    scores chunks in that many forked processes of ``threads`` torch threads each
    (:mod:`geno_lewm.scoring.workers`; CPU on Linux, else in-process): the same bytes as one process
    with ``threads`` threads.
    """
    from geno_lewm.scoring.writers import JsonlWriter, ParquetWriter, VcfWriter, check_vcf_output_name
    from ledger.fsutil import StagedOutputs

    # Every output is checked before any work and committed together at the end (all or nothing).
    staged = StagedOutputs()
    final_scores, final_receipts, final_vcf, final_parquet = output_scores, output_receipts, output_vcf, output_parquet
    output_scores = staged.stage(output_scores)
    output_receipts = staged.stage(output_receipts)
    if output_vcf:
        check_vcf_output_name(output_vcf)
        output_vcf = staged.stage(output_vcf, suffix=".vcf.gz", companions=(".tbi",))
    if output_parquet:
        output_parquet = staged.stage(output_parquet)
    reg = Region.parse(region) if isinstance(region, str) else region
    shd = Shard.parse(shard) if isinstance(shard, str) else shard
    sess = session or ScoringSession(model_dir, device=device, threads=threads, numerics=numerics)
    stamp = timestamp or utc_now()
    summary = ScoreSummary(
        sess.model_id,
        str(sess.package.manifest["release_id"]),
        sess.stand_in,
        region=str(reg) if reg else None,
        shard=str(shd) if shd else None,
        calibrated=sess.calibration is not None,
        runtime=dict(sess.runtime),
        timestamp=stamp,
    )
    summary.inputs = {"vcf": Path(vcf).name, "fasta": Path(fasta).name, "model_dir": Path(model_dir).name}
    t0 = time.perf_counter()
    bar = Progress("geno-lewm-score", enabled=progress)
    errors: Counter[str] = Counter()
    with no_network(), Reference(fasta) as ref:
        scorer = sess.scorer(ref, batch_size=batch_size)
        sharder = Sharder(shd, ref.contigs, ref.lengths, sess.window_bp)

        def kept() -> Iterator[Variant | VariantIssue]:
            last_record = -1
            for item in read_variants(vcf, ref, region=reg, max_allele_bp=sess.max_allele_bp()):
                if item.record != last_record:
                    last_record = item.record
                    summary.records += 1
                if not sharder.keeps(item.chrom, item.pos - 1):
                    summary.outside_shard += 1
                    continue
                yield item

        n_workers = usable_workers(workers, device=sess.runtime["device"], default=1)
        worker_threads = _worker_threads(numerics, threads)
        chunks = chunked(kept(), max(batch_size * 8, 256))
        with staged, contextlib.ExitStack() as stack:
            # workers fork before any output file is open (a child must hold no parent buffer)
            pool = (
                stack.enter_context(WorkerPool(sess, os.fspath(fasta), n_workers, threads=worker_threads, batch_size=batch_size, timestamp=stamp))
                if n_workers > 1
                else None
            )
            scores_w = stack.enter_context(JsonlWriter(output_scores))
            receipts_w = stack.enter_context(JsonlWriter(output_receipts))
            vcf_w = stack.enter_context(VcfWriter(output_vcf, contigs=ref.lengths, model_id=sess.model_id, stand_in=sess.stand_in)) if output_vcf else None
            pq_w = stack.enter_context(ParquetWriter(output_parquet)) if output_parquet else None
            results = pool.map(chunks) if pool is not None else (sess.score_chunk(scorer, chunk, timestamp=stamp) for chunk in chunks)
            for result in results:
                n = result.count
                scores_w.write_lines(result.row_lines, n)
                n_err = 0
                for code in result.columns[ROW_ATTRIBUTES.index("error_code")]:
                    if code is not None:
                        errors[code] += 1
                        n_err += 1
                receipts_w.write_lines(result.receipt_lines, n - n_err)
                if pq_w is not None:
                    pq_w.write_columns(result.columns)
                if vcf_w is not None:
                    vcf_w.write_columns(result.columns)
                if on_row is not None:
                    for row in result.rows():
                        on_row(row)
                summary.alts += n
                summary.scored += n - n_err
                bar.update(n, n_err)
        bar.close()
        summary.workers = {"processes": n_workers, "threads_per_process": worker_threads if pool is not None else sess.threads}
        if pool is not None:
            for stats in pool.stats:
                scorer.stats.merge(stats)
            summary.workers["peak_rss_mb"] = pool.peak_rss_mb
        summary.work = scorer.stats.to_dict()
    summary.errors = sum(errors.values())
    summary.errors_by_code = dict(errors)
    summary.seconds = time.perf_counter() - t0
    summary.outputs = {
        k: Path(v).name for k, v in {"scores": final_scores, "receipts": final_receipts, "vcf": final_vcf, "parquet": final_parquet}.items() if v
    }
    return summary


def rescore_variants(
    model_dir: str | os.PathLike[str],
    fasta: str | os.PathLike[str],
    variants: list[Variant],
    *,
    device: str = "cpu",
    session: ScoringSession | None = None,
    numerics: str = "default",
) -> list[dict[str, str | None] | None]:
    """Re-score ``variants`` and return each one's canonical outputs (None for an error row)."""
    sess = session or ScoringSession(model_dir, device=device, numerics=numerics)
    with no_network(), Reference(fasta) as ref:
        scorer = sess.scorer(ref)
        out: list[dict[str, str | None] | None] = []
        for row, receipt in sess.rows(scorer.score(list(variants)), timestamp=""):
            out.append(row.output_fields() if receipt is not None else None)
    return out


def reproduce_variants(
    model_dir: str | os.PathLike[str],
    fasta: str | os.PathLike[str],
    variants: list[Variant],
    claimed_scores: list[str],
    *,
    device: str = "cpu",
    numerics: str = "default",
    session: ScoringSession | None = None,
) -> list[tuple[dict[str, str | None], dict[str, str | None]] | None]:
    """Re-score ``variants``; per variant ``(re-scored outputs, outputs derived from the claimed score)`` (None for an error row).

    The second element applies the package's calibration to ``claimed_scores[i]`` (a canonical
    decimal string), so percentile, bucket and confidence can be checked exactly even when the
    re-scored score differs from the claimed one within the tolerance.
    """
    sess = session or ScoringSession(model_dir, device=device, numerics=numerics)
    out: list[tuple[dict[str, str | None], dict[str, str | None]] | None] = []
    with no_network(), Reference(fasta) as ref:
        scorer = sess.scorer(ref)
        for r, claimed in zip(scorer.score(list(variants)), claimed_scores, strict=True):
            if isinstance(r, VariantIssue):
                out.append(None)
                continue
            out.append((sess.row_for(r.placed, r.score).output_fields(), sess.row_for(r.placed, float(claimed)).output_fields()))
    return out


def print_summary(summary: ScoreSummary, *, stream=None) -> None:
    """Print the human summary line to stderr."""
    print(summary.stderr_line(), file=stream or sys.stderr)


__all__ = ["STAND_IN_NOTE", "ScoreSummary", "ScoringSession", "print_summary", "reproduce_variants", "rescore_variants", "score_vcf", "utc_now"]
