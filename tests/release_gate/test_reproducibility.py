"""The two tiers of the numerical contract, with other machines simulated in separate processes.

Kernel choices are fixed when torch loads, so each simulated machine (an ATen CPU capability level
this CPU supports, MKL/oneDNN instruction caps, 1 or 2 threads) is a fresh process:

* exact tier: ``geno-lewm-score --numerics reproducible`` gives the committed baseline bytes under
  every setting (the command overrides the caller's environment before torch loads);
* tolerant tier: a receipt made with this process's default kernels verifies with ``--fasta/--vcf``
  re-scoring under other kernels, and default-kernel scores stay within the tolerance of the
  committed ones; a one-digit edit of a receipt still fails (integrity is exact).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from geno_lewm.cli.score import score_argv
from tests.release_gate.conftest import ROOT

BASELINE = ROOT / "tests" / "baselines" / "bit_match"
VCF, FASTA = ROOT / "examples" / "mt_known_variants.vcf", ROOT / "examples" / "rCRS_chrM.fa"
KERNEL_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

x86_only = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="the exact tier's committed bytes are an x86-64 contract")


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def _aten_levels() -> list[str]:
    """ATen capability levels this CPU can run (``default`` always)."""
    flags = _cpu_flags()
    levels = ["default"]
    if {"avx2", "fma"} <= flags:
        levels.append("avx2")
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        levels.append("avx512")
    return levels


def _env(**settings: str) -> dict[str, str]:
    """This environment with every kernel variable removed, then ``settings`` applied."""
    env = {k: v for k, v in os.environ.items() if k not in KERNEL_VARS}
    env.update(settings)
    return env


def _machines() -> list[tuple[str, dict[str, str], int]]:
    """(name, caller environment, --threads) per simulated machine: every ATen level with caps and thread counts spread over them."""
    caps = [
        {"MKL_CBWR": "AVX2", "OMP_NUM_THREADS": "1"},
        {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
        {"MKL_CBWR": "AVX512", "MKL_ENABLE_INSTRUCTIONS": "AVX512"},
    ]
    return [(f"aten-{level}", {"ATEN_CPU_CAPABILITY": level, **caps[i % len(caps)]}, 1 + i % 2) for i, level in enumerate(_aten_levels())]


def _score_cli(tmp: Path, env: dict[str, str], numerics: str, threads: int | None = None) -> bytes:
    tmp.mkdir(parents=True, exist_ok=True)
    for src in (VCF, FASTA):
        shutil.copyfile(src, tmp / src.name)
    argv = score_argv(BASELINE / "model", VCF.name, FASTA.name, "s.jsonl", "r.jsonl", device="cpu", threads=threads, numerics=numerics)
    cmd = [sys.executable, "-m", "geno_lewm.cli.score", *argv]
    proc = subprocess.run(cmd, cwd=tmp, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return (tmp / "s.jsonl").read_bytes()


@x86_only
@pytest.mark.parametrize(("name", "settings", "threads"), _machines(), ids=[m[0] for m in _machines()])
def test_reproducible_numerics_give_the_committed_bytes_on_every_simulated_machine(tmp_path, name, settings, threads):
    got = _score_cli(tmp_path, _env(**settings), "reproducible", threads)
    assert got == (BASELINE / "scores.jsonl").read_bytes(), f"{name}: reproducible scores differ from the committed baseline"
    receipt = json.loads((tmp_path / "r.jsonl").read_text().splitlines()[0])
    assert receipt["runtime"]["numerics"] == "reproducible"


@x86_only
def test_the_clis_called_where_torch_is_loaded_rerun_themselves_pinned_and_verify_exactly(tmp_path, capfd):
    """In-process calls with torch already loaded unpinned: score and verify re-run themselves pinned, never unpinned.

    The reproducible receipts then verify in the exact tier (scores equal, not just within tolerance).
    """
    import torch  # noqa: F401 - loaded here, unpinned

    from geno_lewm.cli.score import main as score_main

    for src in (VCF, FASTA):
        shutil.copyfile(src, tmp_path / src.name)
    rc = score_main(
        score_argv(
            BASELINE / "model", tmp_path / VCF.name, tmp_path / FASTA.name, tmp_path / "s.jsonl", tmp_path / "r.jsonl", device="cpu", numerics="reproducible"
        )
    )
    assert rc == 0, capfd.readouterr().err[-2000:]
    assert (tmp_path / "s.jsonl").read_bytes() == (BASELINE / "scores.jsonl").read_bytes()
    capfd.readouterr()
    from geno_lewm.cli.verify_receipts import main as verify_main

    rc = verify_main(
        [
            "--model-dir",
            str(BASELINE / "model"),
            "--receipts",
            str(tmp_path / "r.jsonl"),
            "--scores",
            str(tmp_path / "s.jsonl"),
            "--fasta",
            str(tmp_path / FASTA.name),
            "--vcf",
            str(tmp_path / VCF.name),
            "--numerics",
            "reproducible",
            "--json",
        ]
    )
    out = capfd.readouterr()
    assert rc == 0, out.err[-2000:]
    res = json.loads(out.out)
    assert res["reproduction"] == "exact" and res["max_abs_delta"] == 0 and res["numerics"] == "reproducible"
    assert "reproduced exactly" in out.err


def test_reproducible_numerics_requested_after_torch_loaded_unpinned_is_a_typed_error(monkeypatch):
    import torch  # noqa: F401

    from geno_lewm.scoring.run import ScoringSession
    from ledger.errors import ResourceError

    monkeypatch.delenv("MKL_CBWR", raising=False)
    with pytest.raises(ResourceError) as err:
        ScoringSession(BASELINE / "model", device="cpu", numerics="reproducible")
    assert err.value.code == "RESOURCE.NUMERICS_UNPINNED"


@pytest.fixture(scope="module")
def default_receipts(tmp_path_factory) -> Path:
    """Scores and receipts of the fixed input made in this process with its default kernels."""
    from geno_lewm.scoring.run import score_vcf

    d = tmp_path_factory.mktemp("default-receipts")
    for src in (VCF, FASTA):
        shutil.copyfile(src, d / src.name)
    score_vcf(BASELINE / "model", d / VCF.name, d / FASTA.name, output_scores=d / "s.jsonl", output_receipts=d / "r.jsonl", device="cpu", progress=False)
    return d


# One process per simulated machine: verify the default-kernel receipts with re-scoring, then score
# with this machine's default kernels and print the scores for the tolerance check.
_VERIFY_AND_SCORE = """
import json, sys
from pathlib import Path
from geno_lewm.cli.verify_receipts import main as verify_main
from geno_lewm.scoring.run import score_vcf
d, out = Path(sys.argv[1]), Path(sys.argv[2])
rc = verify_main(["--model-dir", sys.argv[3], "--receipts", str(d / "r.jsonl"), "--scores", str(d / "s.jsonl"), "--fasta", str(d / "rCRS_chrM.fa"), "--vcf", str(d / "mt_known_variants.vcf"), "--sample", "64", "--json"])
score_vcf(sys.argv[3], d / "mt_known_variants.vcf", d / "rCRS_chrM.fa", output_scores=out / "s.jsonl", output_receipts=out / "r.jsonl", device="cpu", progress=False)
sys.exit(rc)
"""


@pytest.mark.parametrize("level", _aten_levels())
def test_a_default_kernel_receipt_verifies_under_other_kernels_within_tolerance(default_receipts, tmp_path, level):
    import torch

    from geno_lewm.numerics_mode import within_tolerance

    if os.environ.get("ATEN_CPU_CAPABILITY") is None and torch.backends.cpu.get_cpu_capability().lower() == level:
        pytest.skip(f"{level} is this process's own level: the receipts were made with it")

    settings = {
        "ATEN_CPU_CAPABILITY": level,
        "ONEDNN_MAX_CPU_ISA": "AVX2" if level != "default" else "SSE41",
        "MKL_CBWR": "AVX2" if level != "default" else "COMPATIBLE",
    }
    proc = subprocess.run(
        [sys.executable, "-c", _VERIFY_AND_SCORE, str(default_receipts), str(tmp_path), str(BASELINE / "model")],
        cwd=ROOT,
        env=_env(**settings),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout)
    assert res["ok"] and res["rescored"] == len((default_receipts / "r.jsonl").read_text().splitlines())
    assert res["reproduction"] in ("exact", "within_tolerance")
    assert "reproduced" in proc.stderr and "max |Δ|" in proc.stderr
    committed = [json.loads(line) for line in (BASELINE / "scores.jsonl").read_text().splitlines()]
    here = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert [(r["pos"], r["alt"]) for r in here] == [(r["pos"], r["alt"]) for r in committed]
    for a, b in zip(committed, here, strict=True):
        assert (a["score"] is None) == (b["score"] is None)
        if a["score"] is not None:
            assert within_tolerance(a["score"], b["score"]), f"chrM:{a['pos']} default kernels ({level}) give {b['score']}, committed {a['score']}"


def test_a_one_digit_edit_of_a_receipt_output_fails_integrity(default_receipts, tmp_path, capsys):
    from geno_lewm.cli.verify_receipts import main as verify_main

    lines = (default_receipts / "r.jsonl").read_text().splitlines(keepends=True)
    doc = json.loads(lines[4])
    s = doc["output"]["score"]
    doc["output"]["score"] = s[:-1] + str((int(s[-1]) + 1) % 10)
    from ledger.canonical import canonical_json

    lines[4] = canonical_json(doc).decode() + "\n"
    (tmp_path / "r.jsonl").write_text("".join(lines))
    rc = verify_main(["--model-dir", str(BASELINE / "model"), "--receipts", str(tmp_path / "r.jsonl"), "--scores", str(default_receipts / "s.jsonl")])
    err = capsys.readouterr().err
    assert rc == 7 and "PROVENANCE.RECEIPT_MISMATCH" in err and "receipt line 5" in err


def test_a_consistent_forgery_outside_the_tolerance_fails_reproduction_naming_the_row(default_receipts, tmp_path):
    """Score row and receipt both changed, commitment recomputed: integrity holds, re-scoring catches it."""
    from geno_lewm.numerics import canonical_decimal
    from geno_lewm.numerics_mode import tolerance
    from geno_lewm.scoring.receipts import output_commitment, verify_receipts
    from ledger.canonical import canonical_json
    from ledger.errors import ProvenanceError

    receipts = [json.loads(x) for x in (default_receipts / "r.jsonl").read_text().splitlines()]
    rows = (default_receipts / "s.jsonl").read_text().splitlines(keepends=True)
    doc = receipts[2]
    old = doc["output"]["score"]
    new = canonical_decimal(float(old) + 3 * tolerance(float(old)))
    doc["output"]["score"] = new
    doc["output_commitment"] = output_commitment(
        model_id=doc["model_id"], input_commitment=doc["input_commitment"], calibration_hash=doc["calibration_hash"], output=doc["output"]
    )
    (tmp_path / "r.jsonl").write_bytes(b"".join(canonical_json(r) + b"\n" for r in receipts))
    scored = [i for i, line in enumerate(rows) if json.loads(line)["error_code"] is None]
    i = scored[2]
    rows[i] = rows[i].replace(f'"score":{old}', f'"score":{new}')
    (tmp_path / "s.jsonl").write_text("".join(rows))
    for src in (VCF, FASTA):
        shutil.copyfile(src, tmp_path / src.name)
    with pytest.raises(ProvenanceError) as err:
        verify_receipts(
            BASELINE / "model", tmp_path / "r.jsonl", tmp_path / "s.jsonl", fasta=tmp_path / FASTA.name, vcf=tmp_path / VCF.name, sample=64, device="cpu"
        )
    v = doc["variant"]
    assert err.value.code == "PROVENANCE.RECEIPT_MISMATCH" and "receipt line 3" in err.value.message and f"{v['chrom']}:{v['pos']}" in err.value.message


@x86_only
def test_the_demo_with_reproducible_numerics_writes_the_committed_bytes_and_verifies_exactly(tmp_path):
    import torch  # noqa: F401 - loaded here, unpinned: the demo's commands re-run themselves pinned

    from geno_lewm.scoring.demo_run import run_terminal_demo

    for src in (VCF, FASTA):
        shutil.copyfile(src, tmp_path / src.name)
    man = run_terminal_demo(
        BASELINE / "model", tmp_path / VCF.name, tmp_path / FASTA.name, tmp_path / "demo", artifact_root=tmp_path, device="cpu", numerics="reproducible"
    )
    assert man["status"] == "passed", man
    verified = man["score_receipt_batch"]["verified"]
    assert verified["reproduction"] == "exact" and verified["numerics"] == "reproducible"
    assert (tmp_path / "demo" / "scores.jsonl").read_bytes() == (BASELINE / "scores.jsonl").read_bytes()
