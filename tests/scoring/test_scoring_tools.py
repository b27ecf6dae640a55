"""Baseline, rollout, calibration lookup, terminal demo and benchmark smoke tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ledger.errors import InputError
from tests.scoring.conftest import chrm, run_inference_bench, write_vcf


def test_calibration_backs_off_small_buckets() -> None:
    from geno_lewm.calibration import CalibrationTable, Features

    feats = [Features(0.3 + 0.001 * i, "other") for i in range(60)] + [Features(0.5, "cpg")] * 3
    table = CalibrationTable.build([float(i) for i in range(63)], feats, min_count=10)
    look = table.lookup(10.0, Features(0.5, "cpg"))
    assert look.bucket.endswith("/*") or look.bucket == "*"  # the 3-count cpg bucket backs off
    assert 0 <= look.percentile <= 100 and 0 < look.confidence < 1
    assert table.lookup(1e9, Features(0.31, "other")).percentile == 100.0


def test_carbon_baseline_cli_scopes_cache_and_records_relative_paths(tmp_path: Path, model_dir: Path, examples) -> None:
    from geno_lewm.cli.carbon_baseline import main

    root = tmp_path / "root"
    root.mkdir()
    shutil.copytree(model_dir / "encoder", root / "carbon")
    shutil.copyfile(examples["fasta"], root / "ref.fa")
    shutil.copyfile(examples["vcf"], root / "in.vcf")
    args = [
        "--artifact-root",
        str(root),
        "--vcf",
        "in.vcf",
        "--fasta",
        str(root / "ref.fa"),
        "--carbon-model-dir",
        "carbon",
        "--output-scores",
        "out/base.jsonl",
        "--logp-cache-jsonl",
        "out/cache.jsonl",
        "--device",
        "cpu",
    ]
    assert main(args) == 0
    rows = [json.loads(x) for x in (root / "out/base.jsonl").read_text().splitlines()]
    assert len(rows) == 17 and all(r["generated_by"] == "geno-lewm-carbon-baseline" and isinstance(r["carbon_zero_shot_score"], float) for r in rows)
    summary = json.loads((root / "out/base.summary.json").read_text())
    assert summary["inputs"] == {"carbon_model_dir": "carbon", "vcf": "in.vcf", "fasta": "ref.fa"}
    assert summary["outputs"]["logp_cache"] == "out/cache.jsonl"
    cache = [json.loads(x) for x in (root / "out/cache.jsonl").read_text().splitlines()]
    keys = [c["sequence_sha256"] for c in cache]
    assert len(keys) == len(set(keys)) and all(c["scope"]["model"] == "tiny-carbon" for c in cache)
    # second run reuses the cache and gives the same rows
    first = (root / "out/base.jsonl").read_bytes()
    assert main(args) == 0
    assert (root / "out/base.jsonl").read_bytes() == first
    assert json.loads((root / "out/base.summary.json").read_text())["work"]["encoder_calls"] == 0
    # a duplicated key within a scope is refused
    (root / "out/cache.jsonl").write_text((root / "out/cache.jsonl").read_text() + json.dumps(cache[0]) + "\n")
    assert main(args) == 2
    # absolute paths outside the root are refused
    bad = list(args)
    bad[bad.index("in.vcf")] = str(examples["vcf"])
    assert main(bad) == 2


def test_baseline_cache_keeps_other_scopes(tmp_path: Path) -> None:
    from geno_lewm.baseline import LogpCache

    path = tmp_path / "c.jsonl"
    a = LogpCache(path, model="m1", revision="r1", encoder_hash="h")
    a.put("ACGT", -1.5)
    a.save()
    b = LogpCache(path, model="m2", revision="r1", encoder_hash="h")
    assert b.get("ACGT") is None
    b.put("ACGT", -2.0)
    b.save()
    assert LogpCache(path, model="m1", revision="r1", encoder_hash="h").get("ACGT") == -1.5


def test_rollout_metrics_rows_for_both_tracks(tmp_path: Path, model_dir: Path, examples) -> None:
    from geno_lewm.cli.rollout import main

    rows = []
    for p in (1000, 1010, 1020, 1040):
        b = chrm(examples, p, p)
        rows.append(f"chrM\t{p}\t.\t{b}\t{'A' if b != 'A' else 'C'}\t.\tPASS\t.\tGT\t1|0\t1|1")
    vcf = write_vcf(tmp_path / "phased.vcf", rows, samples=["S1", "S2"])
    out = tmp_path / "rollout.json"
    assert (
        main(
            [
                "--model-dir",
                str(model_dir),
                "--fasta",
                str(examples["fasta"]),
                "--vcf",
                str(vcf),
                "--output-json",
                str(out),
                "--synthetic-chains",
                "4",
                "--steps",
                "3",
                "--k",
                "3",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    doc = json.loads(out.read_text())
    assert doc["generated_by"] == "geno-lewm-rollout" and doc["schema_version"] == "1.2.0"
    assert doc["settings"]["mode"] == "chained"  # a model without edit context keeps the chained rollout
    by = {(r["track"], r["metric"]): r for r in doc["rows"]}
    assert set(by) == {(t, m) for t in ("phased_haplotype", "synthetic_edit_chain") for m in ("cosine", "l2", "recall_at_k")}
    assert by[("phased_haplotype", "cosine")]["n"] == 4 + 4 + 4  # S1|0, S2|0, S2|1 chains: 4 edits each
    assert by[("synthetic_edit_chain", "l2")]["n"] == 12 and by[("synthetic_edit_chain", "recall_at_k")]["k"] == 3
    for r in doc["rows"]:
        assert r["baseline"] == "source_state" and r["baseline_value"] is not None
        eps = 1e-6  # values and bounds are rounded to canonical significant digits
        assert r["ci_low"] - eps <= r["value"] <= r["ci_high"] + eps
        assert r["delta_ci_low"] - eps <= r["delta_vs_baseline"] <= r["delta_ci_high"] + eps
    # the eval aggregator reads exactly what the rollout CLI wrote: both tracks, source-state baseline beside each
    from geno_lewm.eval.aggregate import EvalAllRequest, run_eval_all

    agg = run_eval_all(
        EvalAllRequest(
            metrics_json=[str(out)], output_metrics=str(tmp_path / "eval_metrics.json"), output_report=str(tmp_path / "eval_report.md"), require_rollout=True
        )
    )
    assert {b["benchmark"] for b in agg["benchmarks"]} == {"rollout_phased_haplotype", "rollout_synthetic_edit_chain"}
    assert all(r["baselines"][0]["baseline"] == "source_state" for r in agg["rows"])
    assert "source_state" in (tmp_path / "eval_report.md").read_text()


def test_terminal_demo_writes_verified_evidence(tmp_path: Path, model_dir: Path, examples) -> None:
    from geno_lewm.scoring.demo_run import run_terminal_demo

    out = tmp_path / "demo"
    out.mkdir()
    (out / "scores.jsonl").write_text("stale\n")
    man = run_terminal_demo(model_dir, examples["vcf"], examples["fasta"], out, artifact_root=tmp_path.parent.parent, device="cpu")
    assert man["status"] == "passed" and man["exit_code"] == 0
    assert man["score_receipt_batch"]["verified"]["receipts"] == 17
    assert "stale" not in (out / "scores.jsonl").read_text()
    text = (out / "terminal_demo_transcript.md").read_text()
    for needle in ("Generated:", "Exit code: 0", "Model release:", "Model id:", "model-quality claims require the published evaluation report".lower()):
        assert needle.lower() in text.lower()
    blob = (out / "terminal_demo_manifest.json").read_text() + text + (out / "runtime_preflight_report.json").read_text()
    assert str(tmp_path.parent.parent) not in blob  # package-local paths only
    pre = json.loads((out / "runtime_preflight_report.json").read_text())
    assert pre["fixture_manifest_allowed"] is False and pre["model"]["model_id"] == man["model_id"]


def test_terminal_demo_rejects_mutated_preflight(tmp_path: Path, model_dir: Path, examples, monkeypatch) -> None:
    from geno_lewm.scoring import demo_run
    from ledger.errors import ReleaseError

    real = demo_run._preflight
    calls = {"n": 0}

    def drifting(*a, **kw):
        calls["n"] += 1
        doc = real(*a, **kw)
        if calls["n"] > 1:
            doc["backend"] = {**doc["backend"], "device": "cuda"}
        return doc

    monkeypatch.setattr(demo_run, "_preflight", drifting)
    with pytest.raises(ReleaseError):
        demo_run.run_terminal_demo(model_dir, examples["vcf"], examples["fasta"], tmp_path / "d", device="cpu")
    assert not (tmp_path / "d" / "terminal_demo_manifest.json").exists()


def test_inference_benchmark_reports_ratio_and_one_pass_per_window(tmp_path: Path, model_dir: Path, examples) -> None:
    out = tmp_path / "efficiency_report.json"
    flags = ("--vcf", str(examples["vcf"]), "--window", "chrM:2001-2060", "--release-efficiency")
    assert run_inference_bench(model_dir, examples["fasta"], out, *flags) == 0
    doc = json.loads(out.read_text())
    assert doc["generated_by"] == "tools.release.efficiency_report" and doc["kind"] == "efficiency_report"
    assert doc["one_encoder_pass_per_window"] is True
    assert float(doc["speedup_vs_baseline"]) > 0 and float(doc["baseline"]["variants_per_s"]) > 0
    inputs = {i["name"]: i for i in doc["inputs"]}
    assert inputs["window"]["label"] == "inline:chrM:2001-2060"
    assert not inputs["vcf"]["path"].startswith("/") and inputs["vcf"]["sha256"]
    assert not any(a.startswith("/") for a in doc["command"])  # no absolute path in the command
    # the one normaliser: what bench wrote is already the release evidence (re-normalising changes nothing)
    from geno_lewm.efficiency import build_efficiency_report
    from tools.release.efficiency_report import normalize

    assert build_efficiency_report(doc, root=model_dir) == doc == normalize(doc, artifact_root=model_dir)
    json.loads(out.read_text(), parse_float=lambda token: pytest.fail(f"float {token} in the efficiency report"))  # numbers are decimal strings


def test_bad_region_and_shard_flags_are_usage_errors(tmp_path: Path, model_dir: Path, examples) -> None:
    from geno_lewm.scoring.run import score_vcf

    for kw in ({"region": "chrM:10-5"}, {"shard": "0/2"}):
        with pytest.raises(InputError):
            score_vcf(
                model_dir, examples["vcf"], examples["fasta"], output_scores=tmp_path / "s", output_receipts=tmp_path / "r", progress=False, device="cpu", **kw
            )
