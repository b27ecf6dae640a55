"""Local worker processes (``geno-lewm-score --workers N``): the same bytes as one process, typed failures, bounded work."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

from geno_lewm.cli.score import main as score_main
from geno_lewm.cli.score import score_argv
from ledger.errors import GenoError, InputError
from tests.scoring.conftest import write_vcf


def _saturation_vcf(path: Path, fasta: Path, start: int, end: int) -> Path:
    """Every SNV of chrM:start-end as one multi-ALT record per base (several chunks, many windows)."""
    import pysam

    with pysam.FastaFile(str(fasta)) as fa:
        seq = fa.fetch("chrM", start - 1, end).upper()
    lines = [f"chrM\t{start + i}\t.\t{b}\t{','.join(a for a in 'ACGT' if a != b)}\t.\tPASS\t." for i, b in enumerate(seq) if b in "ACGT"]
    return write_vcf(path, lines)


def _run(tmp: Path, model_dir: Path, vcf: Path, fasta: Path, *extra: str) -> int:
    tmp.mkdir(parents=True, exist_ok=True)
    argv = score_argv(model_dir, vcf, fasta, tmp / "s.jsonl", tmp / "r.jsonl", output_vcf=tmp / "s.vcf.gz", output_parquet=tmp / "s.parquet", device="cpu")
    return score_main([*argv, *extra])


def test_workers_write_the_bytes_of_one_process(tmp_path: Path, model_dir: Path, examples, monkeypatch) -> None:
    """Two and three worker processes write the scores, receipts, VCF and Parquet of one one-thread process, byte for byte."""
    import pyarrow.parquet as pq

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # receipts' timestamp
    vcf = _saturation_vcf(tmp_path / "sat.vcf", examples["fasta"], 2000, 2700)  # 2,103 ALTs: 5 chunks of 512
    assert _run(tmp_path / "one", model_dir, vcf, examples["fasta"], "--workers", "1", "--threads", "1") == 0
    for n in ("2", "3"):
        assert _run(tmp_path / n, model_dir, vcf, examples["fasta"], "--workers", n) == 0
        for name in ("s.jsonl", "r.jsonl"):
            assert (tmp_path / n / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), (n, name)
        assert gzip.decompress((tmp_path / n / "s.vcf.gz").read_bytes()) == gzip.decompress((tmp_path / "one" / "s.vcf.gz").read_bytes())
        assert pq.read_table(tmp_path / n / "s.parquet").equals(pq.read_table(tmp_path / "one" / "s.parquet"))
    assert len((tmp_path / "one" / "s.jsonl").read_text().splitlines()) == 2103


def test_workers_summary_counts_all_work(tmp_path: Path, model_dir: Path, examples, capsys) -> None:
    """The run summary adds every worker's counters; error rows still come back in input order."""
    bad = write_vcf(tmp_path / "mixed.vcf", ["chrM\t263\t.\tA\tG,<DEL>\t.\tPASS\t.", "chrM\t5000\t.\tA\tC\t.\tPASS\t.", "chrM\t20000\t.\tA\tG\t.\tPASS\t."])
    assert _run(tmp_path, model_dir, bad, examples["fasta"], "--workers", "2", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["counts"]["alts"] == 4 and summary["counts"]["scored"] == 2
    assert summary["work"]["variants_scored"] == 2 and summary["work"]["predictor_calls"] >= 1
    codes = [json.loads(x)["error_code"] for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert codes == [None, "INPUT.SYMBOLIC_ALT", None, "INPUT.OUTSIDE_CONTIG"]


@pytest.mark.skipif(sys.platform != "linux", reason="worker processes are forked on Linux only (elsewhere scoring stays in one process)")
def test_a_worker_that_dies_fails_the_run_and_leaves_no_output(tmp_path: Path, model_dir: Path, examples, monkeypatch, capsys) -> None:
    from geno_lewm.scoring.workers import CRASH_ENV

    monkeypatch.setenv(CRASH_ENV, "1")  # each worker dies on its second chunk
    vcf = _saturation_vcf(tmp_path / "sat.vcf", examples["fasta"], 3000, 3700)
    code = _run(tmp_path / "out", model_dir, vcf, examples["fasta"], "--workers", "2")
    err = capsys.readouterr().err
    assert code == 4 and "error[RESOURCE.SCORING_WORKER_DIED]" in err and "hint:" in err and "Traceback" not in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []  # nothing committed, no partial file


def test_worker_failures_keep_their_code() -> None:
    from geno_lewm.scoring.workers import _Failure

    typed = _Failure.of(InputError("BAD_ALLELE", "ALT allele 'Z' has characters outside ACGTN", "fix it")).error()
    assert (typed.code, typed.message, typed.hint) == ("INPUT.BAD_ALLELE", "ALT allele 'Z' has characters outside ACGTN", "fix it")
    other = _Failure.of(ValueError("boom")).error()
    assert isinstance(other, GenoError) and other.code == "RESOURCE.SCORING_WORKER_FAILED" and "ValueError: boom" in other.message


def test_worker_count_rules(monkeypatch) -> None:
    from geno_lewm import runtime
    from geno_lewm.scoring.workers import usable_workers

    assert usable_workers(None, device="cpu", default=1) == 1
    assert usable_workers(4, device="cuda", default=1) == 1  # a CUDA context does not survive a fork
    if sys.platform == "linux":
        assert usable_workers(4, device="cpu", default=1) == 4
    with pytest.raises(InputError) as err:
        usable_workers(0, device="cpu", default=1)
    assert err.value.code == "INPUT.BAD_WORKERS"
    # explicit values win; --threads alone keeps one process; a fresh process makes free CPUs one-thread workers
    assert runtime.scoring_parallelism(3, None) == (3, 1)
    assert runtime.scoring_parallelism(2, 4) == (2, 4)
    assert runtime.scoring_parallelism(None, 4) == (1, 4)
    monkeypatch.setattr(runtime, "default_cpu_threads", lambda: 6)
    monkeypatch.delitem(sys.modules, "torch")
    assert runtime.scoring_parallelism(None, None) == (6, 1)


def test_row_memo_reuses_slots_and_always_returns_the_rows_of_its_keys() -> None:
    """A small memo under churn: every call returns exactly the rows of its keys, computing only unseen ones."""
    import random

    import torch

    from geno_lewm.scoring.scorer import RowMemo

    memo = RowMemo(capacity=16)
    computed: list[int] = []

    def compute(missing: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        computed.extend(missing)
        return torch.tensor([[k, -k] for k in missing], dtype=torch.float32), torch.tensor(missing, dtype=torch.float32)

    rng = random.Random(0)
    for _ in range(300):
        keys = [rng.randrange(40) for _ in range(rng.randrange(1, 9))]
        a, b = memo.rows(keys, compute)
        assert a.tolist() == [[k, -k] for k in keys] and b.tolist() == keys
        assert len(memo) <= 16
    assert len(computed) < 300 * 4  # hits happened
    again = len(computed)
    memo.rows([1, 1, 1], compute)
    memo.rows([1], compute)
    assert len(computed) - again <= 1  # a repeated key is computed at most once
    with pytest.raises(ValueError):
        memo.rows(list(range(9)), compute)  # more than half the capacity at once
