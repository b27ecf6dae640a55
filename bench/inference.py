"""Inference benchmark: GenoLeWM scoring vs the Carbon zero-shot baseline on the same encoder.

``python -m bench.inference --model-dir M --vcf V --fasta F --output-json OUT [--window CHR:S-E]``
measures, in one run and on the same inputs: single-variant latency (cold: window encode +
predictor), batched throughput (variants/s, fresh window cache per sample), peak memory, and the
zero-shot baseline's variants/s (one encoder pass per ALT window + one per REF window), with the
ratio. ``--window`` adds a dense saturation set (every SNV of the region) so windows hold many
variants, which is where the world model's "encode once, predict many" pays. Encoder passes are
counted: GenoLeWM must make exactly one per distinct reference window.

``--release-efficiency`` writes the report as ``efficiency_report.json`` evidence through
:func:`geno_lewm.efficiency.build_efficiency_report` (the one normaliser the release step uses too:
``generated_by=tools.release.efficiency_report``, numbers as decimal strings, inputs as
package-relative identities or inline labels). Timings are evidence of speed only, never of
model quality.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from geno_lewm.runtime import add_device_flag
from ledger.clikit import ArgumentParser, command
from ledger.fsutil import atomic_write_text
from ledger.identity import relative_or_name, sha256_file


def saturation_variants(reference: Any, region: str) -> list[Any]:
    """Every SNV (3 per ACGT base) of ``region`` as Variants, in order."""
    from geno_lewm.scoring.variants import Region, Variant

    reg = Region.parse(region)
    end = reg.end or reference.lengths[reg.chrom]
    seq = reference.fetch(reg.chrom, reg.start - 1, end)
    return [Variant(reg.chrom, reg.start + i, b, a) for i, b in enumerate(seq) if b in "ACGT" for a in "ACGT" if a != b]


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(model_dir: str, vcf: str, fasta: str, *, window: str | None, variant: str | None, samples: int, warmup: int, batch_size: int, device: str) -> dict[str, Any]:
    """Run the measurements and return the results document (without file identities)."""
    import torch

    from geno_lewm.baseline import BaselineScorer
    from geno_lewm.scoring.netguard import no_network
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.run import ScoringSession
    from geno_lewm.scoring.variants import Variant, read_variants

    sess = ScoringSession(model_dir, device=device)
    with no_network(), Reference(fasta) as ref:
        items = [v for v in read_variants(vcf, ref, max_allele_bp=sess.max_allele_bp()) if isinstance(v, Variant)]
        if window:
            items += saturation_variants(ref, window)
        if not items:
            raise SystemExit("no scorable variants")
        if variant:
            c, pos, r, a = variant.split(":")
            single = Variant(c, int(pos), r.upper(), a.upper())
        else:
            single = items[0]

        def run_lewm(vs: list[Any]) -> tuple[float, Any]:
            sc = sess.scorer(ref, batch_size=batch_size)
            t = time.perf_counter()
            sc.score(vs)
            return time.perf_counter() - t, sc.stats

        def run_base(vs: list[Any]) -> tuple[float, Any]:
            bs = BaselineScorer(sess.package.encoder, ref, sess.window_bp, batch_size=batch_size)
            t = time.perf_counter()
            bs.score(vs)
            return time.perf_counter() - t, bs.stats

        for _ in range(warmup):
            run_lewm(items[: min(len(items), 64)])
            run_base(items[: min(len(items), 16)])
        lat = [run_lewm([single])[0] * 1000 for _ in range(samples)]
        lat_base = [run_base([single])[0] * 1000 for _ in range(samples)]
        lewm_t, base_t = [], []
        stats = bstats = None
        for _ in range(samples):
            t, stats = run_lewm(items)
            lewm_t.append(t)
        for _ in range(max(1, samples // 2)):
            t, bstats = run_base(items)
            base_t.append(t)
    n = len(items)
    lewm_vps = n / statistics.median(lewm_t)
    base_vps = n / statistics.median(base_t)
    s = stats.to_dict()
    return {
        "model_id": sess.model_id,
        "release_id": sess.package.manifest["release_id"],
        "stand_in": sess.stand_in,
        "variants": n,
        "distinct_windows": s["distinct_windows"],
        "variants_per_window": round(n / max(1, s["distinct_windows"]), 2),
        "single_variant_latency_ms": {"median": round(statistics.median(lat), 3), "min": round(min(lat), 3), "max": round(max(lat), 3)},
        "baseline_single_variant_latency_ms": {"median": round(statistics.median(lat_base), 3)},
        "batched_throughput_variants_per_s": round(lewm_vps, 1),
        "baseline": {"name": "carbon_zero_shot", "variants_per_s": round(base_vps, 1), "encoder_calls": bstats.encoder_calls, "sequences_encoded": bstats.sequences_encoded},
        "speedup_vs_baseline": round(lewm_vps / base_vps, 2),
        "work": s,
        "one_encoder_pass_per_window": s["windows_encoded"] == s["distinct_windows"],
        "peak_memory_mib": round(_peak_rss_mib(), 1),
        "peak_cuda_memory_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1) if torch.cuda.is_available() else None,
        "samples": samples,
        "warmup": warmup,
        "batch_size": batch_size,
        "hardware": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "device": sess.runtime["device"],
            "dtype": sess.runtime["dtype"],
            "torch": sess.runtime["torch_version"],
            "python": platform.python_version(),
        },
    }


def build_parser() -> ArgumentParser:
    """The command's argument parser (the release step registry reads its flags)."""
    p = ArgumentParser(prog="python -m bench.inference", description="Benchmark GenoLeWM scoring against the Carbon zero-shot baseline on the same encoder and inputs.")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--vcf", required=True)
    p.add_argument("--fasta", required=True)
    p.add_argument("--output-json", required=True)
    p.add_argument("--window", help="CHR:START-END: add every SNV of this region (dense windows)")
    p.add_argument("--variant", help="CHR:POS:REF:ALT for the single-variant latency (default: first VCF variant)")
    p.add_argument("--samples", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    add_device_flag(p, default="auto")
    p.add_argument("--release-efficiency", action="store_true", help="write efficiency_report.json evidence (generated_by=tools.release.efficiency_report)")
    return p


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    res = measure(args.model_dir, args.vcf, args.fasta, window=args.window, variant=args.variant, samples=args.samples, warmup=args.warmup, batch_size=args.batch_size, device=args.device)
    root = Path(args.model_dir)
    command = ["python", "-m", "bench.inference"] + [relative_or_name(a, root) if os.path.isabs(a) else a for a in (argv if argv is not None else sys.argv[1:])]

    def ident(path: str) -> dict[str, Any]:
        d, n = sha256_file(path)
        return {"path": relative_or_name(path, root), "sha256": d, "size": n}

    doc: dict[str, Any] = {
        "schema_version": "1.0.0",
        "generated_by": "bench.inference",
        **res,
        "inputs": {"vcf": ident(args.vcf), "fasta": ident(args.fasta), "window": args.window and f"inline:{args.window}", "variant": f"inline:{args.variant}" if args.variant else "first scorable VCF variant"},
        "benchmark_command": command,
        "limitations": [
            "Timings of one process on the hardware named; not a model-quality measurement.",
            "Throughput depends on variants per window; the ratio grows with window density.",
        ]
        + (["Tiny stand-in encoder: encoder/predictor cost ratio differs from real Carbon."] if res["stand_in"] else []),
    }
    out = Path(args.output_json)
    if args.release_efficiency and out.name != "efficiency_report.json":
        out = out.with_name("efficiency_report.json") if out.suffix else out / "efficiency_report.json"
    if args.release_efficiency:
        from geno_lewm.efficiency import write_efficiency_report

        write_efficiency_report(out, doc, root=root)
    else:
        atomic_write_text(out, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(
        f"GenoLeWM {res['batched_throughput_variants_per_s']:,} variants/s vs zero-shot {res['baseline']['variants_per_s']:,} variants/s "
        f"→ {res['speedup_vs_baseline']}× ({res['variants']} variants, {res['variants_per_window']} per window; single-variant latency {res['single_variant_latency_ms']['median']} ms; "
        f"one encoder pass per window: {res['one_encoder_pass_per_window']})",
        file=sys.stderr,
    )
    return 0


main = command(_main, "Run the benchmark and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
