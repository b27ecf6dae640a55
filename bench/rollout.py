"""Rollout speed benchmark: K-step rollout through the predictor vs re-encoding every step.

``python -m bench.rollout --model-dir M --fasta F [--chains 16] [--steps 5 20]`` times, for each K,
alternating A/B, (a) the predictor path: one encoder pass over each chain's source window (inside the
timed path) then the predictor over the batch of synthetic SNV chains (``chained``: K calls, each
feeding the last prediction back; ``anchored``, the default for context models: the one pass is
pooled at every step's locus and one batched call predicts all K steps — RFC-0004), and (b) the re-encoding
path: the encoder runs on the edited window at every step and the state is pooled (what you pay
without a world model). Each path pays for everything it needs. It reports the measured speed-up beside the FLOP
ratio of one encoder pass to one predictor call (``torch.utils.flop_counter``). Results go to
``bench/results/rollout.json``. Timing evidence only: not model quality, clinical or release evidence.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from bench.report import finish, note_stand_in
from geno_lewm.runtime import add_device_flag
from ledger.clikit import ArgumentParser, command

CLAIM = "Rollout-speed timing evidence only; it is not model-quality, clinical, privacy or release-readiness evidence."


def flops(fn) -> int:
    """FLOPs counted by torch's FlopCounterMode for one call of ``fn``."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def _main(argv: list[str] | None) -> int:
    p = ArgumentParser(prog="python -m bench.rollout", description="K-step rollout through the predictor vs re-encoding each step.")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--fasta", required=True)
    p.add_argument("--chains", type=int, default=16)
    p.add_argument("--steps", type=int, nargs="+", default=[5, 20])
    p.add_argument("--samples", type=int, default=3)
    p.add_argument(
        "--mode",
        choices=("auto", "chained", "anchored"),
        default="auto",
        help="rollout mode timed (geno_lewm.rollout.ROLLOUT_MODES; auto: anchored for context models)",
    )
    add_device_flag(p, default="cpu")
    p.add_argument("--output-json", default="bench/results/rollout.json")
    args = p.parse_args(argv)

    import torch

    from geno_lewm.edits import apply_edit
    from geno_lewm.package import ModelPackage
    from geno_lewm.rollout import resolve_mode, synthetic_chains
    from geno_lewm.runtime import configure_determinism
    from geno_lewm.scoring.netguard import no_network
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.state import encode_states, locus_token_indices, pool_scales, pool_states

    configure_determinism(0)
    with no_network():
        pkg = ModelPackage.load(args.model_dir, device=args.device)
    wbp = int(pkg.contract.window_bp)
    mode = resolve_mode(pkg, args.mode)
    results: list[dict[str, Any]] = []
    with Reference(args.fasta) as ref:
        for k in args.steps:
            chains = synthetic_chains(ref, wbp, n_chains=args.chains, steps=k, seed=k)
            src, src_scales = encode_states(
                pkg.encoder, pkg.contract, [c.window.seq for c in chains], [c.edits[0].locus for c in chains], with_scales=True
            )  # (C, D), (C,)
            src_scales = src_scales if pkg.uses_scale else None

            def anchored_path(chains: list = chains, k: int = k) -> None:
                # the reference-anchored rollout (context models): one encoder pass over each chain's
                # reference window, pooled at every step's locus, then the predictor on all K steps
                # with the context reference → window carrying edits 1..t (string edits, no encoder pass)
                refs = [c.window.seq for c in chains]
                hidden = pkg.encoder.hidden_states(refs, pkg.contract.resolved_layer(pkg.encoder.num_layers))  # (C, T, H)
                idx = locus_token_indices(pkg.encoder.tokenizer, pkg.contract, [e.locus for c in chains for e in c.edits[:k]])  # (C*K,)
                hk = hidden.repeat_interleave(k, dim=0)  # (C*K, T, H)
                z = pool_states(hk, idx, pkg.contract)  # (C*K, D)
                sc = pool_scales(hk, idx, pkg.contract) if pkg.uses_scale else None  # (C*K,)
                alts: list[str] = []
                for c in chains:
                    cur = c.window.seq
                    for e in c.edits[:k]:
                        cur = apply_edit(cur, e)
                        alts.append(cur)
                windows = [(c.window.seq, c.window.right_flank) for c in chains for _ in range(k)]
                pkg.predict(z, [e for c in chains for e in c.edits[:k]], windows, alts=alts, scales=sc)  # (C*K, D)

            def chained_path() -> None:
                # pays for what it needs: the one source encode of each chain's window, then K predictor calls
                z, sc = encode_states(
                    pkg.encoder, pkg.contract, [c.window.seq for c in chains], [c.edits[0].locus for c in chains], with_scales=True
                )  # (C, D), (C,)
                sc = sc if pkg.uses_scale else None  # timing only: the first locus's scale stands in for each step's
                seqs = [c.window.seq for c in chains]
                for t in range(k):
                    ctx = [(s, c.window.right_flank) for s, c in zip(seqs, chains, strict=True)] if pkg.uses_context else None
                    z = pkg.predict(z, [c.edits[t] for c in chains], ctx, scales=sc)  # (C, D)
                    if ctx is not None:  # context models read the current sequence (a string edit, no encoder pass)
                        seqs = [apply_edit(s, c.edits[t]) for s, c in zip(seqs, chains, strict=True)]

            def encoder_path() -> None:
                seqs = [c.window.seq for c in chains]
                for t in range(k):
                    seqs = [apply_edit(s, c.edits[t]) for s, c in zip(seqs, chains, strict=True)]
                    encode_states(pkg.encoder, pkg.contract, seqs, [c.edits[t].locus for c in chains])  # (C, D)

            predictor_path = anchored_path if mode == "anchored" else chained_path
            predictor_path()
            encoder_path()
            tp, te = [], []
            for i in range(args.samples):  # alternating A/B, order flipped every sample
                for path, times in ((predictor_path, tp), (encoder_path, te)) if i % 2 == 0 else ((encoder_path, te), (predictor_path, tp)):
                    t = time.perf_counter()
                    path()
                    times.append(time.perf_counter() - t)
            mp, me = statistics.median(tp), statistics.median(te)
            results.append(
                {"k": k, "chains": len(chains), "predictor_rollout_s": round(mp, 5), "reencode_rollout_s": round(me, 5), "measured_speedup": round(me / mp, 2)}
            )
        one = [chains[0].window.seq]
        f_enc = flops(lambda: pkg.encoder.hidden_states(one, pkg.contract.resolved_layer(pkg.encoder.num_layers)))
        f_pred = flops(
            lambda: pkg.predict(
                src[:1],
                [chains[0].edits[0]],
                [(chains[0].window.seq, chains[0].window.right_flank)] if pkg.uses_context else None,
                scales=src_scales[:1] if src_scales is not None else None,
            )
        )
    doc = {
        "schema_version": "1.0.0",
        "generated_by": "bench.rollout",
        "model_id": pkg.model_id,
        "rollout_mode": mode,
        "release_id": pkg.manifest["release_id"],
        "stand_in": pkg.stand_in,
        "device": pkg.encoder.device.type,
        "torch_threads": torch.get_num_threads(),
        "samples": args.samples,
        "flops_per_encoder_pass": f_enc,
        "flops_per_predictor_call": f_pred,
        "flop_ratio_encoder_to_predictor": round(f_enc / max(f_pred, 1), 2),
        "results": results,
        "claim_boundary": CLAIM,
    }
    note_stand_in(doc, pkg.stand_in)
    return finish(
        args.output_json,
        doc,
        (
            f"K={r['k']:>3}: predictor {r['predictor_rollout_s'] * 1000:.1f} ms vs re-encode {r['reencode_rollout_s'] * 1000:.1f} ms → {r['measured_speedup']}× (FLOP ratio encoder/predictor {doc['flop_ratio_encoder_to_predictor']}×)"
            for r in results
        ),
    )


main = command(_main, "Run the rollout benchmark and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
