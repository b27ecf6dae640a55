"""Training CLI: config schema, preflight, end-to-end run, resume identity and bitwise resume."""

from __future__ import annotations

import json

import msgspec
import pytest
import yaml

from geno_lewm.cli.train import main
from geno_lewm.resources import config_path, example_path
from geno_lewm.train.loop import train_run
from tests.model.conftest import small_config


def _write_cfg(path, cfg):
    from geno_lewm.train.config import resolved_payload

    path.write_text(yaml.safe_dump(resolved_payload(cfg)))
    return path


def test_committed_configs_validate_and_unknown_keys_are_named(tmp_path):
    from geno_lewm.train.config import load_config

    assert load_config(config_path("first_experiment", "train-carbon-500m-snv.yaml")).runtime.device == "cuda"
    assert load_config(config_path("train-tiny-cpu.yaml")).runtime.device == "cpu"
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim:\n  learning_rate: 0.1\n")
    with pytest.raises(Exception) as exc:
        load_config(bad)
    assert exc.value.code == "CONFIG.UNKNOWN_KEY" and "optim.learning_rate" in exc.value.message


def test_preflight_report_names_failed_checks_and_is_public_safe(tiny_model_dir, tmp_path, capsys):
    run = tmp_path / "pf"
    # no accelerator has a petabyte: the check fails on a CUDA machine as on a CPU-only one
    code = main(["--carbon-preflight", "--carbon-model-dir", str(tiny_model_dir), "--run-dir", str(run), "--min-gpu-gib", "1000000"])
    report = json.loads((run / "training_preflight_report.json").read_text())
    assert code == 5 and report["ok"] is False and "accelerator" in report["failed_checks"]
    assert "TRAINING.PREFLIGHT_FAILED" in capsys.readouterr().err
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "dataset_package.json").write_text("{}")
    (ds / "SHA256SUMS").write_text("0" * 64 + "  dataset_package.json\n")
    code = main(["--carbon-preflight", "--carbon-model-dir", str(tiny_model_dir), "--run-dir", str(run), "--dataset-dir", str(ds), "--allow-cpu"])
    report = json.loads((run / "training_preflight_report.json").read_text())
    assert code == 5 and report["failed_checks"] == ["dataset_evidence"]
    assert report["generated_by"] and report["schema_version"] == "1.0.0"
    assert report["config"]["hash"] and report["carbon_model"]["stand_in"] is True
    text = json.dumps(report)
    assert str(tmp_path) not in text and "/home" not in text
    code = main(["--carbon-preflight", "--carbon-model-dir", str(tiny_model_dir), "--run-dir", str(run), "--allow-cpu"])
    assert code == 0


def test_cli_trains_tiny_end_to_end_into_a_verified_package(tiny_model_dir, tmp_path, capsys):
    from geno_lewm.package import verify_package

    cfg = _write_cfg(tmp_path / "c.yaml", small_config(steps=12, every=6))
    run = tmp_path / "run"
    code = main(["--carbon-train", "--carbon-model-dir", str(tiny_model_dir), "--run-dir", str(run), "--training-config", str(cfg), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert verify_package(run)["stand_in"] is True
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["event"] == "heldout" and any(r.get("step") == 12 for r in rows)
    assert main(["--carbon-train", "--carbon-model-dir", str(tiny_model_dir), "--run-dir", str(run), "--training-config", str(cfg)]) == 5  # RUN_EXISTS
    code = main(
        [
            "--carbon-train",
            "--package-release-run",
            "--carbon-model-dir",
            str(tiny_model_dir),
            "--run-dir",
            str(tmp_path / "r2"),
            "--training-config",
            str(cfg),
            "--no-progress",
        ]
    )
    try:
        import tools.release.training_run  # noqa: F401
    except ImportError:
        assert code == 9 and "RELEASE.PACKAGER_MISSING" in capsys.readouterr().err


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tiny_model_dir, tmp_path):
    cfg = small_config(steps=20, every=8)
    kw = dict(
        model_dir=tiny_model_dir, fasta=example_path("rCRS_chrM.fa"), vcf=example_path("mt_known_variants.vcf"), progress=False, cache_dir=tmp_path / "cache"
    )
    full = train_run(cfg, run_dir=tmp_path / "full", **kw)
    part = train_run(cfg, run_dir=tmp_path / "part", stop_after_steps=8, **kw)
    assert part["status"] == "stopped" and not (tmp_path / "part" / "manifest.json").exists()
    done = train_run(cfg, run_dir=tmp_path / "part", resume_from=tmp_path / "part" / "predictor_checkpoint.pt", **kw)
    for name in ("predictor.safetensors", "action_encoder.safetensors"):
        assert (tmp_path / "full" / name).read_bytes() == (tmp_path / "part" / name).read_bytes()
    assert done["resumed_from"][0]["step"] == 8 and done["status"] == "completed"
    assert full["config_hash"] == done["config_hash"]
    metrics = (tmp_path / "part" / "metrics.jsonl").read_text()
    assert '"event": "resumed"' in metrics and "resumed from predictor_checkpoint.pt at step 8" in (tmp_path / "part" / "train.log").read_text()


def test_resume_rejects_a_checkpoint_from_another_run_config_or_split(tiny_model_dir, tmp_path):
    cfg = small_config(steps=10, every=5)
    kw = dict(
        model_dir=tiny_model_dir, fasta=example_path("rCRS_chrM.fa"), vcf=example_path("mt_known_variants.vcf"), progress=False, cache_dir=tmp_path / "cache"
    )
    train_run(cfg, run_dir=tmp_path / "a", stop_after_steps=5, **kw)
    train_run(cfg, run_dir=tmp_path / "b", stop_after_steps=5, **kw)
    ckpt_a = tmp_path / "a" / "predictor_checkpoint.pt"
    cases = {
        "run id": (cfg, tmp_path / "b"),
        "config identity": (msgspec.structs.replace(cfg, optim=msgspec.structs.replace(cfg.optim, lr=0.01)), tmp_path / "a"),
        "seed split": (msgspec.structs.replace(cfg, data=msgspec.structs.replace(cfg.data, split_block_bp=3000)), tmp_path / "a"),
    }
    for label, (c, run) in cases.items():
        with pytest.raises(Exception) as exc:
            train_run(c, run_dir=run, resume_from=ckpt_a, **kw)
        assert exc.value.code == "TRAINING.RESUME_MISMATCH" and label in exc.value.message
    other_vcf = tmp_path / "other.vcf"
    other_vcf.write_text(
        example_path("mt_known_variants.vcf")
        .read_text()
        .replace("chrM\t263\t", "chrM\t264\t")
        .replace("\tA\tG\t.\tPASS\tLABEL=benign;NOTE=common_rCRS_private_allele\nchrM\t750", "\tC\tG\t.\tPASS\tLABEL=benign\nchrM\t750", 1)
    )
    with pytest.raises(Exception) as exc:
        train_run(cfg, run_dir=tmp_path / "a", resume_from=ckpt_a, **{**kw, "vcf": other_vcf})
    assert exc.value.code == "TRAINING.RESUME_MISMATCH" and "dataset snapshot" in exc.value.message
