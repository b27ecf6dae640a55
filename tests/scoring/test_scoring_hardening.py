"""Issue 16 regressions: every bad scoring input gets a typed error, and a failed run leaves no output behind."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
from pathlib import Path

import pytest

from geno_lewm.cli.score import main as score_main
from geno_lewm.cli.score import score_argv
from tests.scoring.conftest import chrm, write_vcf

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def _run(capsys, model_dir, vcf, fasta, out: Path, *extra: str) -> tuple[int, str]:
    argv = [*score_argv(model_dir, vcf, fasta, out / "s.jsonl", out / "r.jsonl"), *extra]
    rc = score_main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


def _files(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def test_plain_gzip_vcf_is_a_typed_error_naming_bgzip(tmp_path, capsys, model_dir, examples) -> None:
    vcf = tmp_path / "in.vcf.gz"
    vcf.write_bytes(gzip.compress(examples["vcf"].read_bytes()))
    out = tmp_path / "out"
    out.mkdir()
    rc, err = _run(capsys, model_dir, vcf, examples["fasta"], out, "--output-parquet", str(out / "s.parquet"))
    assert rc == 2 and "error[INPUT.NOT_BGZF]" in err and "bgzip" in err and "tabix" in err
    assert _files(out) == []


def test_pos_zero_with_output_vcf_is_an_error_row_and_every_output_is_written(tmp_path, capsys, model_dir, examples) -> None:
    ref = chrm(examples, 100, 100)
    vcf = write_vcf(tmp_path / "in.vcf", [f"chrM\t0\t.\tA\tG\t.\tPASS\t.", f"chrM\t100\t.\t{ref}\t{'A' if ref != 'A' else 'C'}\t.\tPASS\t."])
    out = tmp_path / "out"
    rc, err = _run(capsys, model_dir, vcf, examples["fasta"], out, "--output-vcf", str(out / "s.vcf.gz"), "--output-parquet", str(out / "s.parquet"))
    assert rc == 0, err
    rows = (out / "s.jsonl").read_text().splitlines()
    assert len(rows) == 2 and '"INPUT.OUTSIDE_CONTIG"' in rows[0]
    assert _files(out) == ["r.jsonl", "s.jsonl", "s.parquet", "s.vcf.gz", "s.vcf.gz.tbi"]


def test_output_scores_naming_a_directory_fails_before_work_and_leaves_nothing(tmp_path, capsys, model_dir, examples) -> None:
    out = tmp_path / "out"
    (out / "s.jsonl").mkdir(parents=True)
    rc, err = _run(
        capsys, model_dir, examples["vcf"], examples["fasta"], out, "--output-vcf", str(out / "a.vcf.gz"), "--output-parquet", str(out / "a.parquet")
    )
    assert rc == 4 and "error[RESOURCE.NOT_WRITABLE]" in err and "is a directory" in err
    assert _files(out) == ["s.jsonl"]  # only the directory that was already there


def test_output_under_a_file_is_not_writable(tmp_path, capsys, model_dir, examples) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc, err = _run(capsys, model_dir, examples["vcf"], examples["fasta"], tmp_path, "--output-parquet", str(blocker / "s.parquet"))
    assert rc == 4 and "RESOURCE.NOT_WRITABLE" in err
    assert not (tmp_path / "s.jsonl").exists() and not (tmp_path / "r.jsonl").exists()


def test_a_failure_while_writing_removes_every_staged_output(tmp_path, capsys, model_dir, examples) -> None:
    """An unsorted VCF fails inside the annotated-VCF writer: the scores, receipts and Parquet go too."""
    a, b = chrm(examples, 300, 300), chrm(examples, 200, 200)
    alt = lambda r: "A" if r != "A" else "C"  # noqa: E731
    vcf = write_vcf(tmp_path / "in.vcf", [f"chrM\t300\t.\t{a}\t{alt(a)}\t.\tPASS\t.", f"chrM\t200\t.\t{b}\t{alt(b)}\t.\tPASS\t."])
    out = tmp_path / "out"
    rc, err = _run(capsys, model_dir, vcf, examples["fasta"], out, "--output-vcf", str(out / "s.vcf.gz"), "--output-parquet", str(out / "s.parquet"))
    assert rc == 2 and "INPUT.VCF_UNSORTED" in err
    assert _files(out) == []


@pytest.mark.skipif(ROOT, reason="root ignores directory permissions")
def test_read_only_output_directory(tmp_path, capsys, model_dir, examples) -> None:
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        rc, err = _run(capsys, model_dir, examples["vcf"], examples["fasta"], out)
    finally:
        out.chmod(0o755)
    assert rc == 4 and "RESOURCE.NOT_WRITABLE" in err and _files(out) == []


def test_five_columns_and_bad_pos_name_the_line(tmp_path, capsys, model_dir, examples) -> None:
    ref = chrm(examples, 100, 100)
    good = f"chrM\t100\t.\t{ref}\t{'A' if ref != 'A' else 'C'}\t.\tPASS\t."
    for bad, words in (("chrM\t101\t.\tA\tG", "5 tab-separated columns"), ("chrM\tabc\t.\tA\tG\t.\tPASS\t.", "POS 'abc'")):
        vcf = write_vcf(tmp_path / "in.vcf", [good, bad])
        out = tmp_path / "out"
        rc, err = _run(capsys, model_dir, vcf, examples["fasta"], out)
        assert rc == 2 and "INPUT.BAD_VCF" in err and "line 5" in err and words in err, err
        assert "truncated file" not in err
        assert _files(out) == []


def test_missing_folders_are_named(tmp_path, capsys, model_dir, examples, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    rc, err = _run(capsys, model_dir, "example/mt.vcf", examples["fasta"], tmp_path)
    assert rc == 2 and "example/ does not exist" in err
    rc, err = _run(capsys, "no-such-model", examples["vcf"], examples["fasta"], tmp_path)
    assert rc == 2 and "INPUT.MISSING_MODEL_DIR" in err and "no-such-model" in err
    assert str(tmp_path) not in err


def _copy_package(model_dir: Path, dest: Path) -> Path:
    shutil.copytree(model_dir, dest)
    return dest


def _rehash(pkg: Path, name: str) -> None:
    """Update the manifest's hash and size of artifact ``name`` (what an attacker or a bad tool would do)."""
    import json

    from ledger.identity import sha256_file

    man = json.loads((pkg / "manifest.json").read_text())
    for art in man["artifacts"]:
        if art["path"] == name:
            art["sha256"], art["size"] = sha256_file(pkg / name)
    (pkg / "manifest.json").write_text(json.dumps(man, indent=2, sort_keys=True))


def test_pickle_saved_as_safetensors_is_refused(tmp_path, capsys, model_dir, examples) -> None:
    pkg = _copy_package(model_dir, tmp_path / "pkg")
    (pkg / "predictor.safetensors").write_bytes(pickle.dumps({"weight": [1, 2, 3]}))
    _rehash(pkg, "predictor.safetensors")
    out = tmp_path / "out"
    rc, err = _run(capsys, pkg, examples["vcf"], examples["fasta"], out)
    assert rc == 7 and "PROVENANCE.BAD_WEIGHTS" in err and "predictor.safetensors" in err
    assert _files(out) == []


@pytest.mark.skipif(ROOT, reason="root ignores file permissions")
def test_unreadable_weights_are_a_resource_error(tmp_path, capsys, model_dir, examples) -> None:
    pkg = _copy_package(model_dir, tmp_path / "pkg")
    (pkg / "predictor.safetensors").chmod(0)
    try:
        rc, err = _run(capsys, pkg, examples["vcf"], examples["fasta"], tmp_path / "out")
    finally:
        (pkg / "predictor.safetensors").chmod(0o644)
    assert rc == 4 and "RESOURCE.UNREADABLE" in err and "predictor.safetensors" in err
