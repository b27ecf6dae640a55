"""Inference benchmark: what users run, end to end — GenoLeWM vs the Carbon zero-shot baseline.

``python -m bench.inference --fasta F [--model-dir M] [--output-json bench/results/inference.json]``

**End to end, by density** (``densities.<name>``). The real console scripts run as child processes,
``geno-lewm-score`` (parse → windows → encode → predict → calibrate → receipts → write, with the
annotated VCF and Parquet outputs) and ``geno-lewm-carbon-baseline`` (parse → windows → one encoder
pass per REF and per ALT window → write), alternating A/B within each repeat (order flipped every
repeat) over ``--repeats`` repeats; medians and minima are reported. Inputs are generated at run
time from ``--seed`` (:mod:`bench.synth`): *sparse* (about one variant per kb, germline-like),
*clustered* (ClinVar-like bursts) and *saturation* (every SNV of a region). Sparse and clustered
run over ``--fasta`` when it holds at least ``--reference-mb`` megabases, else over a seeded
synthetic reference of that size. Per density: ``world_model_vps`` and ``baseline_vps`` (variants
per second over each command's own scoring time, parse → write, after its model is loaded, read from
its ``--json`` summary), the same over the child's whole wall time (``*_with_startup``),
``end_to_end_ratio``, ``encoder_passes``, ``predictor_calls`` and ``peak_rss_mb`` (the child's own
peak, from ``wait4``; the children are started before this process imports torch, since a forked
child inherits its parent's high-water mark).

**Start-up** (``startup_s``): wall time of ``geno-lewm-score`` on a one-variant VCF (start-up to
the first score, verification included), beside a bare ``python -c "import torch"`` measured in the
same run. **Whole contig** (``whole_contig_saturation``): every SNV of the FASTA's first contig
(chrM: 49,704 ALTs) through ``geno-lewm-score``, start-up included.

**Kernel only** (the old figure, fields at the top level for the release evidence:
``single_variant_latency_ms``, ``batched_throughput_variants_per_s``, ``baseline``,
``speedup_vs_baseline``): ``Scorer.score`` vs ``BaselineScorer.score`` timed in-process, alternating
A/B, no VCF parsing, calibration, receipts or writing. Input: ``--vcf`` (plus every SNV of
``--window``), else the generated clustered VCF. Encoder passes are counted: GenoLeWM makes exactly
one per distinct reference window.

Without ``--model-dir`` the stand-in demo model is built (or reused) in ``--workdir`` exactly as
``geno-lewm-demo`` builds it. With ``--vcf`` the densities are skipped unless ``--densities`` names
them (the release step's call stays quick). ``--release-efficiency`` writes the report as
``efficiency_report.json`` evidence through :func:`geno_lewm.efficiency.build_efficiency_report`.
Timings are evidence of speed only, never of model quality; the machine and its load (``uptime``)
are recorded.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from geno_lewm.cli.score import score_argv
from geno_lewm.runtime import add_device_flag
from ledger.clikit import ArgumentParser, command
from ledger.identity import relative_or_name, sha256_file

from bench.report import TreeMemory, target_row, timings_note, worker_memory, write_json
from bench.synth import DEFAULT_SEED, DENSITIES, write_density_vcf, write_reference

#: Targets of issue 15 (2 CPU cores, stand-in model); reported beside the measurements.
TARGETS = {
    "startup_vs_torch_import": 2.0,  # start-up to first score ≤ 2× a bare torch import
    "peak_rss_mb": 800.0,  # at any N
    "whole_contig_vps_with_startup": 10_000.0,  # every chrM SNV end to end, start-up included
    "sparse_vps": 2_000.0,
    "ratio_saturation": 10.0,
    "ratio_sparse": 1.5,
}


def saturation_variants(reference: Any, region: str) -> list[Any]:
    """Every SNV (3 per ACGT base) of ``region`` as Variants, in order."""
    from geno_lewm.scoring.variants import Region, Variant

    reg = Region.parse(region)
    end = reg.end or reference.lengths[reg.chrom]
    seq = reference.fetch(reg.chrom, reg.start - 1, end)
    return [Variant(reg.chrom, reg.start + i, b, a) for i, b in enumerate(seq) if b in "ACGT" for a in "ACGT" if a != b]


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_average() -> dict[str, Any]:
    """The 1/5/15-minute load averages and the CPU count (the machine is shared: timings are noisy)."""
    one, five, fifteen = os.getloadavg()
    return {"loadavg_1m": round(one, 2), "loadavg_5m": round(five, 2), "loadavg_15m": round(fifteen, 2), "cpu_count": os.cpu_count()}


# --------------------------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------------------------


def run_child(cmd: list[str], *, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd``; return wall seconds, the child's own peak RSS (MiB, from ``wait4``), the sampled peak PSS of it and its children, and its stdout."""
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out_f, stderr=err_f, env=env)
        with TreeMemory(proc.pid) as memory:
            _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage (peak RSS), not the max over all children
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        out, err = out_f.read(), err_f.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} … exited {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024.0, "peak_pss_mb": memory.peak_mb, "stdout": out.decode()}


