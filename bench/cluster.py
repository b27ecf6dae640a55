"""Cluster benchmark: ``geno-lewm-score --engine ray`` with 1 and 2 local workers vs one process.

``python -m bench.cluster --model-dir M [--variants N] [--shards S] [--output-json bench/results/cluster.json]``
writes a saturation VCF (every SNV of chrM from position 1 until ``N`` ALTs, bgzipped + tabix),
scores it once in this process (the baseline, measured in the same run) and then on a local Ray
instance (2 CPUs) with 1 and with 2 worker actors, ``S`` shards each. It reports wall time,
variants/s, the ratio to the baseline, the overhead per shard
(``(ray wall - baseline wall) / shards`` with one worker: worker start, model load, transfer,
work folder and merge) and checks the merged scores equal the baseline's byte for byte. Timings
are evidence of the engine's overhead only: the tiny stand-in encoder makes scoring itself cheap,
and the machine is shared, so absolute numbers move between runs.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import write_json
from ledger.clikit import ArgumentParser, command

DEFAULT_OUT = Path("bench/results/cluster.json")


def saturation_vcf(fasta: Path, dest: Path, n: int) -> Path:
    """A bgzipped + tabix VCF of the first ``n`` chrM SNVs (3 per ACGT base), sorted."""
    import pysam

    from geno_lewm.scoring.reference import Reference

    rows: list[str] = []
    with Reference(fasta) as ref:
        chrom = ref.contigs[0]
        seq = ref.fetch(chrom, 0, ref.lengths[chrom])
        for i, b in enumerate(seq.upper()):
            if b not in "ACGT":
                continue
            for a in "ACGT":
                if a != b and len(rows) < n:
                    rows.append(f"{chrom}\t{i + 1}\t.\t{b}\t{a}\t.\tPASS\t.")
            if len(rows) >= n:
                break
        length = ref.lengths[chrom]
    head = ["##fileformat=VCFv4.2", f"##contig=<ID={chrom},length={length}>", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    dest.write_text("\n".join(head + rows) + "\n")
    return Path(pysam.tabix_index(str(dest), preset="vcf", force=True))


def measure(model_dir: str, *, variants: int, shards: int, threads: int) -> dict[str, Any]:
    """Run the baseline and the two Ray configurations; return the results document."""
    import torch

    from geno_lewm.resources import example_path
    from geno_lewm.scoring.ray_engine import RayOptions, local_cluster, ray_version, score_vcf_ray
    from geno_lewm.scoring.run import score_vcf

    fasta = Path(example_path("rCRS_chrM.fa"))
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        t = Path(tmp)
        fa = t / fasta.name
        fa.write_bytes(fasta.read_bytes())
        vcf = saturation_vcf(fa, t / "saturation.vcf", variants)
        os.environ["SOURCE_DATE_EPOCH"] = "1767225600"  # same receipt time in every run
        t0 = time.perf_counter()
        base = score_vcf(model_dir, vcf, fa, output_scores=t / "base.jsonl", output_receipts=t / "base.r.jsonl", device="cpu", threads=threads, progress=False)
        base_s = time.perf_counter() - t0
        runs: list[dict[str, Any]] = []
        with local_cluster(num_cpus=2) as resources:
            for workers in (1, 2):
                out = t / f"ray{workers}.jsonl"
                t0 = time.perf_counter()
                run = score_vcf_ray(
                    model_dir,
                    vcf,
                    fa,
                    output_scores=out,
                    output_receipts=t / f"ray{workers}.r.jsonl",
                    device="cpu",
                    threads=threads,
                    progress=False,
                    options=RayOptions(shards=shards, workers=workers),
                )
                wall = time.perf_counter() - t0
                shard_s = [float(s["seconds"]) for s in run.shards]
                runs.append(
                    {
                        "workers": workers,
                        "shards": shards,
                        "wall_s": round(wall, 3),
                        "variants_per_s": round(run.summary.alts / wall, 1),
                        "ratio_to_single_process": round(base_s / wall, 3),
                        "overhead_per_shard_s": round((wall - base_s) / shards, 3),
                        "shard_scoring_s": {"sum": round(sum(shard_s), 3), "max": round(max(shard_s), 3)},
                        "scores_identical_to_single_process": out.read_bytes() == (t / "base.jsonl").read_bytes(),
                    }
                )
        one, two = runs
        return {
            "schema_version": "1.0.0",
            "generated_by": "bench.cluster",
            "stand_in": base.stand_in,
            **(
                {
                    "stand_in_note": "Measured with the tiny stand-in encoder: scoring is cheap, so the figures show the engine's overhead, not a real model's throughput."
                }
                if base.stand_in
                else {}
            ),
            "variants": base.alts,
            "baseline_single_process": {"wall_s": round(base_s, 3), "variants_per_s": round(base.alts / base_s, 1)},
            "ray": runs,
            "speedup_2_vs_1_workers": round(one["wall_s"] / two["wall_s"], 3),
            "machine": {
                "platform": platform.platform(),
                "machine": platform.machine(),
                "cpu_count": os.cpu_count(),
                "ray_num_cpus": resources.get("CPU"),
                "load_avg_1m_at_start": round(os.getloadavg()[0], 2),
                "torch_threads_per_worker": threads,
                "torch": torch.__version__.split("+")[0],
                "ray": ray_version(),
                "python": platform.python_version(),
                "note": "shared development machine (other jobs running): absolute timings vary between runs",
            },
        }


def _main(argv: list[str] | None) -> int:
    p = ArgumentParser(prog="python -m bench.cluster", description="Benchmark geno-lewm-score --engine ray (1 vs 2 local workers) against one process.")
    p.add_argument("--model-dir", required=True, help="model package to score with")
    p.add_argument("--variants", type=int, default=20000, help="saturation SNVs to score (default 20000)")
    p.add_argument("--shards", type=int, default=8, help="shards per Ray run (default 8)")
    p.add_argument("--threads", type=int, default=1, help="torch threads in the baseline and in each worker (default 1)")
    p.add_argument("--output-json", default=str(DEFAULT_OUT), help=f"results JSON (default {DEFAULT_OUT})")
    args = p.parse_args(argv)
    load = round(os.getloadavg()[0], 2)
    res = measure(args.model_dir, variants=args.variants, shards=args.shards, threads=args.threads)
    res["machine"]["load_avg_1m_at_start"] = load
    res["command"] = f"python -m bench.cluster --model-dir MODEL --variants {args.variants} --shards {args.shards} --threads {args.threads}"
    write_json(args.output_json, res)
    base = res["baseline_single_process"]
    print(
        f"single process: {base['variants_per_s']} variants/s; "
        + "; ".join(f"ray {r['workers']} worker(s): {r['variants_per_s']} variants/s, overhead/shard {r['overhead_per_shard_s']} s" for r in res["ray"]),
        file=sys.stderr,
    )
    return 0


main = command(_main, "Run the cluster benchmark and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
