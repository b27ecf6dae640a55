"""``geno-lewm-eval`` as a function: files in, metrics JSON and effective config out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.errors import InputError
from ledger.identity import relative_to_root, sha256_file

from geno_lewm.eval.artifacts import record_artifacts, resolve_input
from geno_lewm.eval.config import default_config_path, effective_yaml, load_eval_config
from geno_lewm.eval.evaluate import BaselineInput, evaluate_vep
from geno_lewm.eval.findings import conclusions, negative_findings
from geno_lewm.eval.labels import is_vcf, load_labels
from geno_lewm.eval.outputs import CLAIM_BOUNDARY, EFFECTIVE_CONFIG_NAME, artifact_list, bytes_identity, payload_bytes, write_all
from geno_lewm.eval.schema import EVAL_METRICS_SCHEMA_VERSION, GEN_CARBON_BASELINE, GEN_EVAL, GEN_SCORE
from geno_lewm.eval.scores import load_scores


@dataclass(frozen=True)
class EvalRequest:
    """Everything ``geno-lewm-eval`` was asked to do (paths as given on the command line)."""

    scores_jsonl: str  # primary score rows
    labels: str  # JSONL labels or a VCF
    metric_mode: str  # binary | spearman
    output_metrics: str  # metrics JSON to write
    score_field: str = "score"  # primary score field
    label_field: str = "LABEL"  # INFO field when labels are a VCF
    label_source: str | None = None  # overrides the rows' label_source
    baseline_scores_jsonl: str | None = None  # baseline score rows
    baseline_score_field: str | None = None  # baseline score field
    baseline_name: str | None = None  # baseline's reported name
    benchmark: str = "custom"  # benchmark row name
    split: str = "test"  # split name
    artifact_root: str | None = None  # root of recorded paths (default: output directory)
    eval_config: str | None = None  # eval config YAML (default: committed one)
    overrides: Mapping[str, Any] = field(default_factory=dict)  # explicit CLI overrides of the config
    stand_in: bool = False  # scores come from the stand-in encoder
    references: Mapping[str, str | None] = field(default_factory=dict)  # checkpoint/config/... references


def _check_baseline_flags(req: EvalRequest) -> None:
    given = {"--baseline-scores-jsonl": req.baseline_scores_jsonl, "--baseline-score-field": req.baseline_score_field, "--baseline-name": req.baseline_name}
    if any(given.values()) and not all(given.values()):
        missing = [k for k, v in given.items() if not v]
        raise InputError("USAGE", f"geno-lewm-eval: a baseline needs {', '.join(given)} together (missing {', '.join(missing)})")


def run_eval(req: EvalRequest) -> dict[str, Any]:
    """Evaluate, then write ``eval_config.effective.yaml`` and the metrics JSON; return the payload.

    Every check (paths under the root, inputs, metrics) runs before the first byte is written.
    """
    _check_baseline_flags(req)
    output = Path(req.output_metrics).absolute()
    root = Path(req.artifact_root).absolute() if req.artifact_root else output.parent
    relative_to_root(output, root, "--output-metrics")
    inputs = {"scores": req.scores_jsonl, "labels": req.labels, "baseline_scores": req.baseline_scores_jsonl, "eval_config": req.eval_config, **req.references}
    resolved = {role: resolve_input(p, root) for role, p in inputs.items() if p is not None}

    config = load_eval_config(resolved.get("eval_config"), req.overrides)
    if "eval_config" in resolved:
        base_config = relative_to_root(resolved["eval_config"], root)
    else:
        digest, _ = sha256_file(default_config_path())
        base_config = f"bundled configs/eval/default.yaml (sha256 {digest})"
    labels = load_labels(resolved["labels"], req.metric_mode, label_field=req.label_field, label_map=config.binary_label_map)
    primary = load_scores(resolved["scores"], score_field=req.score_field, generated_by=GEN_SCORE, what="primary scores")
    baseline = None
    if req.baseline_scores_jsonl:
        rows = load_scores(resolved["baseline_scores"], score_field=str(req.baseline_score_field), generated_by=GEN_CARBON_BASELINE, what="baseline scores")
        baseline = BaselineInput(str(req.baseline_name), rows)
    result = evaluate_vep(
        benchmark=req.benchmark,
        split=req.split,
        mode=req.metric_mode,
        labels=labels,
        primary=primary,
        baseline=baseline,
        config=config,
        stand_in=req.stand_in,
        label_source=req.label_source,
    )
    identities = record_artifacts(resolved, root)
    run = {
        "benchmark": req.benchmark,
        "split": req.split,
        "metric_mode": req.metric_mode,
        "score_field": req.score_field,
        "baseline_name": req.baseline_name,
        "baseline_score_field": req.baseline_score_field,
        "stand_in": req.stand_in,
    }
    if is_vcf(req.labels):
        run["label_field"] = req.label_field
    yaml_path = output.parent / EFFECTIVE_CONFIG_NAME
    yaml_bytes = effective_yaml(config, base_config=base_config, cli_overrides=req.overrides, extra=run).encode("utf-8")
    identities["eval_config_effective"] = bytes_identity(yaml_path, yaml_bytes, root)

    benchmarks, rows = [result.benchmark], result.rows
    payload = {
        "schema_version": EVAL_METRICS_SCHEMA_VERSION,
        "generated_by": GEN_EVAL,
        "benchmarks": benchmarks,
        "rows": rows,
        "conclusions": conclusions(rows),
        "negative_findings": negative_findings(benchmarks, rows, config),
        "claim_boundary": CLAIM_BOUNDARY,
        "artifacts": artifact_list(identities),
        "eval_config": identities["eval_config_effective"],
    }
    write_all([(yaml_path, yaml_bytes), (output, payload_bytes(payload))])
    return payload
