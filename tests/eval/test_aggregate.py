"""geno-lewm-eval-all: aggregation, v0.2 coverage checks that fail before writing, findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geno_lewm.cli.eval_all import main as eval_all_main
from geno_lewm.eval.aggregate import EvalAllRequest, run_eval_all
from geno_lewm.eval.pipeline import EvalRequest, run_eval
from geno_lewm.eval.report import check_report
from ledger.errors import GenoError

from .conftest import synthetic_labels

VEP = {"clinvar_coding": "binary", "clinvar_noncoding": "binary", "brca2_saturation": "spearman", "traitgym_mendelian": "spearman"}


def _vep(files, name: str, mode: str, *, bootstrap: int = 20, baseline: bool = True, model_sign: float = 1.0) -> Path:
    labels = synthetic_labels(40, mode, seed=len(name))
    d = f"benchmarks/{name}"
    lpath = files.write(f"{d}/labels.jsonl", labels)
    scores = files.scores(labels, lambda r: model_sign * r["label"] + (r["pos"] % 7) / 3, name=f"{d}/scores.jsonl")
    base = files.baseline(labels, lambda r: (r["pos"] % 5) / 2, name=f"{d}/carbon.jsonl") if baseline else None
    out = files.root / d / "metrics.json"
    run_eval(
        EvalRequest(
            scores_jsonl=str(scores),
            labels=str(lpath),
            metric_mode=mode,
            output_metrics=str(out),
            artifact_root=str(files.root),
            baseline_scores_jsonl=str(base) if base else None,
            baseline_score_field="carbon_zero_shot_score" if base else None,
            baseline_name="carbon_zero_shot" if base else None,
            benchmark=name,
            overrides={"bootstrap": bootstrap},
        )
    )
    return out


def _rollout(files, drop: str | None = None) -> Path:
    """A rollout metrics file in the documented schema, rows built by the producer's own function."""
    from geno_lewm.rollout import GENERATED_BY, SCHEMA_VERSION, metrics_rows

    rows = []
    for track, cos in (("phased_haplotype", 0.93), ("synthetic_edit_chain", 0.81)):
        res = {
            "n": 64,
            "n_chains": 16,
            "metrics": {"cosine": cos, "l2": 0.4, "recall_at_k": 0.3, "k": 5},
            "baseline": {"cosine": 0.9, "l2": 0.5, "recall_at_k": 0.1, "k": 5},
            "bootstrap": {
                "level": 0.95,
                "intervals": {
                    m: {"value": [v - 0.05, v + 0.05], "delta": [d - 0.05, d + 0.05]}
                    for m, v, d in (("cosine", cos, cos - 0.9), ("l2", 0.4, -0.1), ("recall_at_k", 0.3, 0.2))
                },
            },
        }
        rows += [r for r in metrics_rows(track, res) if not (drop and track == "synthetic_edit_chain" and r["metric"] == drop)]
    p = files.root / "rollout" / "rollout_metrics.json"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "generated_by": GENERATED_BY, "model_id": "m", "rows": rows}))
    return p


def _argv(inputs, files, *flags):
    argv = [x for p in inputs for x in ("--metrics-json", str(p))]
    return argv + ["--output-metrics", str(files.root / "eval_metrics.json"), "--output-report", str(files.root / "eval_report.md"), *flags]


@pytest.fixture
def suite(files):
    return [_vep(files, name, mode) for name, mode in VEP.items()] + [_rollout(files)]


def test_full_v02_coverage_aggregates_and_records_artifacts(files, suite, capsys):
    assert eval_all_main(_argv(suite, files, "--require-v02-vep-metrics", "--require-v02-rollout-metrics")) == 0
    doc = json.loads((files.root / "eval_metrics.json").read_text())
    assert doc["generated_by"] == "geno-lewm-eval-all" and doc["coverage"]["v02_vep_missing"] == [] == doc["coverage"]["v02_rollout_missing"]
    assert {b["benchmark"] for b in doc["benchmarks"]} == set(VEP) | {"rollout_phased_haplotype", "rollout_synthetic_edit_chain"}
    roles = {(a["role"], a["path"]) for a in doc["artifacts"]}
    assert ("eval_config_effective", "eval_config.effective.yaml") in roles
    assert ("metrics_input", "benchmarks/brca2_saturation/metrics.json") in roles
    assert (files.root / "eval_config.effective.yaml").is_file()
    assert {a["path"] for a in doc["referenced_artifacts"]} >= {"benchmarks/clinvar_coding/scores.jsonl", "benchmarks/clinvar_coding/carbon.jsonl"}
    check_report(files.root / "eval_metrics.json", files.root / "eval_report.md")
    text = (files.root / "eval_metrics.json").read_text() + (files.root / "eval_report.md").read_text()
    assert str(files.root) not in text  # no private absolute paths
    # rollout: l2 is lower-is-better, so 0.4 vs source state 0.5 beats it; cosine 0.81 < 0.9 does not
    findings = "\n".join(doc["negative_findings"])
    assert "does not beat source_state on rollout_synthetic_edit_chain (split test) cosine (delta -0.0900" in findings
    assert "rollout_phased_haplotype (split test) l2 (delta" not in findings
    roll = {(r["track"], r["metric"]): r for r in doc["rows"] if r["metric_mode"] == "rollout"}
    assert len(roll) == 6 and roll[("phased_haplotype", "l2")]["ci_low"] == pytest.approx(0.35)
    assert roll[("synthetic_edit_chain", "recall_at_k")]["k"] == 5
    assert roll[("synthetic_edit_chain", "cosine")]["baselines"][0]["delta_ci_high"] == pytest.approx(-0.04)


