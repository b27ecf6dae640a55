"""eval_report.md is a pure, validated render; a stale report is detected."""

from __future__ import annotations

import copy
import json

import pytest

from geno_lewm.eval import fmt
from geno_lewm.eval.pipeline import EvalRequest, run_eval
from geno_lewm.eval.report import check_report, render_report
from ledger.errors import GenoError
from tools.release.eval_report import main as report_main

from .conftest import synthetic_labels


@pytest.fixture
def payload(files):
    labels = synthetic_labels(24, "spearman", seed=5)
    lpath = files.write("labels.jsonl", labels)
    scores = files.scores(labels, lambda r: r["label"] * 0.5 + (r["pos"] % 5))
    base = files.baseline(labels, lambda r: -r["label"] + (r["pos"] % 3))
    return run_eval(
        EvalRequest(
            scores_jsonl=str(scores),
            labels=str(lpath),
            metric_mode="spearman",
            output_metrics=str(files.root / "metrics.json"),
            baseline_scores_jsonl=str(base),
            baseline_score_field="carbon_zero_shot_score",
            baseline_name="carbon_zero_shot",
            benchmark="brca2_saturation",
            split="heldout",
            overrides={"bootstrap": 30},
        )
    )


def _code(fn, *args):
    with pytest.raises(GenoError) as exc:
        fn(*args)
    return exc.value.code


def test_render_is_byte_stable_and_states_every_figure(payload):
    text = render_report(payload)
    assert text == render_report(json.loads(json.dumps(payload)))
    assert "## Negative Findings" in text and "## Conclusions" in text
    conclusions = text.split("## Conclusions", 1)[1].split("## Negative Findings", 1)[0]
    for row in payload["rows"]:
        assert row["metric"] in conclusions and "split heldout" in conclusions
        assert fmt.num(row["value"]) in conclusions
        for base in row["baselines"]:
            assert fmt.signed(base["delta_vs_baseline"]) in conclusions
    # the constant predictor's rho is recorded with its convention note
    const = [b for b in payload["rows"][0]["baselines"] if b["baseline"] == "source_state_constant"][0]
    assert const["baseline_value"] == 0.0 and "undefined" in const["note"]


def test_stale_report_is_detected(files, payload):
    metrics = files.root / "metrics.json"
    report = files.root / "eval_report.md"
    assert report_main(["--metrics-json", str(metrics), "--output", str(report), "--workdir", str(files.root)]) == 0
    check_report(metrics, report)
    report.write_text(report.read_text().replace("## Negative Findings", "## Negative findings"))
    assert _code(check_report, metrics, report) == "PROVENANCE.STALE_REPORT"
    assert report_main(["--metrics-json", str(metrics), "--output", str(report), "--check", "--workdir", str(files.root)]) == 7
    # the metrics changed after rendering: the old report is stale too
    report_main(["--metrics-json", str(metrics), "--output", str(report), "--workdir", str(files.root)])
    doc = json.loads(metrics.read_text())
    doc["negative_findings"].append("a finding added after the report was rendered")
    metrics.write_text(json.dumps(doc))
    assert _code(check_report, metrics, report) == "PROVENANCE.STALE_REPORT"


def test_renderer_rejects_foreign_or_incomplete_payloads(payload):
    bad = copy.deepcopy(payload)
    bad["generated_by"] = "geno-lewm-rollout"
    assert _code(render_report, bad) == "EVAL.GENERATED_BY"
    bad = copy.deepcopy(payload)
    bad["negative_findings"] = []
    assert _code(render_report, bad) == "EVAL.NO_NEGATIVE_FINDINGS"
    bad = copy.deepcopy(payload)
    bad["conclusions"] = bad["conclusions"][1:] + [c.replace(fmt.num(bad["rows"][0]["value"]), "0.xxxx") for c in bad["conclusions"][:1]]
    assert _code(render_report, bad) == "EVAL.CONCLUSIONS_INCOMPLETE"
    bad = copy.deepcopy(payload)
    del bad["rows"][0]["baselines"][0]["delta_vs_baseline"]
    assert _code(render_report, bad) == "EVAL.BASELINE_FIELDS"
    bad = copy.deepcopy(payload)
    bad["rows"][0]["baselines"][0]["baseline_evaluated_variant_keys_sha256"] = "0" * 64
    assert _code(render_report, bad) == "EVAL.KEY_IDENTITY_MISMATCH"
    bad = copy.deepcopy(payload)
    bad["schema_version"] = "2.0.0"
    assert _code(render_report, bad) == "INPUT.SCHEMA_COMPAT"
