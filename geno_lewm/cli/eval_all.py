"""``geno-lewm-eval-all``: aggregate per-benchmark and rollout metrics into eval_metrics.json + eval_report.md.

See docs/evaluation.md for the payload schema, the v0.2 coverage flags and the ``EVAL.*`` codes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.clikit import ArgumentParser, command


def build_parser() -> ArgumentParser:
    """The command's argument parser (the release step registry reads its flags)."""
    p = ArgumentParser(prog="geno-lewm-eval-all", description="Aggregate metrics JSON files into eval_metrics.json and render eval_report.md.")
    p.add_argument("--metrics-json", action="append", required=True, help="a geno-lewm-eval or geno-lewm-rollout metrics JSON (repeatable)")
    p.add_argument("--output-metrics", required=True, help="aggregate metrics JSON to write (eval_metrics.json)")
    p.add_argument("--output-report", required=True, help="Markdown report to write (eval_report.md)")
    p.add_argument(
        "--require-v02-vep-metrics",
        action="store_true",
        help="fail unless ClinVar coding/non-coding, BRCA2 and TraitGym rows have Carbon deltas, CIs and key identities",
    )
    p.add_argument("--require-v02-rollout-metrics", action="store_true", help="fail unless both rollout tracks have cosine, L2 and Recall@k")
    p.add_argument("--artifact-root", default=None, help="root for recorded artifact paths (default: the output metrics directory)")
    p.add_argument("--eval-config", default=None, help="eval config YAML for finding thresholds (default: configs/eval/default.yaml)")
    p.add_argument("--stand-in", action="store_true", help="the scores come from the stand-in encoder (adds a negative finding)")
    return p


def _main(argv: list[str] | None) -> int:
    from geno_lewm.eval.aggregate import EvalAllRequest, run_eval_all

    args = build_parser().parse_args(argv)
    payload = run_eval_all(
        EvalAllRequest(
            metrics_json=args.metrics_json,
            output_metrics=args.output_metrics,
            output_report=args.output_report,
            require_vep=args.require_v02_vep_metrics,
            require_rollout=args.require_v02_rollout_metrics,
            artifact_root=args.artifact_root,
            eval_config=args.eval_config,
            stand_in=args.stand_in,
        )
    )
    print(f"{len(payload['rows'])} metric rows from {len(payload['benchmarks'])} benchmark splits; {len(payload['negative_findings'])} negative findings")
    print(f"wrote {Path(args.output_metrics).name} and {Path(args.output_report).name}", file=sys.stderr)
    return 0


main = command(_main, "Run ``geno-lewm-eval-all`` and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
