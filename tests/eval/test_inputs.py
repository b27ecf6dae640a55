"""Bad inputs give typed EVAL.* (or INPUT.*) errors and write nothing."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from geno_lewm.cli.eval import main as eval_main
from geno_lewm.eval.config import load_eval_config
from geno_lewm.eval.pipeline import EvalRequest, run_eval
from ledger.errors import ConfigError, EvalError, GenoError, InputError

from .conftest import baseline_row, key, score_row, synthetic_labels


def _run(files, labels_path, scores_path, mode="binary", baseline=None, **kw):
    req = EvalRequest(
        scores_jsonl=str(scores_path),
        labels=str(labels_path),
        metric_mode=mode,
        output_metrics=str(files.root / "out" / "metrics.json"),
        artifact_root=str(files.root),
        baseline_scores_jsonl=str(baseline) if baseline else None,
        baseline_score_field="carbon_zero_shot_score" if baseline else None,
        baseline_name="carbon_zero_shot" if baseline else None,
        overrides={"bootstrap": 20, **kw.pop("overrides", {})},
        **kw,
    )
    return run_eval(req)


def _cli(files, scores_path, labels_path, *extra: str) -> int:
    """``geno-lewm-eval`` in binary mode with metrics to ``m.json`` under the artifact root, plus ``extra``; its exit code."""
    return eval_main(
        ["--scores-jsonl", str(scores_path), "--labels", str(labels_path), "--metric-mode", "binary", "--output-metrics", str(files.root / "m.json"), *extra]
    )


def _expect(code, fn, *args, **kw):
    with pytest.raises(GenoError) as exc:
        fn(*args, **kw)
    assert exc.value.code == code, exc.value.render()
    return exc.value


@pytest.fixture
def labelled(files):
    labels = synthetic_labels(12, "binary", seed=1)
    return labels, files.write("labels.jsonl", labels)


def test_missing_key_field_and_missing_label(files, labelled):
    labels, lpath = labelled
    rows = [score_row(key(r), 0.1) for r in labels]
    del rows[4]["pos"]
    err = _expect("EVAL.MISSING_FIELD", _run, files, lpath, files.write("s.jsonl", rows))
    assert "line 5" in err.message and "pos" in err.message
    bad_labels = [dict(r) for r in labels]
    del bad_labels[0]["label"]
    _expect("EVAL.MISSING_FIELD", _run, files, files.write("l2.jsonl", bad_labels), files.scores(labels, lambda r: 0.0))
    assert not (files.root / "out").exists()


def test_nan_score_is_rejected(files, labelled):
    labels, lpath = labelled
    rows = [score_row(key(r), float(i)) for i, r in enumerate(labels)]
    rows[2]["score"] = math.nan  # json.dumps writes the NaN literal
    err = _expect("EVAL.NAN_SCORE", _run, files, lpath, files.write("s.jsonl", rows))
    assert "chr1:1014:A:T" in err.message


def test_null_score_without_error_code_is_rejected_but_error_rows_are_counted(files, labelled):
    labels, lpath = labelled
    rows = [score_row(key(r), float(i)) for i, r in enumerate(labels)]
    rows[3]["score"] = None
    _expect("EVAL.MISSING_SCORE", _run, files, lpath, files.write("s.jsonl", rows))
    rows[3]["error_code"] = "INPUT.REF_MISMATCH"
    payload = _run(files, lpath, files.write("s.jsonl", rows))
    counts = payload["benchmarks"][0]["counts"]
    assert counts["primary_not_scored"] == {"INPUT.REF_MISMATCH": 1} and counts["evaluated"] == 11
    assert any("not scored by the primary scorer (INPUT.REF_MISMATCH: 1)" in f for f in payload["negative_findings"])


def test_duplicate_keys_in_scores_and_labels(files, labelled):
    labels, lpath = labelled
    rows = [score_row(key(r), 0.5) for r in labels] + [score_row(key(labels[0]), 0.7)]
    _expect("EVAL.DUPLICATE_KEY", _run, files, lpath, files.write("s.jsonl", rows))
    lower = dict(labels[1], alt=labels[1]["alt"].lower())  # same key after upper-casing
    _expect("EVAL.DUPLICATE_KEY", _run, files, files.write("l.jsonl", labels + [lower]), files.scores(labels, lambda r: 0.0))


@pytest.mark.parametrize("mode,value", [("binary", 2), ("binary", "pathogenic"), ("binary", True), ("binary", 0.5), ("spearman", "high"), ("spearman", None)])
def test_labels_outside_the_allowed_set(files, mode, value):
    labels = synthetic_labels(6, mode, seed=2)
    labels[2]["label"] = value
    code = "EVAL.MISSING_FIELD" if value is None else "EVAL.LABEL_VALUE"
    _expect(code, _run, files, files.write("l.jsonl", labels), files.scores(labels, lambda r: 0.0), mode=mode)


def test_nan_label_in_spearman_mode(files):
    labels = synthetic_labels(6, "spearman", seed=2)
    labels[1]["label"] = math.nan
    _expect("EVAL.LABEL_VALUE", _run, files, files.write("l.jsonl", labels), files.scores(labels, lambda r: 0.0), mode="spearman")


def test_mismatched_key_sets_fail_unless_allowed_then_are_counted(files, labelled):
    labels, lpath = labelled
    scores = files.scores(labels[:-2], lambda r: r["label"] + 0.1 * r["pos"] % 3)
    base = files.baseline(labels[1:], lambda r: 0.3)
    err = _expect("EVAL.KEY_SET_MISMATCH", _run, files, lpath, scores, baseline=base)
    assert "2 of 12" in err.message
    payload = _run(files, lpath, scores, baseline=base, overrides={"allow_key_mismatch": True})
    counts = payload["benchmarks"][0]["counts"]
    assert (counts["primary_missing"], counts["baseline_missing"], counts["evaluated"]) == (2, 1, 9)
    findings = "\n".join(payload["negative_findings"])
    assert "2 of 12 labelled variants" in findings and "absent from the primary score file" in findings
    assert "1 of 12 labelled variants" in findings and "absent from the baseline score file" in findings


def test_generator_markers_are_enforced(files, labelled):
    labels, lpath = labelled
    wrong = files.write("s.jsonl", [dict(score_row(key(r), 0.1), generated_by="someone-else") for r in labels])
    err = _expect("EVAL.GENERATED_BY", _run, files, lpath, wrong)
    assert "'geno-lewm-score'" in err.message
    good = files.scores(labels, lambda r: 0.1)
    swapped = files.write("b.jsonl", [score_row(key(r), 0.1) for r in labels])  # primary rows passed as baseline
    err = _expect("EVAL.GENERATED_BY", _run, files, lpath, good, baseline=swapped)
    assert "geno-lewm-carbon-baseline" in err.message


def test_single_class_labels_and_mixed_models(files):
    labels = [dict(r, label=1) for r in synthetic_labels(5, "binary", seed=0)]
    _expect("EVAL.SINGLE_CLASS", _run, files, files.write("l.jsonl", labels), files.scores(labels, lambda r: 0.1))
    labels = synthetic_labels(6, "binary", seed=0)
    rows = [score_row(key(r), 0.1, model_id=f"m{i % 2}") for i, r in enumerate(labels)]
    _expect("EVAL.MIXED_MODEL", _run, files, files.write("l.jsonl", labels), files.write("s.jsonl", rows))


def test_bad_json_line(files, labelled):
    labels, lpath = labelled
    p = files.scores(labels, lambda r: 0.1)
    p.write_text(p.read_text() + "{not json\n")
    _expect("EVAL.BAD_JSON", _run, files, lpath, p)


def test_paths_outside_the_artifact_root_are_rejected(files, labelled, tmp_path_factory):
    labels, lpath = labelled
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "scores.jsonl"
    elsewhere.write_text("".join(json.dumps(score_row(key(r), 0.1)) + "\n" for r in labels))
    _expect("INPUT.PATH_OUTSIDE_ROOT", _run, files, lpath, elsewhere)
    _expect("INPUT.PATH_OUTSIDE_ROOT", _run, files, lpath, files.scores(labels, lambda r: 0.1), references={"checkpoint": str(elsewhere)})
    assert not (files.root / "out").exists()


def test_incomplete_baseline_flags_are_a_usage_error(files, labelled, capsys):
    labels, lpath = labelled
    scores = files.scores(labels, lambda r: 0.1)
    rc = _cli(files, scores, lpath, "--baseline-scores-jsonl", str(scores))
    assert rc == 2 and "error[INPUT.USAGE]" in capsys.readouterr().err


def test_cli_exit_code_and_error_form_for_eval_errors(files, labelled, capsys):
    labels, lpath = labelled
    rows = [score_row(key(r), 0.1) for r in labels] * 2
    rc = _cli(files, files.write("s.jsonl", rows), lpath, "--bootstrap", "10")
    err = capsys.readouterr().err
    assert rc == 6 and err.startswith("error[EVAL.DUPLICATE_KEY]") and "\n\nhint: " in err and "Traceback" not in err
    assert not (files.root / "m.json").exists()


def test_eval_config_is_closed_and_range_checked(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("bootstrap: 10\nbootstarp: 5\n")
    with pytest.raises(ConfigError) as exc:
        load_eval_config(bad)
    assert "bootstarp" in exc.value.message
    bad.write_text("confidence_level: 1.5\n")
    with pytest.raises(ConfigError):
        load_eval_config(bad)
    with pytest.raises(InputError):
        load_eval_config(tmp_path / "absent.yaml")


def test_vcf_labels_via_info_field(files):
    from geno_lewm.resources import example_path

    vcf = files.root / "demo.vcf"
    vcf.write_bytes(example_path("mt_known_variants.vcf").read_bytes())
    labels = [json.loads(x) for x in example_path("mt_known_variants.labels.jsonl").read_text().splitlines()]
    scores = files.scores(labels, lambda r: float(r["label"]) + r["pos"] / 1e5)
    payload = _run(files, vcf, scores, label_field="LABEL")
    bench = payload["benchmarks"][0]
    assert bench["class_balance"] == {"positive": 7, "negative": 10, "positive_fraction": 7 / 17}
    assert payload["rows"][0]["value"] == 1.0
    _expect("EVAL.MISSING_FIELD", _run, files, vcf, scores, label_field="NOPE")
    cfg = files.root / "cfg.yaml"
    cfg.write_text("binary_label_map: {pathogenic: 1}\n")
    err = _expect("EVAL.LABEL_VALUE", _run, files, vcf, scores, label_field="LABEL", eval_config=str(cfg))
    assert "'benign'" in err.message
