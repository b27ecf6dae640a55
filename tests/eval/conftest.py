"""Fixtures for the evaluation tests: small score/label files written by the tests themselves."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from geno_lewm.resources import example_path

MODEL_ID = "geno-lewm-v0.1.0-stand-in-r1"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    """Write ``rows`` as JSONL (``NaN`` literals allowed, as a buggy scorer might emit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def key(row: dict) -> dict:
    """The variant key fields of a row."""
    return {k: row[k] for k in ("chrom", "pos", "ref", "alt")}


def score_row(k: dict, score: float | None, **extra) -> dict:
    """A primary score row as geno-lewm-score writes it."""
    row = {**k, "score": score, "percentile": 50.0, "bucket": "mid", "confidence": "low", "model_id": MODEL_ID, "generated_by": "geno-lewm-score"}
    row.update(extra)
    return row


def baseline_row(k: dict, score: float, **extra) -> dict:
    """A baseline row as geno-lewm-carbon-baseline writes it."""
    return {**k, "carbon_zero_shot_score": score, "generated_by": "geno-lewm-carbon-baseline", **extra}


def synthetic_labels(n: int, mode: str, seed: int) -> list[dict]:
    """``n`` labelled variants on chr1 (binary: alternating classes; spearman: uniform floats)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = (i % 2) if mode == "binary" else round(rng.uniform(-3, 3), 4)
        out.append({"chrom": "chr1", "pos": 1000 + 7 * i, "ref": "A", "alt": "CGT"[i % 3], "label": label, "label_source": "synthetic"})
    return out


@pytest.fixture
def demo_labels() -> list[dict]:
    """The committed demo labels (derived from examples/mt_known_variants.vcf)."""
    text = example_path("mt_known_variants.labels.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def files(tmp_path: Path):
    """A helper writing label, score and baseline files for labelled rows under ``tmp_path``."""

    class Files:
        root = tmp_path

        def write(self, name: str, rows: list[dict]) -> Path:
            return write_jsonl(tmp_path / name, rows)

        def scores(self, labels: list[dict], fn, name: str = "scores.jsonl", **extra) -> Path:
            return self.write(name, [score_row(key(r), fn(r), **extra) for r in labels])

        def baseline(self, labels: list[dict], fn, name: str = "baseline.jsonl") -> Path:
            return self.write(name, [baseline_row(key(r), fn(r)) for r in labels])

    return Files()
