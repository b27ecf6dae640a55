"""Where one scored variant's time goes, in one scoring process: ``python -m bench.variant_cost --model-dir M --fasta F``.

``geno-lewm-score`` on CUDA runs in one process (a CUDA context does not survive a fork), so its
rate is that process's per-variant cost. On one H200 at a Carbon-500M shape that cost was about
350 µs, of which the GPU's own work is a small part (docs/scoring.md). This splits it, on any device:

- per-variant wall time of each stage of :meth:`ScoringSession.score_chunk`, timed around the
  real calls: placing and scoring (``Scorer.score``) with its predictor calls
  (``ModelPackage.predict``, edit context included) and encoder calls (``device_hidden_states``)
  timed inside it, then rows with calibration and receipts, then their JSON;
- with ``--torch-profile``, torch's profiler over the same run (CPU, and CUDA where present): the
  ops that take the most self time, and the count and time of the host-device copies and
  synchronisations (``aten::copy_``, ``aten::_local_scalar_dense``, ``cudaStreamSynchronize``, …).

Input: every SNV of ``--region`` (default all of the first contig, capped at ``--max-bp``),
scored in chunks of 512 like the command. After one warm-up chunk the timed run starts with an
empty window cache.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.report import command_line, finish, host_basics, timings_note
from ledger.clikit import ArgumentParser, command

#: Profiler rows counted as host-device traffic or waits.
TRAFFIC_OPS = ("aten::copy_", "aten::_to_copy", "aten::_local_scalar_dense", "aten::item", "cudaMemcpyAsync", "cudaStreamSynchronize", "cudaDeviceSynchronize")


class _Timer:
    """Wrap ``owner.name`` so each call's wall time (device synchronised first and after, where CUDA) adds up."""

    def __init__(self, owner: Any, name: str, sync: Any) -> None:
        self.owner, self.name, self.sync, self.seconds, self.calls = owner, name, sync, 0.0, 0
        self.inner = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            sync()
            t = time.perf_counter()
            out = self.inner(*args, **kwargs)
            sync()
            self.seconds += time.perf_counter() - t
            self.calls += 1
            return out

        setattr(owner, name, timed)

    def restore(self) -> None:
        """Put the original attribute back."""
        setattr(self.owner, self.name, self.inner)


def _profile_rows(prof: Any, top: int) -> dict[str, Any]:
    """The ops with the most self CPU time (and CUDA time where present), and the host-device traffic rows."""
    events = prof.key_averages()

    def row(e: Any) -> dict[str, Any]:
        cuda = getattr(e, "self_device_time_total", None)
        if cuda is None:
            cuda = getattr(e, "self_cuda_time_total", 0)
        return {"op": e.key, "calls": e.count, "self_cpu_ms": round(e.self_cpu_time_total / 1e3, 3), "self_device_ms": round(cuda / 1e3, 3)}

    rows = [row(e) for e in events]
    return {
        "top_self_cpu": sorted(rows, key=lambda r: -r["self_cpu_ms"])[:top],
        "top_self_device": [r for r in sorted(rows, key=lambda r: -r["self_device_ms"])[:top] if r["self_device_ms"] > 0],
        "traffic": [r for r in rows if r["op"] in TRAFFIC_OPS],
    }