def score_cmd(model_dir: str, vcf: str | Path, fasta: str | Path, out: Path, *, threads: int | None, device: str, numerics: str = "default") -> list[str]:
    """``geno-lewm-score`` with every output a user asks for (scores, receipts, VCF, Parquet), in ``numerics`` mode."""
    argv = score_argv(
        model_dir,
        vcf,
        fasta,
        out / "s.jsonl",
        out / "r.jsonl",
        output_vcf=out / "s.vcf.gz",
        output_parquet=out / "s.parquet",
        device=device,
        threads=threads or None,
        numerics=None if numerics == "default" else numerics,
        json=True,
    )
    return [sys.executable, "-m", "geno_lewm.cli.score", *argv]


def baseline_cmd(model_dir: str, vcf: str | Path, fasta: str | Path, out: Path, *, window_bp: int, device: str) -> list[str]:
    """``geno-lewm-carbon-baseline`` on the package's encoder and window width (no log-likelihood cache)."""
    return [
        sys.executable,
        "-m",
        "geno_lewm.cli.carbon_baseline",
        "--artifact-root",
        "/",
        "--vcf",
        str(Path(vcf).resolve()),
        "--fasta",
        str(Path(fasta).resolve()),
        "--carbon-model-dir",
        str((Path(model_dir) / "encoder").resolve()),
        "--output-scores",
        str((out / "b.jsonl").resolve()),
        "--window-bp",
        str(window_bp),
        "--batch-size",
        "64",
        "--device",
        device,
        "--json",
    ]


def _child_env(threads: int | None) -> dict[str, str]:
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)  # the baseline CLI has no --threads
    return env


def _stats(values: list[float], digits: int = 3) -> dict[str, float]:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits), "max": round(max(values), digits)}


def _arm_figures(runs: list[dict[str, Any]], n: int, timing_key: str) -> dict[str, Any]:
    """One arm's figures over its repeats: median scoring seconds (the summary's ``timing[timing_key]``) and wall seconds, variants/s over each, wall stats, peak RSS."""
    scoring = max(statistics.median(float(x["summary"]["timing"][timing_key]) for x in runs), 1e-6)
    wall = statistics.median(x["wall_s"] for x in runs)
    return {
        "scoring_s": scoring,
        "wall_median_s": wall,
        "vps": round(n / scoring, 1),
        "vps_with_startup": round(n / wall, 1),
        "wall_s": _stats([x["wall_s"] for x in runs]),
        "peak_rss_mb": round(max(x["peak_rss_mb"] for x in runs), 1),
        "peak_pss_mb": max((x["peak_pss_mb"] for x in runs if x.get("peak_pss_mb") is not None), default=None),
    }


def _speed_fields(prefix: str, arm: dict[str, Any]) -> dict[str, Any]:
    """An arm's (:func:`_arm_figures`) variants/s, with start-up, scoring seconds and wall stats, as ``<prefix>vps`` … fields."""
    return {
        f"{prefix}vps": arm["vps"],
        f"{prefix}vps_with_startup": arm["vps_with_startup"],
        f"{prefix}scoring_s": round(arm["scoring_s"], 3),
        f"{prefix}wall_s": arm["wall_s"],
    }


