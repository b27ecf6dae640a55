"""Bad inputs to release steps give typed errors and leave no partial outputs."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from ledger.errors import ConfigError, InputError, ProvenanceError, ReleaseError
from tools.release import changelog, check_sdist_assets, efficiency_report, training_run
from tools.release.dataset.packaging import package_dataset, verify_dataset
from ledger.reports import load_json

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> dict:
    return {
        "single_variant_latency_ms": {"p50": 1.25, "p95": 2.5},
        "batched_throughput_variants_per_s": 812.3,
        "peak_memory_bytes": 123456,
        "command": ["python", "-m", "bench.inference", "--model-dir", "/home/me/model"],
        "hardware": {"cpu": "2 cores"},
        "runtime": {"torch": "2.x"},
        "inputs": [{"label": "inline: 17 demo variants"}],
        "samples": 20,
        "warmup": 3,
        "limitations": ["CPU only"],
    }


def test_efficiency_report_normalises_and_rejects_missing_fields(tmp_path):
    doc = efficiency_report.write_efficiency_report(tmp_path / "efficiency_report.json", _bench(), artifact_root=tmp_path)
    assert doc["generated_by"] == "tools.release.efficiency_report"
    assert doc["batched_throughput_variants_per_s"] == "812.3" and doc["command"][-1] == "<outside-root>/model"
    bad = _bench()
    del bad["limitations"]
    with pytest.raises(InputError) as exc:
        efficiency_report.write_efficiency_report(tmp_path / "e2.json", bad)
    assert exc.value.code == "INPUT.BAD_MEASUREMENT" and not (tmp_path / "e2.json").exists()


def test_dataset_package_rejects_bad_metadata_and_writes_nothing(dataset_workdir):
    d = dataset_workdir / "dataset"
    before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    meta = load_json(d / "dataset_metadata.json")
    meta["files"]["splits"]["eval"] = "/home/me/eval.vcf"
    with pytest.raises(ConfigError):
        package_dataset(d, meta)
    meta = load_json(d / "dataset_metadata.json")
    meta["files"]["splits"]["eval"] = "variants/train.vcf"  # the same file in two splits: leakage
    with pytest.raises(ReleaseError) as exc:
        package_dataset(d, meta)
    assert exc.value.code == "RELEASE.SPLIT_LEAKAGE"
    assert {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()} == before


def test_verify_dataset_rejects_wrong_generated_by_and_duplicate_checksums(dataset_workdir):
    d = dataset_workdir / "dataset"
    sums = (d / "SHA256SUMS").read_text()
    (d / "SHA256SUMS").write_text(sums + sums.splitlines()[0] + "\n")
    with pytest.raises(ProvenanceError) as exc:
        verify_dataset(d)
    assert exc.value.code == "PROVENANCE.BAD_CHECKSUMS"
    (d / "SHA256SUMS").write_text(sums)
    doc = json.loads((d / "split_integrity.json").read_text())
    doc["generated_by"] = "hand-written"
    (d / "split_integrity.json").write_text(json.dumps(doc))
    with pytest.raises(ProvenanceError):
        verify_dataset(d)


def _fake_run(tmp_path: Path, preflight: dict | None) -> Path:
    run = tmp_path / "run"
    run.mkdir(parents=True)
    (run / "training_run.json").write_text(json.dumps({"run_id": "r1", "stand_in": True}))
    (run / "predictor.safetensors").write_bytes(b"\0" * 64)
    if preflight is not None:
        (run / "training_preflight_report.json").write_text(json.dumps(preflight))
    return run


def _preflight_ok() -> dict:
    files = [{"path": n, "sha256": "b" * 64, "size": 1} for n in training_run.DATASET_CORE]
    return {"ok": True, "dataset": {"root": "dataset_dir", "files": files}}


def test_training_run_package_binds_preflight_and_detects_stale_card(tmp_path):
    run = _fake_run(tmp_path, _preflight_ok())
    doc = training_run.package_run(run, {"release_id": "geno-lewm-v0.1.0-tiny-standin-r1", "extra_files": [training_run.PREFLIGHT]})
    assert doc["generated_by"] == "tools.release.training_run" and doc["preflight"]["path"] == training_run.PREFLIGHT
    training_run.verify_run(run)
    card = run / training_run.CARD
    card.write_text(card.read_text() + "edited\n")
    with pytest.raises(ProvenanceError):
        training_run.verify_run(run)


def test_training_run_rejects_missing_preflight_and_bad_preflight(tmp_path):
    run = _fake_run(tmp_path / "a", None)
    with pytest.raises(ConfigError):
        training_run.package_run(run, {"extra_files": []})
    with pytest.raises(ReleaseError):
        training_run.package_run(run, {"extra_files": [training_run.PREFLIGHT]})
    assert not (run / training_run.MANIFEST).exists()
    bad = _preflight_ok()
    bad["dataset"]["files"] = bad["dataset"]["files"][:2]
    run2 = _fake_run(tmp_path / "b", bad)
    with pytest.raises(ProvenanceError) as exc:
        training_run.package_run(run2, {"extra_files": [training_run.PREFLIGHT]})
    assert exc.value.code == "PROVENANCE.PREFLIGHT_EVIDENCE" and not (run2 / training_run.MANIFEST).exists()


def test_changelog_sorts_conventional_subjects():
    text = changelog.draft(
        [
            "feat(score): add parquet output",
            "fix: REF check off by one",
            "Deprecate --old-flag",
            "remove legacy loader",
            "security: pin sigstore",
            "refactor ledger views",
        ],
        "0.2.0",
    )
    assert text.startswith("## [0.2.0]")
    for section, line in (
        ("Added", "- add parquet output"),
        ("Fixed", "- REF check off by one"),
        ("Deprecated", "- Deprecate --old-flag"),
        ("Removed", "- remove legacy loader"),
        ("Security", "- pin sigstore"),
        ("Changed", "- refactor ledger views"),
    ):
        assert f"### {section}\n{line}" in text


def _archive(path: Path, names: list[str]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for n in names:
            info = tarfile.TarInfo(f"geno_lewm-0.1.0/{n}")
            info.size = 1
            tf.addfile(info, io.BytesIO(b"x"))
    return path


_CHECKOUT = [
    "bench/__init__.py",
    "configs/first_experiment/dataset-snapshot-snv.json",
    "configs/first_experiment/train.yaml",
    "tools/x.py",
    "docs/a.md",
    "rfcs/README.md",
    "rfcs/RFC-0001-first.md",
    "rfcs/RFC-0002-second.md",
    "examples/a.vcf",
    "README.md",
    "ROADMAP.md",
    "AGENTS.md",
]


@pytest.mark.parametrize("use_git", [True, False])
def test_sdist_asset_check_compares_every_checkout_file(tmp_path, use_git):
    import subprocess

    root = tmp_path / "checkout"
    for n in [*_CHECKOUT, "tools/__pycache__/x.cpython-311.pyc"]:
        (root / n).parent.mkdir(parents=True, exist_ok=True)
        (root / n).write_text("x")
    if use_git:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        (root / ".gitignore").write_text("__pycache__/\n")
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    assert check_sdist_assets.checkout_assets(root) == sorted(_CHECKOUT)  # caches are not assets
    good = _archive(tmp_path / "good.tar.gz", _CHECKOUT)
    assert check_sdist_assets.check_sdist_assets(root, sdist=good)["missing"] == []
    # rfcs/ holds only README.md: the folder is present, but each RFC the checkout has is missing
    only_readme = _archive(tmp_path / "only-readme.tar.gz", [n for n in _CHECKOUT if not n.startswith("rfcs/RFC-")])
    with pytest.raises(ReleaseError) as exc:
        check_sdist_assets.check_sdist_assets(root, sdist=only_readme)
    assert exc.value.code == "RELEASE.SDIST_ASSETS"
    assert "rfcs/RFC-0001-first.md" in exc.value.message and "rfcs/RFC-0002-second.md" in exc.value.message
    # one first-experiment config and the root AGENTS.md gone
    bad = _archive(tmp_path / "bad.tar.gz", [n for n in _CHECKOUT if n not in ("configs/first_experiment/train.yaml", "AGENTS.md")])
    with pytest.raises(ReleaseError, match=r"lacks 2 release asset\(s\).*AGENTS.md.*configs/first_experiment/train.yaml"):
        check_sdist_assets.check_sdist_assets(root, sdist=bad)


def test_this_checkouts_rfcs_must_each_be_in_the_sdist(tmp_path):
    assets = check_sdist_assets.checkout_assets(ROOT)
    rfcs = [a for a in assets if a.startswith("rfcs/RFC-")]
    assert rfcs and "rfcs/README.md" in assets and "configs/first_experiment/dataset-snapshot-snv.json" in assets
    assert any(a.startswith("docs/") for a in assets) and any(a.startswith("tools/release/") for a in assets)
    archive = _archive(tmp_path / "s.tar.gz", [a for a in assets if a not in rfcs])
    with pytest.raises(ReleaseError) as exc:
        check_sdist_assets.check_sdist_assets(ROOT, sdist=archive)
    assert all(r in exc.value.message for r in rfcs[:12])


def test_real_sdist_carries_release_assets():
    result = check_sdist_assets.check_sdist_assets(ROOT)
    assert result["missing"] == [] and result["members"] > 50