def measure(model_dir: str, fasta: str, *, region: str | None, max_bp: int, device: str, torch_profile: bool, top: int) -> dict[str, Any]:
    """Score every SNV of the region once after a warm-up chunk; the per-variant split (and the profiler's rows)."""
    import torch

    from bench.inference import saturation_variants
    from geno_lewm.scoring.batching import chunked
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.run import ScoringSession

    sess = ScoringSession(model_dir, device=device)
    cuda = sess.runtime["device"] == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    with Reference(fasta) as ref:
        chrom = ref.contigs[0]
        reg = region or f"{chrom}:1-{min(ref.lengths[chrom], max_bp)}"
        variants = saturation_variants(ref, reg)
        chunks = list(chunked(iter(variants), 512))
        stamp = "2026-01-01T00:00:00Z"
        sess.score_chunk(sess.scorer(ref), chunks[0], timestamp=stamp)  # warm-up: kernels, allocator, memo tables
        scorer = sess.scorer(ref)
        timers = [
            _Timer(scorer, "score", sync),
            _Timer(sess.package, "predict", sync),
            _Timer(sess.package.encoder, "device_hidden_states", sync),
        ]
        profiler = None
        if torch_profile:
            from torch.profiler import ProfilerActivity, profile

            profiler = profile(activities=[ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else []))
            profiler.__enter__()
        t = time.perf_counter()
        try:
            for chunk in chunks:
                sess.score_chunk(scorer, chunk, timestamp=stamp)
            sync()
        finally:
            wall = time.perf_counter() - t
            if profiler is not None:
                profiler.__exit__(None, None, None)
            for timer in timers:
                timer.restore()
    score, predict, encode = (x.seconds for x in timers)
    n = len(variants)

    def us(seconds: float) -> float:
        return round(seconds / n * 1e6, 1)

    # rows (a generator consumed inside score_chunk) and their JSON are what remains once scoring is taken out
    split = {
        "total": us(wall),
        "score (place, pool, encode, predict)": us(score),
        "  predictor calls incl. edit context": us(predict),
        "  encoder calls": us(encode),
        "  placing, pooling, memo tables": us(score - predict - encode),
        "rows, calibration, receipts, JSON": us(wall - score),
    }
    doc: dict[str, Any] = {
        "variants": n,
        "region": reg,
        "device": sess.runtime["device"],
        "dtype": sess.runtime["dtype"],
        "predictor_calls": timers[1].calls,
        "encoder_calls": timers[2].calls,
        "per_variant_us": split,
        "variants_per_s": round(n / wall, 1),
        "stand_in": sess.stand_in,
        "model_id": sess.model_id,
    }
    if sess.stand_in:
        doc["stand_in_note"] = timings_note(model_dir)
    if profiler is not None:
        doc["torch_profile"] = _profile_rows(profiler, top)
    return doc


def _main(argv: list[str] | None) -> int:
    p = ArgumentParser(prog="python -m bench.variant_cost", description="Where one scored variant's time goes in one scoring process.")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--fasta", required=True)
    p.add_argument("--region", help="CHR:START-END whose every SNV is scored (default: the first contig, capped at --max-bp)")
    p.add_argument("--max-bp", type=int, default=20_000)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--torch-profile", action="store_true", help="also run torch's profiler over the timed run (slower; its rows go into the JSON)")
    p.add_argument("--top", type=int, default=20, help="profiler rows kept per table")
    p.add_argument("--output-json", default="bench/results/variant_cost.json")
    args = p.parse_args(argv)
    import torch

    t0 = time.perf_counter()
    doc = measure(args.model_dir, args.fasta, region=args.region, max_bp=args.max_bp, device=args.device, torch_profile=args.torch_profile, top=args.top)
    doc = {
        "schema_version": "1.0.0",
        "generated_by": "bench.variant_cost",
        **doc,
        "machine": {**host_basics(), "torch": torch.__version__, "torch_threads": torch.get_num_threads()},
        "seconds": round(time.perf_counter() - t0, 1),
        "command": command_line("bench.variant_cost", argv),
        "claim_boundary": "Wall time of one scoring process on the machine named; each stage timed around its calls (device synchronised at their edges on CUDA). Not a model-quality measurement.",
    }
    return finish(
        args.output_json,
        doc,
        [f"{doc['device']}: {doc['variants']:,} variants, {doc['variants_per_s']:,}/s"] + [f"  {k}: {v} µs" for k, v in doc["per_variant_us"].items()],
    )


main = command(_main, "Run the per-variant cost benchmark and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