def measure_startup(model_dir: str, fasta: str, work: Path, *, repeats: int, threads: int | None, device: str, window_bp: int) -> dict[str, Any]:
    """Start-up to the first score (one-variant VCF) of both commands vs a bare ``import torch``, alternating."""
    import pysam

    with pysam.FastaFile(fasta) as fa:
        chrom = fa.references[0]
        pos = min(1000, fa.get_reference_length(chrom))
        ref = fa.fetch(chrom, pos - 1, pos).upper()
        ref = ref if ref in "ACGT" else "A"
    vcf = work / "one.vcf"
    vcf.write_text(f"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n{chrom}\t{pos}\t.\t{ref}\t{'C' if ref != 'C' else 'G'}\t.\t.\t.\n")
    env = _child_env(threads)
    torch_t, score_t, base_t, score_rss, torch_rss = [], [], [], [], []
    for r in range(repeats):
        runs = [
            ("torch", [sys.executable, "-c", "import torch"]),
            ("score", score_cmd(model_dir, vcf, fasta, work, threads=threads, device=device)),
            ("base", baseline_cmd(model_dir, vcf, fasta, work, window_bp=window_bp, device=device)),
        ]
        for name, cmd in runs if r % 2 == 0 else runs[::-1]:
            res = run_child(cmd, env=env)
            {"torch": torch_t, "score": score_t, "base": base_t}[name].append(res["wall_s"])
            if name == "score":
                score_rss.append(res["peak_rss_mb"])
            elif name == "torch":
                torch_rss.append(res["peak_rss_mb"])
    s, t = statistics.median(score_t), statistics.median(torch_t)
    return {
        "startup_s": round(s, 3),
        "torch_import_s": round(t, 3),
        "ratio_vs_torch_import": round(s / t, 2),
        "baseline_startup_s": round(statistics.median(base_t), 3),
        "world_model": _stats(score_t),
        "baseline": _stats(base_t),
        "torch_import": _stats(torch_t),
        "world_model_peak_rss_mb": round(max(score_rss), 1),
        "torch_import_peak_rss_mb": round(max(torch_rss), 1),
        "what": "wall time of the command on a one-variant VCF (start-up to the first score, package verification included) vs `python -c 'import torch'`, alternating, medians",
        "repeats": len(torch_t),
    }


