"""Scoring fixtures: one tiny trained + calibrated model package per session, built via the public API."""

from __future__ import annotations

import shutil
from pathlib import Path

import msgspec
import pytest


def _small_config():
    from geno_lewm.resources import config_path
    from geno_lewm.train.config import load_config

    cfg = load_config(config_path("train-tiny-cpu.yaml"))
    rep = msgspec.structs.replace
    return rep(
        cfg,
        runtime=rep(cfg.runtime, device="cpu"),
        optim=rep(cfg.optim, steps=10, warmup_steps=2, batch_size=16),
        data=rep(cfg.data, synthetic_snvs=48, synthetic_indels=16, synthetic_mnvs=8),
        checkpoint=rep(cfg.checkpoint, every_steps=10, log_every=5),
        predictor=rep(cfg.predictor, d_model=32, mlp_ratio=2),
        action=rep(cfg.action, dim=32),
    )


@pytest.fixture(scope="session")
def examples(tmp_path_factory) -> dict[str, Path]:
    """Private copies of the bundled FASTA (no .fai) and demo VCF."""
    from geno_lewm.resources import example_path

    d = tmp_path_factory.mktemp("examples")
    for name in ("rCRS_chrM.fa", "mt_known_variants.vcf"):
        shutil.copyfile(example_path(name), d / name)
    return {"fasta": d / "rCRS_chrM.fa", "vcf": d / "mt_known_variants.vcf", "dir": d}


@pytest.fixture(scope="session")
def base_model(tmp_path_factory, examples) -> Path:
    """A tiny trained (uncalibrated) model package."""
    from geno_lewm.encoder.tiny import build_tiny_carbon
    from geno_lewm.train.loop import train_run

    root = tmp_path_factory.mktemp("scoring-model")
    enc = build_tiny_carbon(root / "encoder", seed=0, pretrain_steps=0)
    train_run(_small_config(), model_dir=enc, run_dir=root / "model", fasta=examples["fasta"], vcf=examples["vcf"], progress=False)
    shutil.rmtree(root / "model" / "window_cache", ignore_errors=True)
    return root / "model"


@pytest.fixture(scope="session")
def model_dir(base_model, tmp_path_factory, examples) -> Path:
    """The tiny package, calibrated (geno-lewm-calibrate path) — treat as read-only."""
    from geno_lewm.scoring.calibrate import calibrate_package

    dest = tmp_path_factory.mktemp("calibrated") / "model"
    shutil.copytree(base_model, dest)
    calibrate_package(dest, examples["fasta"], n_null=150, seed=0, min_count=10, device="cpu")
    return dest


@pytest.fixture(scope="session")
def session(model_dir):
    """A loaded scoring session on CPU."""
    from geno_lewm.scoring.run import ScoringSession

    return ScoringSession(model_dir, device="cpu")


def write_vcf(path: Path, rows: list[str], *, samples: list[str] | None = None) -> Path:
    """A small VCF with a chrM contig header and the given tab-separated body rows."""
    head = ["##fileformat=VCFv4.2", "##contig=<ID=chrM,length=16569>"]
    cols = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
    if samples:
        head.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
        cols += "\tFORMAT\t" + "\t".join(samples)
    path.write_text("\n".join(head + [cols] + rows) + "\n")
    return path


def chrm(examples, start1: int, end1: int) -> str:
    """Reference bases [start1, end1] of chrM (1-based inclusive)."""
    text = "".join(line.strip() for line in examples["fasta"].read_text().splitlines() if not line.startswith(">"))
    return text[start1 - 1 : end1].upper()


def dense_rows(examples, start1: int, n_pos: int) -> list[str]:
    """VCF rows with one SNV per position over ``n_pos`` consecutive positions (sorted)."""
    seq = chrm(examples, start1, start1 + n_pos - 1)
    rows = []
    for i, b in enumerate(seq):
        if b in "ACGT":
            alt = "A" if b != "A" else "C"
            rows.append(f"chrM\t{start1 + i}\t.\t{b}\t{alt}\t.\tPASS\t.")
    return rows


def run_inference_bench(model_dir: Path, fasta: Path, output_json: Path, *flags: str) -> int:
    """``python -m bench.inference`` in this process, kept quick (one sample, no warm-up, CPU), with ``flags`` added; its exit code."""
    from bench.inference import main

    return main(
        ["--model-dir", str(model_dir), "--fasta", str(fasta), "--output-json", str(output_json), "--samples", "1", "--warmup", "0", "--device", "cpu", *flags]
    )
