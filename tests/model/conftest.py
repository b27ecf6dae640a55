"""Shared fixtures for the model tests: one tiny stand-in encoder and one trained run per session."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny stand-in Carbon checkpoint (seed 0, 20 pretraining steps)."""
    from geno_lewm.encoder.tiny import build_tiny_carbon

    return build_tiny_carbon(tmp_path_factory.mktemp("tiny") / "tiny-carbon", seed=0, pretrain_steps=20)


@pytest.fixture(scope="session")
def tiny_encoder(tiny_model_dir):
    """The tiny checkpoint loaded on CPU."""
    from geno_lewm.encoder.carbon import CarbonEncoder

    return CarbonEncoder.load(tiny_model_dir, device="cpu")


@pytest.fixture(scope="session")
def chrm_seq() -> str:
    """The bundled rCRS chrM sequence."""
    from geno_lewm.resources import example_path

    lines = example_path("rCRS_chrM.fa").read_text().splitlines()
    return "".join(line.strip() for line in lines if not line.startswith(">")).upper()


def small_config(steps: int = 30, every: int = 10):
    """The tiny CPU config shrunk for fast tests."""
    from geno_lewm.resources import config_path
    from geno_lewm.train.config import load_config

    cfg = load_config(config_path("train-tiny-cpu.yaml"))
    rep = msgspec.structs.replace
    return rep(
        cfg,
        optim=rep(cfg.optim, steps=steps, warmup_steps=3, batch_size=16),
        data=rep(cfg.data, synthetic_snvs=48, synthetic_indels=16, synthetic_mnvs=8),
        checkpoint=rep(cfg.checkpoint, every_steps=every, log_every=5),
        predictor=rep(cfg.predictor, d_model=32, mlp_ratio=2),
        action=rep(cfg.action, dim=32),
    )


def train_on_examples(cfg, model_dir: Path, tmp_path_factory, name: str) -> Path:
    """Train ``cfg`` on the bundled chrM FASTA and demo VCF into a fresh ``<name>/run``; return the run (a model package)."""
    from geno_lewm.resources import example_path
    from geno_lewm.train.loop import train_run

    run = tmp_path_factory.mktemp(name) / "run"
    train_run(cfg, model_dir=model_dir, run_dir=run, fasta=example_path("rCRS_chrM.fa"), vcf=example_path("mt_known_variants.vcf"), progress=False)
    return run


@pytest.fixture(scope="session")
def trained_run(tiny_model_dir, tmp_path_factory) -> Path:
    """A completed tiny training run (a model package) on the bundled examples."""
    return train_on_examples(small_config(), tiny_model_dir, tmp_path_factory, "run")


def context_config(steps: int = 30):
    """:func:`small_config` with the learning recipe's edit context (radius 2) and tile placement."""
    cfg = small_config(steps=steps)
    rep = msgspec.structs.replace
    return rep(cfg, predictor=rep(cfg.predictor, context_radius=2), data=rep(cfg.data, placement="tile"))


@pytest.fixture(scope="session")
def context_run(tiny_model_dir, tmp_path_factory) -> Path:
    """A completed tiny training run with edit context and tile placement."""
    return train_on_examples(context_config(), tiny_model_dir, tmp_path_factory, "ctx")


@pytest.fixture(scope="session")
def scale_run(tiny_model_dir, tmp_path_factory) -> Path:
    """A completed tiny training run with edit context and the source-scale input (RFC-0014)."""
    cfg = context_config()
    cfg = msgspec.structs.replace(cfg, predictor=msgspec.structs.replace(cfg.predictor, scale_input=True))
    return train_on_examples(cfg, tiny_model_dir, tmp_path_factory, "scale")