def measure_density(
    name: str,
    model_dir: str,
    vcf: Path,
    fasta: str | Path,
    alts: int,
    work: Path,
    *,
    repeats: int,
    threads: int | None,
    device: str,
    window_bp: int,
    baseline: bool = True,
    numerics_ab: bool = False,
) -> dict[str, Any]:
    """Both commands end to end on one generated VCF, alternating A/B over ``repeats``.

    With ``numerics_ab`` the world model also runs with ``--numerics reproducible`` in the same
    rotation, and the block reports that mode's variants/s beside the default's (issue 13's price).
    """
    env = _child_env(threads)
    lewm: list[dict[str, Any]] = []
    base: list[dict[str, Any]] = []
    pinned: list[dict[str, Any]] = []
    for r in range(repeats):
        runs = [("lewm", score_cmd(model_dir, vcf, fasta, work, threads=threads, device=device))]
        if baseline:
            runs.append(("base", baseline_cmd(model_dir, vcf, fasta, work, window_bp=window_bp, device=device)))
        if numerics_ab:
            runs.append(("pinned", score_cmd(model_dir, vcf, fasta, work, threads=threads, device=device, numerics="reproducible")))
        order = runs[r % len(runs) :] + runs[: r % len(runs)]  # the arm that goes first rotates per repeat
        for who, cmd in order:
            res = run_child(cmd, env=env)
            res["summary"] = json.loads(res.pop("stdout"))
            {"lewm": lewm, "base": base, "pinned": pinned}[who].append(res)
    s_lewm = lewm[-1]["summary"]
    n = int(s_lewm["counts"]["alts"])
    w = _arm_figures(lewm, n, "seconds")
    out: dict[str, Any] = {
        "variants": n,
        "generated_alts": alts,
        "vcf": vcf.name,
        "reference": Path(fasta).name,
        **_speed_fields("world_model_", w),
        "encoder_passes": int(s_lewm["work"]["windows_encoded"]),
        "encoder_calls": int(s_lewm["work"]["encoder_calls"]),
        "distinct_windows": int(s_lewm["work"]["distinct_windows"]),
        "predictor_calls": int(s_lewm["work"]["predictor_calls"]),
        "variants_per_window": round(n / max(1, int(s_lewm["work"]["distinct_windows"])), 2),
        "peak_rss_mb": w["peak_rss_mb"],
        **worker_memory(s_lewm, lewm[-1]["peak_rss_mb"]),
        "peak_pss_mb": w["peak_pss_mb"],
        "repeats": len(lewm),
    }
    if base:
        b = _arm_figures(base, n, "scoring_seconds")
        s_base = base[-1]["summary"]
        out.update(
            {
                **_speed_fields("baseline_", b),
                "baseline_encoder_passes": int(s_base["work"]["sequences_encoded"]),
                "baseline_encoder_calls": int(s_base["work"]["encoder_calls"]),
                "baseline_peak_rss_mb": b["peak_rss_mb"],
                "end_to_end_ratio": round(b["scoring_s"] / w["scoring_s"], 2),
                "end_to_end_ratio_with_startup": round(b["wall_median_s"] / w["wall_median_s"], 2),
                "ratio_limit": "encoder passes: the baseline pays one per ALT plus one per distinct REF window, the world model one per distinct window; "
                f"here {int(s_base['work']['sequences_encoded'])} vs {int(s_lewm['work']['windows_encoded'])} "
                f"(bound ≈ {round(int(s_base['work']['sequences_encoded']) / max(1, int(s_lewm['work']['windows_encoded'])), 2)}× when encoder passes dominate)",
            }
        )
    if pinned:
        p = _arm_figures(pinned, n, "seconds")
        out["numerics_reproducible"] = {
            "world_model_vps": p["vps"],
            "world_model_vps_with_startup": p["vps_with_startup"],
            "wall_s": p["wall_s"],
            "peak_rss_mb": p["peak_rss_mb"],
            "vps_ratio_reproducible_over_default": round(w["scoring_s"] / p["scoring_s"], 3),
            "note": "--numerics reproducible pins the CPU kernels (ATen default capability, MKL CNR, oneDNN SSE4.1) and one thread; see bench.numerics",
        }
    return out


# --------------------------------------------------------------------------------------------
# Kernel only (the old figure)
# --------------------------------------------------------------------------------------------


def measure(
    model_dir: str, vcf: str, fasta: str, *, window: str | None, variant: str | None, samples: int, warmup: int, batch_size: int, device: str
) -> dict[str, Any]:
    """Kernel-only measurements (``Scorer.score`` vs ``BaselineScorer.score`` in-process, alternating A/B)."""
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
        lat, lat_base = [], []
        for _ in range(samples):  # alternating A/B
            lat.append(run_lewm([single])[0] * 1000)
            lat_base.append(run_base([single])[0] * 1000)
        lewm_t, base_t = [], []
        stats = bstats = None
        for i in range(samples):  # alternating A/B, order flipped every sample
            for who in ("lewm", "base") if i % 2 == 0 else ("base", "lewm"):
                if who == "lewm":
                    t, stats = run_lewm(items)
                    lewm_t.append(t)
                else:
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
        "baseline": {
            "name": "carbon_zero_shot",
            "variants_per_s": round(base_vps, 1),
            "encoder_calls": bstats.encoder_calls,
            "sequences_encoded": bstats.sequences_encoded,
        },
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


KERNEL_ONLY_FIELDS = (
    "single_variant_latency_ms",
    "baseline_single_variant_latency_ms",
    "batched_throughput_variants_per_s",
    "baseline",
    "speedup_vs_baseline",
    "work",
    "one_encoder_pass_per_window",
    "peak_memory_mib",
    "variants",
    "distinct_windows",
    "variants_per_window",
)


