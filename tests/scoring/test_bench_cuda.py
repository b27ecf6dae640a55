"""bench.cuda: the CUDA benchmark's whole path, rehearsed on the CPU at a tiny shape."""

from __future__ import annotations

import json
from pathlib import Path


def test_bench_cuda_builds_a_random_stand_in_trains_and_packages_it(tmp_path: Path) -> None:
    from bench.cuda import main
    from bench.report import TINY_TIMINGS_NOTE, timings_note
    from geno_lewm.package import verify_package

    out = tmp_path / "cuda.json"
    argv = ["--package-dir", str(tmp_path / "w"), "--device", "cpu", "--hidden", "32", "--layers", "1", "--heads", "2", "--kv-heads", "1"]
    argv += ["--intermediate", "64", "--window-bp", "1200", "--batch-sizes", "1", "2", "--reps", "1", "--train-steps", "2", "--train-snvs", "48"]
    argv += ["--calib-null", "40", "--reference-kb", "60", "--output-json", str(out)]
    assert main(argv) == 0
    doc = json.loads(out.read_text())
    assert doc["device"] == "cpu" and doc["gpu"] is None and doc["random_init"] is True and doc["stand_in"] is True
    assert [r["batch_windows"] for r in doc["encoder_throughput"]["batches"]] == [1, 2]
    assert all(r["windows_per_s"] > 0 and r["host_copy_windows_per_s"] > 0 for r in doc["encoder_throughput"]["batches"])
    assert doc["encoder_throughput"]["tokens_per_window"] == 1200 // 6 + 2
    train = doc["training"]
    assert train["precision"] == "fp32" and train["train_examples"] > 0 and train["seconds_per_step"] > 0
    assert str(tmp_path) not in out.read_text()  # no machine path in a committed result
    package = tmp_path / "w" / "package"
    manifest = verify_package(package)
    assert manifest["stand_in"] is True and manifest["encoder"]["id"] == "carbon-shaped-random-h32-l1"
    assert any(a["role"] == "calibration" for a in manifest["artifacts"])
    assert "Random-initialised" in timings_note(package) and timings_note(tmp_path / "nowhere") == TINY_TIMINGS_NOTE


def test_variant_cost_splits_a_scoring_process_and_profiles_it(tmp_path: Path, model_dir: Path, examples) -> None:
    from bench.variant_cost import main

    out = tmp_path / "cost.json"
    assert (
        main(
            [
                "--model-dir",
                str(model_dir),
                "--fasta",
                str(examples["fasta"]),
                "--max-bp",
                "400",
                "--device",
                "cpu",
                "--torch-profile",
                "--output-json",
                str(out),
            ]
        )
        == 0
    )
    doc = json.loads(out.read_text())
    assert doc["variants"] == 1200 and doc["device"] == "cpu" and doc["predictor_calls"] >= 1200 // 64
    split = doc["per_variant_us"]
    parts = ["score (place, pool, encode, predict)", "rows, calibration, receipts, JSON"]
    assert all(split[k] > 0 for k in parts) and abs(sum(split[k] for k in parts) - split["total"]) <= 0.2
    inner = ["  predictor calls incl. edit context", "  encoder calls", "  placing, pooling, memo tables"]
    assert abs(sum(split[k] for k in inner) - split[parts[0]]) <= 0.2 and split[inner[0]] > 0
    prof = doc["torch_profile"]
    assert prof["top_self_cpu"] and any(r["op"] == "aten::copy_" for r in prof["traffic"])
