"""End to end: demo-like scores and a baseline on the example labels -> metrics -> aggregate -> report."""

from __future__ import annotations

import json

from geno_lewm.cli.eval import main as eval_main
from geno_lewm.cli.eval_all import main as eval_all_main
from geno_lewm.eval.report import check_report
from geno_lewm.resources import example_path

from .conftest import MODEL_ID


def test_example_labels_match_the_demo_vcf(demo_labels):
    vcf = [line.split("\t") for line in example_path("mt_known_variants.vcf").read_text().splitlines() if not line.startswith("#")]
    assert len(demo_labels) == len(vcf) == 17
    for row, rec in zip(demo_labels, vcf):
        assert (row["chrom"], row["pos"], row["ref"], row["alt"]) == (rec[0], int(rec[1]), rec[3], rec[4])
        assert row["label"] == (1 if "LABEL=pathogenic" in rec[7] else 0)
        assert row["label_source"] == "demo"


def test_demo_scores_and_baseline_render_an_honest_report(files, demo_labels, capsys):
    labels = files.write("labels.jsonl", demo_labels)
    # demo-like stand-in scores: a weak signal plus position noise; one variant not scored
    rows = []
    for i, r in enumerate(demo_labels):
        k = {x: r[x] for x in ("chrom", "pos", "ref", "alt")}
        if i == 5:
            rows.append({**k, "score": None, "error_code": "INPUT.REF_MISMATCH", "model_id": MODEL_ID, "generated_by": "geno-lewm-score", "stand_in": True})
        else:
            rows.append(
                {
                    **k,
                    "score": 0.3 * r["label"] + (r["pos"] % 97) / 97,
                    "percentile": 50.0,
                    "bucket": "mid",
                    "confidence": "low",
                    "model_id": MODEL_ID,
                    "generated_by": "geno-lewm-score",
                    "stand_in": True,
                }
            )
    scores = files.write("scores.jsonl", rows)
    base = files.baseline(demo_labels, lambda r: -((r["pos"] * 31) % 101) / 101)
    rc = eval_main(
        [
            "--scores-jsonl",
            str(scores),
            "--labels",
            str(labels),
            "--metric-mode",
            "binary",
            "--baseline-scores-jsonl",
            str(base),
            "--baseline-score-field",
            "carbon_zero_shot_score",
            "--baseline-name",
            "carbon_zero_shot",
            "--benchmark",
            "clinvar_coding",
            "--split",
            "demo",
            "--output-metrics",
            str(files.root / "eval/clinvar_coding.metrics.json"),
            "--artifact-root",
            str(files.root),
            "--bootstrap",
            "50",
            "--seed",
            "11",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    assert "clinvar_coding split demo: auroc = " in capsys.readouterr().out
    per = json.loads((files.root / "eval/clinvar_coding.metrics.json").read_text())
    assert per["generated_by"] == "geno-lewm-eval" and per["schema_version"] == "1.0.0"
    bench = per["benchmarks"][0]
    assert bench["n"] == 16 and bench["class_balance"]["positive"] + bench["class_balance"]["negative"] == 16
    assert bench["counts"]["primary_not_scored"] == {"INPUT.REF_MISMATCH": 1}
    assert {a["role"]: a["path"] for a in per["artifacts"]} == {
        "baseline_scores": "baseline.jsonl",
        "labels": "labels.jsonl",
        "scores": "scores.jsonl",
        "eval_config_effective": "eval/eval_config.effective.yaml",
    }
    effective = (files.root / "eval/eval_config.effective.yaml").read_text()
    assert "bootstrap: 50" in effective and "seed: 11" in effective

    out = files.root / "eval"
    rc = eval_all_main(
        [
            "--metrics-json",
            str(out / "clinvar_coding.metrics.json"),
            "--output-metrics",
            str(out / "eval_metrics.json"),
            "--output-report",
            str(out / "eval_report.md"),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    report = (out / "eval_report.md").read_text()
    check_report(out / "eval_metrics.json", out / "eval_report.md")
    negative = report.split("## Negative Findings", 1)[1]
    assert "are demo labels" in negative
    assert "stand-in encoder" in negative and "no biological skill" in negative
    assert "n=16 on clinvar_coding (split demo) is far too small for any claim" in negative
    assert "1 of 17 labelled variants" in negative
    assert "source_state_constant" in report and "carbon_zero_shot" in report