def _targets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target beside its measurement (``met`` false for a miss; absent measurements skipped)."""
    rows = []

    def add(name: str, measured: float | None, target: float, *, at_most: bool = False) -> None:
        row = target_row(name, measured, target, at_most=at_most)
        if row is not None:
            rows.append(row)

    st = doc.get("startup")
    dens = doc.get("densities", {})
    whole = doc.get("whole_contig_saturation")
    add("start-up to first score / bare torch import", st and st["ratio_vs_torch_import"], TARGETS["startup_vs_torch_import"], at_most=True)
    runs = [*dens.values(), *([whole] if whole else [])]
    add("peak RSS MB (largest process of any run)", max(d["peak_rss_mb"] for d in runs) if runs else None, TARGETS["peak_rss_mb"], at_most=True)
    sums = [d["peak_rss_mb_sum"] for d in runs if "peak_rss_mb_sum" in d]
    add("peak RSS MB (all processes of a run added: an upper bound)", max(sums) if sums else None, TARGETS["peak_rss_mb"], at_most=True)
    pss = [d["peak_pss_mb"] for d in runs if d.get("peak_pss_mb") is not None]
    add(
        "peak memory MB of a run, all processes (PSS, sampled every 0.1 s for 2 s, then every 1 s)",
        max(pss) if pss else None,
        TARGETS["peak_rss_mb"],
        at_most=True,
    )
    add(
        "every SNV of the first contig, end to end incl. start-up, variants/s",
        whole and whole["world_model_vps_with_startup"],
        TARGETS["whole_contig_vps_with_startup"],
    )
    add("sparse variants/s (scoring time)", dens.get("sparse", {}).get("world_model_vps"), TARGETS["sparse_vps"])
    add("end-to-end ratio at saturation", dens.get("saturation", {}).get("end_to_end_ratio"), TARGETS["ratio_saturation"])
    add("end-to-end ratio at sparse density", dens.get("sparse", {}).get("end_to_end_ratio"), TARGETS["ratio_sparse"])
    return rows


def build_parser() -> ArgumentParser:
    """The command's argument parser (the release step registry reads its flags)."""
    p = ArgumentParser(
        prog="python -m bench.inference",
        description="Benchmark geno-lewm-score end to end against the Carbon zero-shot baseline on the same encoder, by variant density.",
    )
    p.add_argument("--model-dir", help="model package (default: build or reuse the stand-in demo model in --workdir)")
    p.add_argument("--fasta", required=True)
    p.add_argument(
        "--vcf", help="a VCF for the kernel-only figure (default: the generated clustered VCF); with it, densities run only when --densities names them"
    )
    p.add_argument("--output-json", default="bench/results/inference.json")
    p.add_argument("--densities", nargs="*", choices=DENSITIES, default=None, help="densities to run end to end (default: all three, none with --vcf)")
    p.add_argument("--repeats", type=int, default=3, help="A/B repeats per end-to-end measurement (medians reported)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed of the generated VCFs and reference (default {DEFAULT_SEED})")
    p.add_argument("--reference-mb", type=float, default=2.0, help="megabases for sparse/clustered (a seeded synthetic reference when --fasta is shorter)")
    p.add_argument("--saturation-bp", type=int, default=1000, help="bases of the saturation region (every SNV; A/B with the baseline)")
    p.add_argument("--whole-contig-max-bp", type=int, default=50_000, help="every SNV of the first contig up to this many bases (world model only; 0 skips)")
    p.add_argument("--workdir", default="geno-lewm-workspace/demo", help="where the stand-in demo model is built when --model-dir is absent")
    p.add_argument("--window", help="CHR:START-END: add every SNV of this region to the kernel-only set")
    p.add_argument("--variant", help="CHR:POS:REF:ALT for the single-variant latency (default: first variant)")
    p.add_argument("--samples", type=int, default=5, help="kernel-only samples")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (this process and the children)")
    add_device_flag(p, default="auto")
    p.add_argument(
        "--numerics-ab",
        default="clustered",
        choices=(*DENSITIES, "none"),
        help="density at which the world model also runs with --numerics reproducible, alternating with the default (CPU only; default clustered)",
    )
    p.add_argument("--release-efficiency", action="store_true", help="write efficiency_report.json evidence (generated_by=tools.release.efficiency_report)")
    return p


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    load_before = load_average()
    if args.model_dir is None:  # built in a child: this process stays small, so forked children's peak RSS is their own
        code = "import sys; from geno_lewm.cli.demo import ensure_demo_model; print(ensure_demo_model(sys.argv[1]))"
        args.model_dir = subprocess.run([sys.executable, "-c", code, args.workdir], check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    densities = list(args.densities) if args.densities is not None else ([] if args.vcf else list(DENSITIES))
    with tempfile.TemporaryDirectory(prefix="bench-inference-") as tmp:
        work = Path(tmp)
        import pysam

        with pysam.FastaFile(args.fasta) as fa:
            total = sum(fa.lengths)
            first = fa.references[0]
            first_len = fa.get_reference_length(first)
        need = int(args.reference_mb * 1_000_000)
        dense_fasta: Path = Path(args.fasta) if total >= need else write_reference(work / "synthetic.fa", total_bp=need, seed=args.seed)
        reference_note = (
            f"{Path(args.fasta).name}"
            if total >= need
            else f"synthetic {args.reference_mb} Mb reference, seed {args.seed} (--fasta holds {total:,} bp, too short for these densities)"
        )
        vcfs: dict[str, tuple[Path, Path, int]] = {}
        for d in DENSITIES:
            if d == "saturation":
                start = min(2000, max(0, first_len - args.saturation_bp))
                path, n = write_density_vcf(work / f"{d}.vcf", args.fasta, d, seed=args.seed, region=(first, start, min(first_len, start + args.saturation_bp)))
                vcfs[d] = (path, Path(args.fasta), n)
            else:
                path, n = write_density_vcf(work / f"{d}.vcf", dense_fasta, d, seed=args.seed)
                vcfs[d] = (path, dense_fasta, n)
        from geno_lewm.package import read_manifest

        window_bp = int(read_manifest(args.model_dir).state_contract.window_bp)
        end_to_end: dict[str, Any] = {}
        if densities:
            st = measure_startup(args.model_dir, args.fasta, work, repeats=args.repeats, threads=args.threads, device=args.device, window_bp=window_bp)
            end_to_end["startup"] = st
            end_to_end["startup_s"] = st["startup_s"]
            end_to_end["densities"] = {}
            for d in densities:
                vcf, fasta, n = vcfs[d]
                end_to_end["densities"][d] = measure_density(
                    d,
                    args.model_dir,
                    vcf,
                    fasta,
                    n,
                    work,
                    repeats=args.repeats,
                    threads=args.threads,
                    device=args.device,
                    window_bp=window_bp,
                    numerics_ab=d == args.numerics_ab and args.device != "cuda",
                )
                print(
                    f"{d}: {end_to_end['densities'][d]['world_model_vps']:,} vs {end_to_end['densities'][d]['baseline_vps']:,} variants/s → {end_to_end['densities'][d]['end_to_end_ratio']}×",
                    file=sys.stderr,
                )
            if args.whole_contig_max_bp:
                path, n = write_density_vcf(
                    work / "whole.vcf", args.fasta, "saturation", seed=args.seed, region=(first, 0, min(first_len, args.whole_contig_max_bp))
                )
                whole = measure_density(
                    "whole_contig",
                    args.model_dir,
                    path,
                    args.fasta,
                    n,
                    work,
                    repeats=args.repeats,
                    threads=args.threads,
                    device=args.device,
                    window_bp=window_bp,
                    baseline=False,
                )
                whole["region"] = f"{first}:1-{min(first_len, args.whole_contig_max_bp)}"
                end_to_end["whole_contig_saturation"] = whole
                print(
                    f"whole contig: {whole['variants']:,} variants end to end in {whole['world_model_wall_s']['median']} s ({whole['world_model_vps_with_startup']:,}/s incl. start-up)",
                    file=sys.stderr,
                )
        # kernel only, last: torch is loaded into this process only after every child has run
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        kernel_vcf, kernel_fasta = (args.vcf, args.fasta) if args.vcf else (str(vcfs["clustered"][0]), str(vcfs["clustered"][1]))
        res = measure(
            args.model_dir,
            kernel_vcf,
            kernel_fasta,
            window=args.window,
            variant=args.variant,
            samples=args.samples,
            warmup=args.warmup,
            batch_size=args.batch_size,
            device=args.device,
        )
    root = Path(args.model_dir)
    from geno_lewm.encoder.tiny import TINY_ENCODER_ID
    from geno_lewm.package import read_manifest

    tiny = read_manifest(root).encoder.id == TINY_ENCODER_ID
    command = ["python", "-m", "bench.inference"] + [relative_or_name(a, root) if os.path.isabs(a) else a for a in (argv if argv is not None else sys.argv[1:])]

    def ident(path: str) -> dict[str, Any]:
        d, n = sha256_file(path)
        return {"path": relative_or_name(path, root), "sha256": d, "size": n}

    doc: dict[str, Any] = {
        "schema_version": "1.1.0",
        "generated_by": "bench.inference",
        **res,
        "kernel_only_fields": list(KERNEL_ONLY_FIELDS),
        "kernel_only_note": "kernel only: Scorer.score vs BaselineScorer.score timed in-process (no VCF parsing, calibration, receipts or writing); the end-to-end figures are under densities",
        **end_to_end,
        "seed": args.seed,
        "dense_reference": reference_note,
        "load": {"before": load_before, "after": load_average()},
        "inputs": {
            "vcf": ident(args.vcf) if args.vcf else f"inline:generated clustered VCF, seed {args.seed}",
            "fasta": ident(args.fasta),
            "window": args.window and f"inline:{args.window}",
            "variant": f"inline:{args.variant}" if args.variant else "first scorable variant",
        },
        "benchmark_command": command,
        "limitations": [
            "Timings of one process on the hardware named, on a machine shared with other jobs (load recorded); not a model-quality measurement.",
            "Throughput depends on variants per window; the ratio grows with window density.",
            "variants/s = n / the command's own scoring time after its model is loaded (parse → write); *_with_startup = n / the child's wall time.",
        ]
        + (["Tiny stand-in encoder: the encoder/predictor cost ratio differs from real Carbon (see bench.carbon_shape)."] if tiny else []),
    }
    if res["stand_in"]:
        doc["stand_in_note"] = timings_note(root)
    if end_to_end and tiny and res["hardware"]["device"] == "cpu":
        doc["targets"] = _targets(doc)
    elif end_to_end:
        doc["targets_note"] = (
            "The targets (bench.inference TARGETS) are set for the tiny stand-in on 2 CPU cores; this run's encoder or device is another, so none is checked."
        )
    out = Path(args.output_json)
    if args.release_efficiency and out.name != "efficiency_report.json":
        out = out.with_name("efficiency_report.json") if out.suffix else out / "efficiency_report.json"
    if args.release_efficiency:
        from geno_lewm.efficiency import write_efficiency_report

        write_efficiency_report(out, doc, root=root)
    else:
        write_json(out, doc)
    print(
        f"kernel only: GenoLeWM {res['batched_throughput_variants_per_s']:,} variants/s vs zero-shot {res['baseline']['variants_per_s']:,} variants/s "
        f"→ {res['speedup_vs_baseline']}× ({res['variants']} variants, {res['variants_per_window']} per window; single-variant latency {res['single_variant_latency_ms']['median']} ms; "
        f"one encoder pass per window: {res['one_encoder_pass_per_window']})",
        file=sys.stderr,
    )
    for t in doc.get("targets", []):
        print(f"  {'✓' if t['met'] else '✗'} {t['name']}: {t['measured']} (target {t['target']})", file=sys.stderr)
    return 0


main = command(_main, "Run the benchmark and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
