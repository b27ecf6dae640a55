"""``geno-lewm-score``: score the ALTs of a VCF with a verified model package, offline.

Writes one score row per ALT (error rows carry ``error_code``), one receipt per scored ALT, and
optionally an annotated bgzipped+tabix VCF and a Parquet copy of the rows. Exit 0 whenever the
input parsed, even with per-variant error rows (counted on stderr and in ``--json``).
``--numerics reproducible`` pins the CPU kernels before torch loads (re-running itself in a fresh
process when called where torch is already loaded); see docs/numerical-contract.md.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from geno_lewm.cli.options import add_flags
from geno_lewm.numerics_mode import add_numerics_flag
from geno_lewm.runtime import add_device_flag
from ledger.clikit import ArgumentParser, command, exit_at_once, finish
from ledger.fsutil import atomic_write_text, check_writable


def build_parser() -> ArgumentParser:
    """The command's argument parser."""
    p = ArgumentParser(
        prog="geno-lewm-score", description="Score VCF variants with a GenoLeWM model package (one predictor call per variant; reference windows encoded once)."
    )
    add_flags(p, "--model-dir", "--vcf", "--fasta", "--output-scores", required=True)
    p.add_argument("--output-receipts", required=True, help="receipts, one per scored ALT (JSONL)")
    p.add_argument("--output-vcf", help="annotated sites-only VCF (.vcf.gz, bgzipped + .tbi)")
    p.add_argument("--output-parquet", help="the score rows as Parquet")
    p.add_argument("--output-report", help="batch receipt report (JSON) for the score/receipt files")
    add_flags(p, "--region")
    p.add_argument("--shard", help="score shard I/N (1-based) of the genome; shards concatenate to the full run")
    add_flags(p, "--batch-size", default=64, help="reference windows per encoder call (default 64); the predictor always runs fixed 64-row batches")
    add_device_flag(p, default="auto")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads per scoring process (default 1 per worker; with --threads alone, one process with that many threads); scores agree within the receipt tolerance across thread counts, exactly with --numerics reproducible, and never depend on --workers",
    )
    add_numerics_flag(p)
    p.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this machine, in --workers processes (default); ray: shards on a Ray cluster, merged into the same outputs (docs/cluster.md)",
    )
    p.add_argument("--ray-address", help="with --engine ray: the cluster to join (ADDR or auto); default: start a local Ray instance sized to this machine")
    p.add_argument("--shards", type=int, default=None, help="with --engine ray: number of shards (regions of the input; default 4)")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local: scoring processes forked after the model loads (default: the CPUs not already busy: CPU count minus the 1-minute load average, counting only tasks still runnable now; at least 1; CPU on Linux, else 1); with --engine ray: worker actors (default: as many as the cluster's CPUs, or GPUs with --gpus-per-worker, allow; at most one per shard)",
    )
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help="with --engine ray: GPUs each worker reserves (default 0)")
    p.add_argument("--resume", action="store_true", help="with --engine ray: reuse shards whose outputs in the work folder (<scores>.shards/) still verify")
    p.add_argument("--keep-shards", action="store_true", help="with --engine ray: keep the work folder after the merge")
    add_flags(p, "--json")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def score_argv(
    model_dir: Any,
    vcf: Any,
    fasta: Any,
    scores: Any,
    receipts: Any,
    *,
    output_vcf: Any = None,
    output_parquet: Any = None,
    output_report: Any = None,
    device: str | None = None,
    threads: int | None = None,
    numerics: str | None = None,
    json: bool = False,
    quiet: bool = True,
) -> list[str]:
    """The command line (without the program) that :func:`build_parser` reads back as these inputs, outputs and options.

    Paths may be ``str`` or ``Path``; an option left ``None`` (or ``False``) is left off the line, so the
    command's own default applies. For callers that run the command (benchmarks, tests).
    """
    argv = ["--model-dir", str(model_dir), "--vcf", str(vcf), "--fasta", str(fasta), "--output-scores", str(scores), "--output-receipts", str(receipts)]
    for flag, value in (
        ("--output-vcf", output_vcf),
        ("--output-parquet", output_parquet),
        ("--output-report", output_report),
        ("--device", device),
        ("--threads", threads),
        ("--numerics", numerics),
    ):
        if value is not None:
            argv += [flag, str(value)]
    return argv + ["--json"] * json + ["--quiet"] * quiet


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from geno_lewm import numerics_mode

    if numerics_mode.needs_reexec(args.numerics):  # torch already loaded unpinned here: pin in a fresh process
        return numerics_mode.reexec_pinned("geno_lewm.cli.score", list(sys.argv[1:] if argv is None else argv))
    numerics_mode.require(args.numerics)  # before torch loads
    if args.output_report:
        check_writable(args.output_report)  # before any work: a bad path must not cost a scoring run
    from geno_lewm.runtime import scoring_parallelism
    from geno_lewm.scoring.report import batch_report
    from geno_lewm.scoring.run import print_summary, score_vcf

    if args.engine == "ray":
        return _main_ray(parser, args)
    for flag in ("ray_address", "shards"):
        if getattr(args, flag) is not None:
            parser.error(f"--{flag.replace('_', '-')} needs --engine ray")
    if args.resume or args.keep_shards or args.gpus_per_worker:
        parser.error("--resume, --keep-shards and --gpus-per-worker need --engine ray")
    # free CPUs in a fresh process; an embedding process keeps its own thread count
    workers, threads = scoring_parallelism(args.workers, args.threads)
    summary = score_vcf(args.model_dir, args.vcf, args.fasta, shard=args.shard, threads=threads, workers=workers, **scoring_options(args))
    if args.output_report:
        doc = batch_report(summary, scores=args.output_scores, receipts=args.output_receipts)
        atomic_write_text(args.output_report, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print_summary(summary)
    return finish(summary.to_dict(), as_json=args.json)


def scoring_options(args: Any) -> dict[str, Any]:
    """The keyword options both engines take from parsed arguments (outputs, region, batching, device, numerics)."""
    return {
        "output_scores": args.output_scores,
        "output_receipts": args.output_receipts,
        "output_vcf": args.output_vcf,
        "output_parquet": args.output_parquet,
        "region": args.region,
        "batch_size": args.batch_size,
        "device": args.device,
        "progress": not args.quiet,
        "numerics": getattr(args, "numerics", "default"),
    }


def score_with_ray(parser: ArgumentParser, args: Any):
    """Run parsed ``--engine ray`` arguments: score on Ray, write the outputs and the report; return the RayRun."""
    from geno_lewm.scoring.ray_engine import RayOptions, score_vcf_ray
    from geno_lewm.scoring.report import batch_report

    if args.shard:
        parser.error("--shard is for one process; with --engine ray use --shards N")
    if (args.shards is not None and args.shards < 1) or (args.workers is not None and args.workers < 1) or args.gpus_per_worker < 0:
        parser.error("--shards and --workers must be >= 1 and --gpus-per-worker >= 0")
    opts = RayOptions(
        address=args.ray_address,
        shards=args.shards or 4,
        workers=args.workers,
        gpus_per_worker=args.gpus_per_worker,
        resume=args.resume,
        keep_shards=args.keep_shards,
    )
    run = score_vcf_ray(args.model_dir, args.vcf, args.fasta, threads=args.threads, options=opts, **scoring_options(args))
    if args.output_report:
        doc = batch_report(run.summary, scores=args.output_scores, receipts=args.output_receipts, engine=run.engine())
        atomic_write_text(args.output_report, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return run


def print_ray_run(run: Any, *, as_json: bool) -> None:
    """The summary line on stderr and, with ``as_json``, the summary plus the engine block on stdout."""
    from geno_lewm.scoring.run import print_summary

    print_summary(run.summary)
    if as_json:
        print(json.dumps({**run.summary.to_dict(), "engine": run.engine()}, indent=2, sort_keys=True))


def _main_ray(parser: ArgumentParser, args: Any) -> int:
    print_ray_run(score_with_ray(parser, args), as_json=args.json)
    return 0


main = exit_at_once(command(_main, "Run ``geno-lewm-score`` and return its exit code."))


if __name__ == "__main__":
    sys.exit(main())
