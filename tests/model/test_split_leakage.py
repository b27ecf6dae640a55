"""The region split never leaks, at any data size: a train example and a held-out example never
read a common base of the reference (window plus deletion refill), for any window width, block
size, deletion length, contig length (shorter than a window included) and the circular chrM."""

from __future__ import annotations

import random
from pathlib import Path

import msgspec
import pysam
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geno_lewm.train.config import DataConfig
from geno_lewm.train.data import build_examples
from ledger.errors import TrainingError

CHRM_LEN = 16569  # rCRS: circular, but windows are clamped and never wrap


def _write_fasta(path: Path, contigs: dict[str, int], seed: int) -> Path:
    rng = random.Random(seed)
    with path.open("w") as fh:
        for name, n in contigs.items():
            seq = "".join(rng.choice("ACGT") for _ in range(n))
            fh.write(f">{name}\n")
            for i in range(0, n, 60):
                fh.write(seq[i : i + 60] + "\n")
    pysam.faidx(str(path))
    return path


def _assert_no_shared_base(examples) -> None:
    by_chrom: dict[str, dict[str, list[tuple[int, int]]]] = {}
    for e in examples:
        lo, hi = e.span
        # the span covers every contig base the example reads: its window and, for a deletion, the refill
        reads = len(e.window) + max(0, -e.edit.length_delta)  # window + deletion refill
        assert lo == max(e.start0, 0) and hi >= lo and hi <= e.start0 + reads
        by_chrom.setdefault(e.chrom, {"train": [], "heldout": []})[e.split].append((lo, hi))
    for sides in by_chrom.values():
        for tlo, thi in sides["train"]:
            for hlo, hhi in sides["heldout"]:
                assert thi <= hlo or hhi <= tlo, f"train [{tlo},{thi}) shares bases with held-out [{hlo},{hhi})"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    window_tokens=st.integers(min_value=1, max_value=120),
    block_factor=st.integers(min_value=1, max_value=6),
    block_extra=st.integers(min_value=0, max_value=997),
    max_indel=st.integers(min_value=1, max_value=40),
    others=st.lists(st.integers(min_value=20, max_value=9000), min_size=0, max_size=3),
    fraction=st.sampled_from([0.1, 0.2, 0.5, 0.8]),
    seed=st.integers(min_value=0, max_value=10_000),
    n_snvs=st.integers(min_value=50, max_value=1500),
)
def test_split_never_leaks(tmp_path_factory, window_tokens, block_factor, block_extra, max_indel, others, fraction, seed, n_snvs):
    """Property: for any sizes, no train example reads a base a held-out example reads."""
    window_bp = 6 * window_tokens
    assume(window_bp >= 2 * (max_indel + 1))  # the config rule: a centred deletion fits its window
    contigs = {"chrM": CHRM_LEN, **{f"c{i}": n for i, n in enumerate(others)}}
    fasta = _write_fasta(tmp_path_factory.mktemp("fa") / "ref.fa", contigs, seed)
    cfg = msgspec.structs.replace(
        DataConfig(),
        use_vcf=False,
        synthetic_snvs=n_snvs,
        synthetic_indels=n_snvs // 4,
        synthetic_mnvs=n_snvs // 10,
        max_indel_len=max_indel,
        heldout_fraction=fraction,
        split_block_bp=window_bp * block_factor + block_extra,
    )
    try:
        examples, info = build_examples(fasta, None, cfg, window_bp=window_bp, seed=seed)
    except TrainingError as err:  # a split with no examples on one side is a different, documented error
        assert err.code == "TRAINING.EMPTY_SPLIT"
        return
    assert info.n_train + info.n_heldout == len(examples)
    _assert_no_shared_base(examples)


def test_issue_reproduction_no_longer_leaks():
    """3,000 synthetic SNVs with 2,000 bp blocks on the bundled chrM used to stop with SPLIT_LEAKAGE."""
    from geno_lewm.resources import example_path

    cfg = msgspec.structs.replace(DataConfig(), use_vcf=False, synthetic_snvs=3000, synthetic_indels=300, synthetic_mnvs=0, split_block_bp=2000)
    examples, info = build_examples(example_path("rCRS_chrM.fa"), None, cfg, window_bp=600, seed=0)
    assert info.n_train > 0 and info.n_heldout > 0
    _assert_no_shared_base(examples)


@pytest.mark.parametrize("window_bp", [600, 1200])
def test_split_is_unchanged_for_existing_configs(window_bp):
    """The fix changes the leakage check, not the split: the same examples land on the same side."""
    from geno_lewm.resources import example_path
    from geno_lewm.train.data import _split_of, example_span
    from geno_lewm.windows import open_fasta, reference_window

    cfg = DataConfig()
    examples, _ = build_examples(example_path("rCRS_chrM.fa"), None, cfg, window_bp=window_bp, seed=3)
    fasta = open_fasta(example_path("rCRS_chrM.fa"))
    for e in examples:
        win = reference_window(fasta, e.chrom, e.start0 + e.edit.offset, window_bp)
        extra = max(0, -e.edit.length_delta)
        assert e.span == example_span(win.start0, win.width, extra, CHRM_LEN)
        assert _split_of(win, extra, 3, cfg, CHRM_LEN) == e.split
