"""Price of reproducible numerics: the whole ``geno-lewm-score`` command, reproducible vs default kernels.

Run ``python -m bench.numerics [--rounds 5] [--variants 2000]``. Each round runs the command once per
arm in fresh processes — default numerics, default numerics with ``--threads 1`` (the kernel cost
without the thread-count difference) and reproducible — rotating which arm goes first, on the same input: the committed
bit-match baseline package (the tiny **stand-in** model) and a synthetic VCF of SNVs over the
bundled chrM reference. Reported per mode: median wall seconds of the whole command (process
start-up included), median scoring throughput from the command's own summary, and the ratios
reproducible/default measured in this run; also the largest |Δ| between the two modes' scores and
the tolerant tier's tolerance. Written to ``bench/results/numerics.json`` with the machine described.

``python -m bench.numerics --matrix`` instead measures which settings matter: it scores the
bit-match baseline input once per kernel setting (each in a fresh process, default numerics so the
environment is taken as given), first the caller-side settings alone, then the reproducible pins
with one pin dropped at a time, and records each run's score-file sha256 and max |Δ| against the
pinned run (``bench/results/numerics_matrix.json``). docs/numerical-contract.md tabulates it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import write_json
from geno_lewm.cli.score import score_argv

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "numerics.json"
PACKAGE = ROOT / "tests" / "baselines" / "bit_match" / "model"
FASTA = ROOT / "examples" / "rCRS_chrM.fa"
#: The arms: (name, --numerics, --threads). "default, 1 thread" separates the kernel cost from the thread count.
ARMS: tuple[tuple[str, str, int | None], ...] = (("default", "default", None), ("default, 1 thread", "default", 1), ("reproducible", "reproducible", None))
KERNEL_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
STAND_IN_NOTE = (
    "Measured with the tiny stand-in model (tests/baselines/bit_match/model): real Carbon weights are larger, so the per-variant share of the cost grows."
)


def synthetic_vcf(path: Path, fasta: Path, n: int) -> int:
    """Write a VCF of up to ``n`` SNVs (one per position from 301, ALT = the next base in ACGT); return the count."""
    seq = "".join(line.strip() for line in fasta.read_text().splitlines() if not line.startswith(">")).upper()
    nxt = {"A": "C", "C": "G", "G": "T", "T": "A"}
    lines = ["##fileformat=VCFv4.2", f"##contig=<ID=chrM,length={len(seq)}>", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    count = 0
    for pos in range(301, len(seq) - 300):
        ref = seq[pos - 1]
        if ref in nxt and count < n:
            lines.append(f"chrM\t{pos}\t.\t{ref}\t{nxt[ref]}\t.\tPASS\t.")
            count += 1
    path.write_text("\n".join(lines) + "\n")
    return count


def machine() -> dict[str, object]:
    """The machine the figures come from (CPU model and SIMD level, cores, load, python/torch)."""
    model, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    import torch

    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": model,
        "simd": sorted(f for f in flags if f in {"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni"}),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def kernel_free_env(settings: dict[str, str]) -> dict[str, str]:
    """This environment with every kernel variable (:data:`KERNEL_VARS`) removed, then ``settings`` applied."""
    return {**{k: v for k, v in os.environ.items() if k not in KERNEL_VARS}, **settings}


def score_command(vcf: str | Path, fasta: str | Path, scores: str | Path, receipts: str | Path, *, threads: int | None, **options: object) -> list[str]:
    """``geno-lewm-score`` on the bit-match baseline package, on CPU, quiet, in a fresh interpreter (``options``: see ``score_argv``)."""
    argv = score_argv(PACKAGE, vcf, fasta, scores, receipts, device="cpu", threads=threads or None, **options)
    return [sys.executable, "-m", "geno_lewm.cli.score", *argv]


def run_once(mode: str, vcf: Path, fasta: Path, work: Path, threads: int | None = None) -> dict[str, object]:
    """One ``geno-lewm-score`` run in a fresh process; wall seconds, summary and score rows."""
    out = work / f"{mode}-{threads}"
    out.mkdir(exist_ok=True)
    env = kernel_free_env({})
    cmd = score_command(vcf, fasta, out / "s.jsonl", out / "r.jsonl", threads=threads, numerics=mode, json=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"geno-lewm-score --numerics {mode} failed:\n{proc.stderr[-2000:]}")
    summary = json.loads(proc.stdout)
    rows = [json.loads(line) for line in (out / "s.jsonl").read_text().splitlines()]
    return {"wall_s": wall, "scoring_s": summary["timing"]["seconds"], "alts": summary["counts"]["alts"], "scores": [r["score"] for r in rows]}


MATRIX_RESULTS = ROOT / "bench" / "results" / "numerics_matrix.json"
_PINS = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41"}


def _matrix_settings() -> list[tuple[str, dict[str, str], int | None]]:
    """(name, environment, --threads) per matrix row: caller settings alone, the pins, the pins minus one."""
    rows: list[tuple[str, dict[str, str], int | None]] = [
        ("no setting", {}, None),
        ("1 thread", {}, 1),
        ("ATEN_CPU_CAPABILITY=default", {"ATEN_CPU_CAPABILITY": "default"}, None),
        ("ATEN_CPU_CAPABILITY=avx2", {"ATEN_CPU_CAPABILITY": "avx2"}, None),
        ("MKL_CBWR=COMPATIBLE", {"MKL_CBWR": "COMPATIBLE"}, None),
        ("MKL_CBWR=AVX2", {"MKL_CBWR": "AVX2"}, None),
        ("MKL_ENABLE_INSTRUCTIONS=SSE4_2", {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}, None),
        ("ONEDNN_MAX_CPU_ISA=AVX2", {"ONEDNN_MAX_CPU_ISA": "AVX2"}, None),
        ("pins (reproducible)", dict(_PINS), 1),
        ("pins + MKL_ENABLE_INSTRUCTIONS=AVX2", {**_PINS, "MKL_ENABLE_INSTRUCTIONS": "AVX2"}, 1),
        ("pins + MKL_ENABLE_INSTRUCTIONS=SSE4_2", {**_PINS, "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}, 1),
        ("pins, 2 threads", dict(_PINS), 2),
        ("pins without ATEN (avx2)", {**_PINS, "ATEN_CPU_CAPABILITY": "avx2"}, 1),
        ("pins without ATEN (machine's level)", {k: v for k, v in _PINS.items() if k != "ATEN_CPU_CAPABILITY"}, 1),
        ("pins without MKL_CBWR", {k: v for k, v in _PINS.items() if k != "MKL_CBWR"}, 1),
        ("pins without MKL_CBWR + MKL_ENABLE_INSTRUCTIONS=AVX2", {**{k: v for k, v in _PINS.items() if k != "MKL_CBWR"}, "MKL_ENABLE_INSTRUCTIONS": "AVX2"}, 1),
        ("pins without oneDNN cap", {k: v for k, v in _PINS.items() if k != "ONEDNN_MAX_CPU_ISA"}, 1),
    ]
    return rows


def matrix(output: Path) -> int:
    """Score the baseline input under each :func:`_matrix_settings` row; write the table."""
    import hashlib

    vcf = ROOT / "examples" / "mt_known_variants.vcf"
    committed = (ROOT / "tests" / "baselines" / "bit_match" / "scores.jsonl").read_bytes()
    table = []
    with tempfile.TemporaryDirectory(prefix="bench-numerics-matrix-") as tmp:
        work = Path(tmp)
        shutil.copyfile(FASTA, work / "ref.fa")
        shutil.copyfile(vcf, work / "in.vcf")
        for name, settings, threads in _matrix_settings():
            env = kernel_free_env(settings)
            cmd = score_command("in.vcf", "ref.fa", "s.jsonl", "r.jsonl", threads=threads)
            proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"{name}: geno-lewm-score failed:\n{proc.stderr[-2000:]}")
            data = (work / "s.jsonl").read_bytes()
            scores = [json.loads(line)["score"] for line in data.splitlines()]
            ref = [json.loads(line)["score"] for line in committed.splitlines()]
            delta = max(abs(a - b) for a, b in zip(scores, ref, strict=True) if a is not None and b is not None)
            row = {
                "setting": name,
                "environment": settings,
                "threads": threads,
                "scores_sha256": hashlib.sha256(data).hexdigest(),
                "matches_committed_bytes": data == committed,
                "max_abs_delta_vs_committed": delta,
            }
            table.append(row)
            print(f"{name:<55} {'same bytes' if row['matches_committed_bytes'] else 'differs':>10}  max |Δ| {delta:.2g}", file=sys.stderr)
    doc = {
        "schema_version": "1.0.0",
        "generated_by": "bench.numerics --matrix",
        "stand_in": True,
        "stand_in_note": STAND_IN_NOTE,
        "machine": machine(),
        "input": {
            "vcf": "examples/mt_known_variants.vcf",
            "reference": "examples/rCRS_chrM.fa",
            "model": "tests/baselines/bit_match/model",
            "committed": "tests/baselines/bit_match/scores.jsonl",
        },
        "rows": table,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    write_json(output, doc)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or ``--matrix``) and write its JSON under ``bench/results/``."""
    p = argparse.ArgumentParser(prog="python -m bench.numerics", description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5, help="A/B rounds (each runs both modes once; default 5)")
    p.add_argument("--variants", type=int, default=2000, help="SNVs in the synthetic VCF (default 2000)")
    p.add_argument("--matrix", action="store_true", help="measure which kernel settings change the score bytes (bench/results/numerics_matrix.json)")
    p.add_argument("--output", help="result JSON (default bench/results/numerics.json, or numerics_matrix.json with --matrix)")
    args = p.parse_args(argv)
    if args.matrix:
        return matrix(Path(args.output) if args.output else MATRIX_RESULTS)
    args.output = args.output or str(RESULTS)
    from geno_lewm.numerics_mode import ABS_TOLERANCE, PINNED_ENV, PINNED_THREADS, REL_TOLERANCE, within_tolerance

    host = machine()
    runs: dict[str, list[dict[str, object]]] = {name: [] for name, _, _ in ARMS}
    with tempfile.TemporaryDirectory(prefix="bench-numerics-") as tmp:
        work = Path(tmp)
        shutil.copyfile(FASTA, work / "ref.fa")
        n = synthetic_vcf(work / "in.vcf", FASTA, args.variants)
        for r in range(args.rounds):
            order = ARMS[r % len(ARMS) :] + ARMS[: r % len(ARMS)]  # rotate which arm goes first
            for name, mode, threads in order:
                res = run_once(mode, work / "in.vcf", work / "ref.fa", work, threads)
                runs[name].append(res)
                print(
                    f"round {r + 1}/{args.rounds} {name:>18}: {res['wall_s']:.2f}s wall, {res['alts'] / res['scoring_s']:.0f} variants/s scoring",
                    file=sys.stderr,
                )
    a, b = runs["default"][-1]["scores"], runs["reproducible"][-1]["scores"]
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    max_delta = max(abs(x - y) for x, y in pairs)
    per_mode = {}
    for name, _, _ in ARMS:
        walls = [float(x["wall_s"]) for x in runs[name]]
        rates = [int(x["alts"]) / float(x["scoring_s"]) for x in runs[name]]
        per_mode[name] = {
            "wall_s_median": round(statistics.median(walls), 3),
            "wall_s_all": [round(w, 3) for w in walls],
            "scoring_variants_per_s_median": round(statistics.median(rates), 1),
        }
    doc = {
        "schema_version": "1.0.0",
        "generated_by": "bench.numerics",
        "benchmark_command": "python -m bench.numerics " + " ".join(argv if argv is not None else sys.argv[1:]),
        "stand_in": True,
        "stand_in_note": STAND_IN_NOTE,
        "machine": host,
        "input": {"variants": n, "reference": "examples/rCRS_chrM.fa", "model": "tests/baselines/bit_match/model"},
        "rounds": args.rounds,
        "order": "each round runs every arm once; the arm that goes first rotates per round",
        "reproducible_settings": {"environment": dict(PINNED_ENV), "threads": PINNED_THREADS},
        "modes": per_mode,
        "baseline": "default",
        "ratio_reproducible_over_default": {
            "wall_s": round(per_mode["reproducible"]["wall_s_median"] / per_mode["default"]["wall_s_median"], 3),
            "scoring_variants_per_s": round(
                per_mode["reproducible"]["scoring_variants_per_s_median"] / per_mode["default"]["scoring_variants_per_s_median"], 3
            ),
        },
        "ratio_reproducible_over_default_1_thread": {
            "wall_s": round(per_mode["reproducible"]["wall_s_median"] / per_mode["default, 1 thread"]["wall_s_median"], 3),
            "scoring_variants_per_s": round(
                per_mode["reproducible"]["scoring_variants_per_s_median"] / per_mode["default, 1 thread"]["scoring_variants_per_s_median"], 3
            ),
        },
        "agreement": {
            "max_abs_delta_score": max_delta,
            "tolerance": {"abs": ABS_TOLERANCE, "rel": REL_TOLERANCE},
            "all_within_tolerance": all(within_tolerance(x, y) for x, y in pairs),
        },
        "limitations": "Shared machine: other processes may run; the A/B alternation spreads their effect over both modes. Scoring throughput comes from the command's own summary (excludes process start-up and model loading); wall seconds include them. No CUDA measured (no GPU lent).",
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    write_json(args.output, doc)
    r = doc["ratio_reproducible_over_default"]
    print(
        f"reproducible/default: wall {r['wall_s']}x, scoring throughput {r['scoring_variants_per_s']}x; max |Δ| score {max_delta:.3g} (within tolerance: {doc['agreement']['all_within_tolerance']})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
