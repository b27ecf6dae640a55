"""Scale benchmark: ``geno-lewm-score`` end to end from 10³ to 10⁶ variants; the cost must stay linear.

``python -m bench.scale [--model-dir M] [--sizes 1000 10000 100000 1000000] [--output-json bench/results/scale.json]``

A seeded synthetic reference (``--reference-mb``, default 5 Mb over two contigs, generated at run
time by :mod:`bench.synth`, never committed) and, for each size N, a VCF of the first N ALTs of one
constant-density stream (one random SNV per base with probability ``--rate``, default 0.25), so a
variant costs the same at every size and a linear run shows flat variants/s. Each size runs the real
console script as a child process (every output: scores, receipts, annotated VCF, Parquet) and
records the child's wall time, its own scoring time (``--json`` summary), variants/s, the child's
peak RSS (``wait4``) and the peak PSS of all its processes (sampled: :class:`bench.report.TreeMemory`).
``linearity`` compares the largest size's per-variant cost with the smallest non-trivial size's.
Outputs are deleted after each size (10⁶ receipts are about 1 GB).

Without ``--model-dir`` the stand-in demo model is built (or reused) in ``--workdir`` as
``geno-lewm-demo`` builds it. Timing evidence only; the machine and its load are recorded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ledger.clikit import ArgumentParser, command
from ledger.identity import sha256_file

from bench.inference import load_average, run_child, score_cmd
from bench.report import command_line, host_basics, target_row, timings_note, worker_memory, write_json
from bench.synth import DEFAULT_SEED, write_density_vcf, write_reference


def _write(args: Any, argv: list[str] | None, rows: list[dict[str, Any]], load_before: dict[str, Any], *, complete: bool) -> dict[str, Any]:
    """Write the results so far (after every size: a run cut short still leaves its figures)."""
    big = [r for r in rows if r["variants"] >= 10_000] or rows
    lin = {
        "smallest": big[0]["variants"],
        "largest": big[-1]["variants"],
        "us_per_variant_ratio_largest_to_smallest": round(big[-1]["us_per_variant"] / max(big[0]["us_per_variant"], 1e-9), 2),
        "peak_rss_ratio_largest_to_smallest": round(big[-1]["peak_rss_mb"] / max(big[0]["peak_rss_mb"], 1e-9), 2),
        "note": "1.0 = perfectly linear cost and flat memory; sizes under 10^4 are start-up dominated and left out",
    }
    manifest = json.loads((Path(args.model_dir) / "manifest.json").read_text())
    doc = {
        "schema_version": "1.0.0",
        "generated_by": "bench.scale",
        "model_id": sha256_file(Path(args.model_dir) / "manifest.json")[0],
        "release_id": manifest["release_id"],
        "stand_in": manifest["stand_in"],
        **({"stand_in_note": timings_note(args.model_dir)} if manifest["stand_in"] else {}),
        "reference": f"synthetic {args.reference_mb} Mb, 2 contigs, seed {args.seed} (generated at run time, not committed)",
        "density": f"one random SNV per base with probability {args.rate} (bench.synth 'uniform')",
        "outputs_written": ["scores JSONL", "receipts JSONL", "annotated VCF (bgzip + tabix)", "Parquet"],
        "sizes": rows,
        "linearity": lin,
        "targets": [
            target_row("10^6 variants/s (scoring time)", rows[-1]["variants_per_s"], 25_000) if rows[-1]["variants"] >= 1_000_000 else None,
            target_row("peak RSS MB at any N (largest process)", max(r["peak_rss_mb"] for r in rows), 800, at_most=True),
            target_row(
                "peak RSS MB at any N (all processes added: an upper bound, shared pages counted per process)",
                max(r["peak_rss_mb_sum"] for r in rows),
                800,
                at_most=True,
            ),
            target_row(
                "peak memory MB at any N, all processes (PSS, sampled every 0.1 s for 2 s, then every 1 s)",
                max((r["peak_pss_mb"] for r in rows if r.get("peak_pss_mb") is not None), default=None),
                800,
                at_most=True,
            ),
        ],
        "machine": {
            **host_basics(),
            "threads": args.threads or "default: the free CPUs as one-thread worker processes (geno_lewm.runtime.scoring_parallelism)",
            "device": args.device,
        },
        "load": {"before": load_before, "after": load_average()},
        "command": command_line("bench.scale", argv),
        "claim_boundary": "Timing evidence on a shared machine; not model-quality evidence.",
    }
    doc["targets"] = [t for t in doc["targets"] if t]
    doc["complete"] = complete
    if not complete:
        doc["incomplete_note"] = f"written after {rows[-1]['variants']:,} variants; larger sizes had not finished"
    write_json(args.output_json, doc)
    return lin


def _main(argv: list[str] | None) -> int:
    p = ArgumentParser(
        prog="python -m bench.scale",
        description="geno-lewm-score end to end at 10^3 … 10^6 variants on a seeded synthetic reference: variants/s and peak RSS per size.",
    )
    p.add_argument("--model-dir", help="model package (default: build or reuse the stand-in demo model in --workdir)")
    p.add_argument("--workdir", default="geno-lewm-workspace/demo")
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    p.add_argument("--reference-mb", type=float, default=5.0)
    p.add_argument("--rate", type=float, default=0.25, help="probability of a SNV at each base (constant density)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="cpu")
    p.add_argument("--output-json", default="bench/results/scale.json")
    args = p.parse_args(argv)
    if args.model_dir is None:
        code = "import sys; from geno_lewm.cli.demo import ensure_demo_model; print(ensure_demo_model(sys.argv[1]))"
        args.model_dir = subprocess.run([sys.executable, "-c", code, args.workdir], check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    load_before = load_average()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = Path(tmp)
        fasta = write_reference(work / "synthetic.fa", total_bp=int(args.reference_mb * 1_000_000), seed=args.seed)
        env = dict(os.environ)
        for n in sorted(args.sizes):
            vcf, alts = write_density_vcf(work / f"n{n}.vcf", fasta, "uniform", seed=args.seed, rate=args.rate, limit=n)
            out = work / f"out{n}"
            out.mkdir()
            res = run_child(score_cmd(args.model_dir, vcf, fasta, out, threads=args.threads, device=args.device), env=env)
            summary = json.loads(res["stdout"])
            scored = int(summary["counts"]["alts"])
            scoring_s = float(summary["timing"]["seconds"])
            row = {
                "requested": n,
                "variants": scored,
                "wall_s": round(res["wall_s"], 3),
                "scoring_s": round(scoring_s, 3),
                "variants_per_s": round(scored / max(scoring_s, 1e-6), 1),
                "variants_per_s_with_startup": round(scored / res["wall_s"], 1),
                "us_per_variant": round(1e6 * scoring_s / max(scored, 1), 2),
                "peak_rss_mb": round(res["peak_rss_mb"], 1),
                **worker_memory(summary, res["peak_rss_mb"]),
                "peak_pss_mb": res["peak_pss_mb"],
                "encoder_passes": int(summary["work"]["windows_encoded"]),
                "predictor_calls": int(summary["work"]["predictor_calls"]),
                "output_bytes": sum(f.stat().st_size for f in out.iterdir()),
                "load_after": load_average(),
            }
            rows.append(row)
            print(
                f"N={scored:>9,}: {row['variants_per_s']:>10,.1f} variants/s ({row['wall_s']} s wall incl. start-up), peak RSS {row['peak_rss_mb']} MB, all processes' PSS {row['peak_pss_mb']} MB",
                file=sys.stderr,
            )
            shutil.rmtree(out)
            vcf.unlink()
            _write(args, argv, rows, load_before, complete=False)
    lin = _write(args, argv, rows, load_before, complete=True)
    print(
        f"linearity: per-variant cost ×{lin['us_per_variant_ratio_largest_to_smallest']} and peak RSS ×{lin['peak_rss_ratio_largest_to_smallest']} from {lin['smallest']:,} to {lin['largest']:,} variants",
        file=sys.stderr,
    )
    return 0


main = command(_main, "Run the scale benchmark and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