def test_rollout_track_without_chains_is_reported_not_evaluated(files):
    from geno_lewm.rollout import metrics_rows

    rows = metrics_rows("phased_haplotype", {"n": 0, "n_chains": 0}) + metrics_rows(
        "synthetic_edit_chain",
        {
            "n": 8,
            "n_chains": 2,
            "metrics": {"cosine": 0.5, "l2": 1.0, "recall_at_k": 1.0, "k": 2},
            "baseline": {"cosine": 0.6, "l2": 0.9, "recall_at_k": 1.0, "k": 2},
        },
    )
    p = files.root / "rollout.json"
    p.write_text(json.dumps({"schema_version": "1.1.0", "generated_by": "geno-lewm-rollout", "model_id": "m", "rows": rows}))
    doc = run_eval_all(EvalAllRequest(metrics_json=[str(p)], output_metrics=str(files.root / "m.json"), output_report=str(files.root / "r.md")))
    assert {b["benchmark"] for b in doc["benchmarks"]} == {"rollout_synthetic_edit_chain"}
    findings = "\n".join(doc["negative_findings"])
    assert "benchmark rollout_phased_haplotype was not evaluated" in findings
    assert "no confidence interval reported for rollout_synthetic_edit_chain (split test) cosine" in findings


@pytest.mark.parametrize(
    "case,expected",
    [
        ("no_brca2", "brca2_saturation: not evaluated"),
        ("no_baseline", "clinvar_noncoding split test auroc: no carbon_zero_shot baseline delta"),
        ("no_ci", "traitgym_mendelian split test spearman_rho: no confidence interval"),
        ("wrong_mode", "brca2_saturation split test: metric_mode binary, expected spearman"),
        ("no_recall", "rollout_synthetic_edit_chain (synthetic_edit_chain): missing recall_at_k"),
    ],
)
def test_missing_coverage_fails_before_writing_anything(files, case, expected):
    inputs = {
        name: _vep(
            files,
            name,
            mode,
            baseline=not (case == "no_baseline" and name == "clinvar_noncoding"),
            bootstrap=0 if (case == "no_ci" and name == "traitgym_mendelian") else 20,
        )
        for name, mode in VEP.items()
        if not (case in ("no_brca2", "wrong_mode") and name == "brca2_saturation")
    }
    if case == "wrong_mode":
        inputs["brca2_saturation"] = _vep(files, "brca2_saturation", "binary")
    paths = [*inputs.values(), _rollout(files, drop="recall_at_k" if case == "no_recall" else None)]
    before = sorted(p.name for p in files.root.iterdir())
    with pytest.raises(GenoError) as exc:
        run_eval_all(
            EvalAllRequest(
                metrics_json=[str(p) for p in paths],
                output_metrics=str(files.root / "eval_metrics.json"),
                output_report=str(files.root / "eval_report.md"),
                require_vep=True,
                require_rollout=True,
            )
        )
    assert exc.value.code == "EVAL.MISSING_COVERAGE" and expected in exc.value.message
    assert sorted(p.name for p in files.root.iterdir()) == before  # no metrics, report or effective config


def test_foreign_and_duplicate_inputs_are_rejected(files, suite, capsys):
    foreign = files.root / "x.json"
    foreign.write_text(json.dumps({"generated_by": "geno-lewm-score", "rows": []}))
    assert eval_all_main(_argv([suite[0], foreign], files)) == 6
    assert "error[EVAL.GENERATED_BY]" in capsys.readouterr().err
    assert eval_all_main(_argv([suite[0], suite[0]], files)) == 6
    assert "error[EVAL.DUPLICATE_ROW]" in capsys.readouterr().err
    assert not (files.root / "eval_metrics.json").exists()


def test_findings_come_from_the_data(files):
    worse = _vep(files, "clinvar_coding", "binary", model_sign=-1.0)  # scores anti-correlated with labels
    run_eval_all(
        EvalAllRequest(metrics_json=[str(worse)], output_metrics=str(files.root / "eval_metrics.json"), output_report=str(files.root / "eval_report.md"))
    )
    doc = json.loads((files.root / "eval_metrics.json").read_text())
    findings = "\n".join(doc["negative_findings"])
    auroc = next(r for r in doc["rows"] if r["metric"] == "auroc")
    carbon = next(b for b in auroc["baselines"] if b["baseline"] == "carbon_zero_shot")
    assert carbon["delta_vs_baseline"] < 0
    assert f"does not beat carbon_zero_shot on clinvar_coding (split test) auroc (delta {carbon['delta_vs_baseline']:+.4f}" in findings
    assert "does not beat source_state_constant on clinvar_coding (split test) auroc" in findings
    assert "n=40 on clinvar_coding (split test) is far too small for any claim" in findings
    assert "benchmark traitgym_mendelian was not evaluated" in findings
    assert "demo labels" not in findings and "stand-in" not in findings  # nothing says so in these inputs
