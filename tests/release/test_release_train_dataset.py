"""geno-lewm-train reads the dataset package's manifest; its preflight verifies the evidence set."""

from __future__ import annotations

import json
import shutil

import pytest

from geno_lewm.cli.train import dataset_inputs
from ledger.errors import GenoError
from ledger.identity import sha256_file


def test_train_inputs_come_from_the_dataset_manifest(dataset_workdir, tmp_path):
    d = dataset_workdir / "dataset"
    fasta, vcf = dataset_inputs(d)
    assert fasta == d / "reference" / "rCRS_chrM.fa" and vcf == d / "variants" / "train.vcf"

    bare = tmp_path / "bare"
    bare.mkdir()
    assert dataset_inputs(bare) is None  # no manifest: the caller falls back to the single-file lookup
    man = json.loads((d / "dataset_manifest.json").read_text())
    del man["splits"]["train"]
    (bare / "dataset_manifest.json").write_text(json.dumps(man))
    with pytest.raises(GenoError) as exc:
        dataset_inputs(bare)
    assert exc.value.code == "INPUT.DATASET_LAYOUT" and "'train'" in exc.value.message


def _dataset_check(run_dir):
    report = json.loads((run_dir / "training_preflight_report.json").read_text())
    return next(c for c in report["checks"] if c["name"] == "dataset_evidence")


def _preflight(dataset, run_dir):
    from geno_lewm.resources import config_path
    from geno_lewm.train.preflight import run_preflight

    try:  # no Carbon checkpoint here: that check fails, the dataset check is what is looked at
        run_preflight(
            training_config=config_path("train-tiny-cpu.yaml"), carbon_model_dir=run_dir / "no-model", run_dir=run_dir, dataset_dir=dataset, allow_cpu=True
        )
    except GenoError as err:
        assert err.code == "TRAINING.PREFLIGHT_FAILED"
    return _dataset_check(run_dir)


def test_preflight_verifies_the_dataset_package_and_rejects_stale_input_check(dataset_workdir, tmp_path):
    d = dataset_workdir / "dataset"
    ok = _preflight(d, tmp_path / "run1")
    assert ok["ok"] and "dataset package verified" in ok["detail"]

    # a stale input check: its recorded upstream identity no longer matches the package, while
    # SHA256SUMS is made to agree (so only the evidence-set verification can catch it)
    stale = tmp_path / "stale"
    shutil.copytree(d, stale)
    check_path = stale / "dataset_input_check_report.json"
    doc = json.loads(check_path.read_text())
    doc["sources"][0]["sha256"] = "0" * 64
    check_path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    sums = stale / "SHA256SUMS"
    new_digest = sha256_file(check_path)[0]
    sums.write_text(
        "".join(
            (f"{new_digest}  dataset_input_check_report.json\n" if line.endswith(" dataset_input_check_report.json") else line + "\n")
            for line in sums.read_text().splitlines()
        )
    )
    bad = _preflight(stale, tmp_path / "run2")
    assert not bad["ok"] and bad["code"].startswith("PROVENANCE.")
