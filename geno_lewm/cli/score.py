"""``geno-lewm-score``: score the ALTs of a VCF with a verified model package, offline.

Writes one score row per ALT (error rows carry ``error_code``), one receipt per scored ALT, and
optionally an annotated bgzipped+tabix VCF and a Parquet copy of the rows. Exit 0 whenever the
input parsed, even with per-variant error rows (counted on stderr and in ``--json``).
"""

from __future__ import annotations

import json
import sys

from geno_lewm.runtime import add_device_flag
from ledger.clikit import ArgumentParser, command
from ledger.fsutil import atomic_write_text


def build_parser() -> ArgumentParser:
    """The command's argument parser."""
    p = ArgumentParser(prog="geno-lewm-score", description="Score VCF variants with a GenoLeWM model package (one predictor call per variant; reference windows encoded once).")
    p.add_argument("--model-dir", required=True, help="model package directory (manifest.json; hashes verified before loading)")
    p.add_argument("--vcf", required=True, help="input .vcf or bgzipped+tabix .vcf.gz")
    p.add_argument("--fasta", required=True, help="reference FASTA (the .fai index is built when missing)")
    p.add_argument("--output-scores", required=True, help="score rows (JSONL)")
    p.add_argument("--output-receipts", required=True, help="receipts, one per scored ALT (JSONL)")
    p.add_argument("--output-vcf", help="annotated sites-only VCF (.vcf.gz, bgzipped + .tbi)")
    p.add_argument("--output-parquet", help="the score rows as Parquet")
    p.add_argument("--output-report", help="batch receipt report (JSON) for the score/receipt files")
    p.add_argument("--region", help="only score CHR:START-END (1-based, inclusive)")
    p.add_argument("--shard", help="score shard I/N (1-based) of the genome; shards concatenate to the full run")
    p.add_argument("--batch-size", type=int, default=64, help="reference windows per encoder call (default 64); the predictor always runs fixed 64-row batches")
    add_device_flag(p, default="auto")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--json", action="store_true", help="print the run summary as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from geno_lewm.scoring.report import batch_report
    from geno_lewm.scoring.run import print_summary, score_vcf

    summary = score_vcf(
        args.model_dir,
        args.vcf,
        args.fasta,
        output_scores=args.output_scores,
        output_receipts=args.output_receipts,
        output_vcf=args.output_vcf,
        output_parquet=args.output_parquet,
        region=args.region,
        shard=args.shard,
        batch_size=args.batch_size,
        device=args.device,
        threads=args.threads,
        progress=not args.quiet,
    )
    if args.output_report:
        doc = batch_report(summary, scores=args.output_scores, receipts=args.output_receipts)
        atomic_write_text(args.output_report, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print_summary(summary)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2, sort_keys=True))
    return 0


main = command(_main, "Run ``geno-lewm-score`` and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
