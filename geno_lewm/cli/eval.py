"""``geno-lewm-eval``: evaluate primary scores (and a baseline) against labels for one benchmark.

Writes the metrics JSON (``generated_by=geno-lewm-eval``) and ``eval_config.effective.yaml`` beside
it. See docs/evaluation.md for flags, the metrics schema and the ``EVAL.*`` error codes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.clikit import ArgumentParser, command


def build_parser() -> ArgumentParser:
    """The command's argument parser (the release step registry reads its flags)."""
    p = ArgumentParser(prog="geno-lewm-eval", description="Evaluate variant scores against labels beside baselines, with bootstrap confidence intervals.")
    p.add_argument("--scores-jsonl", required=True, help="primary score rows (generated_by=geno-lewm-score)")
    p.add_argument("--score-field", default="score", help="score field of the primary rows (default: score)")
    p.add_argument("--labels", required=True, help="labels: JSONL rows (chrom,pos,ref,alt,label) or a VCF with the label in INFO")
    p.add_argument("--label-field", default="LABEL", help="INFO field holding the label when --labels is a VCF (default: LABEL)")
    p.add_argument("--label-source", default=None, help="where the labels come from (overrides the rows' label_source; e.g. clinvar, demo)")
    p.add_argument("--metric-mode", required=True, choices=["binary", "spearman"], help="binary: AUROC/AUPRC; spearman: Spearman's rho")
    p.add_argument("--output-metrics", required=True, help="metrics JSON to write")
    p.add_argument("--baseline-scores-jsonl", default=None, help="baseline score rows (generated_by=geno-lewm-carbon-baseline)")
    p.add_argument("--baseline-score-field", default=None, help="score field of the baseline rows (e.g. carbon_zero_shot_score)")
    p.add_argument("--baseline-name", default=None, help="name the baseline is reported under (e.g. carbon_zero_shot)")
    p.add_argument("--benchmark", default="custom", help="benchmark row name (e.g. clinvar_coding, brca2_saturation)")
    p.add_argument("--split", default="test", help="split name recorded with every metric (default: test)")
    p.add_argument("--artifact-root", default=None, help="root for recorded artifact paths (default: the metrics output directory)")
    p.add_argument("--eval-config", default=None, help="eval config YAML (default: the committed configs/eval/default.yaml)")
    p.add_argument("--bootstrap", type=int, default=None, help="bootstrap resamples (overrides the eval config)")
    p.add_argument("--seed", type=int, default=None, help="bootstrap seed (overrides the eval config)")
    p.add_argument("--allow-key-mismatch", action="store_true", default=None, help="evaluate shared variants when key sets differ (gaps are reported)")
    p.add_argument("--stand-in", action="store_true", help="the scores come from the stand-in encoder (adds a negative finding)")
    for name in ("checkpoint", "config", "dataset-manifest", "efficiency-report"):
        p.add_argument(f"--{name}", default=None, help=f"{name.replace('-', ' ')} file to record as an artifact reference")
    return p


def _main(argv: list[str] | None) -> int:
    from geno_lewm.eval.pipeline import EvalRequest, run_eval

    args = build_parser().parse_args(argv)
    request = EvalRequest(
        scores_jsonl=args.scores_jsonl,
        score_field=args.score_field,
        labels=args.labels,
        label_field=args.label_field,
        label_source=args.label_source,
        metric_mode=args.metric_mode,
        output_metrics=args.output_metrics,
        baseline_scores_jsonl=args.baseline_scores_jsonl,
        baseline_score_field=args.baseline_score_field,
        baseline_name=args.baseline_name,
        benchmark=args.benchmark,
        split=args.split,
        artifact_root=args.artifact_root,
        eval_config=args.eval_config,
        overrides={"bootstrap": args.bootstrap, "seed": args.seed, "allow_key_mismatch": args.allow_key_mismatch},
        stand_in=args.stand_in,
        references={
            "checkpoint": args.checkpoint,
            "config": args.config,
            "dataset_manifest": args.dataset_manifest,
            "efficiency_report": args.efficiency_report,
        },
    )
    payload = run_eval(request)
    from geno_lewm.eval.findings import conclusions

    for line in conclusions(payload["rows"]):
        print(line)
    print(f"wrote {Path(args.output_metrics).name} ({len(payload['negative_findings'])} negative findings)", file=sys.stderr)
    return 0


main = command(_main, "Run ``geno-lewm-eval`` and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
