"""``geno-lewm-rollout``: multi-step rollout fidelity (phased haplotypes, synthetic edit chains)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from geno_lewm.cli.options import add_flags
from geno_lewm.runtime import add_device_flag
from ledger.clikit import ArgumentParser, command
from ledger.errors import InputError
from ledger.fsutil import atomic_write_text

#: The rollout modes (kept here so the parser builds without importing torch; geno_lewm.rollout.ROLLOUT_MODES matches).
ROLLOUT_MODES = ("auto", "chained", "anchored")


def build_parser() -> ArgumentParser:
    """The command's argument parser (the release step registry reads its flags)."""
    p = ArgumentParser(
        prog="geno-lewm-rollout",
        description="Roll edit chains through the predictor alone and compare each step with the encoder's measured latent (cosine, L2, Recall@k) beside the source-state baseline.",
    )
    add_flags(p, "--model-dir", "--fasta", required=True)
    add_flags(p, "--vcf", help="VCF with phased genotypes (phased_haplotype track)")
    p.add_argument("--output-json", required=True, help="metrics JSON for the eval helper")
    p.add_argument("--synthetic-chains", type=int, default=32, help="synthetic chains (default 32; 0 = skip the track)")
    p.add_argument("--steps", type=int, default=5, help="edits per synthetic chain (default 5)")
    p.add_argument("--max-steps", type=int, default=20, help="longest phased-haplotype chain used (default 20)")
    p.add_argument("--k", type=int, default=5, help="k of Recall@k (default 5)")
    add_flags(p, "--seed", help="synthetic-chain and bootstrap seed")
    p.add_argument("--bootstrap", type=int, default=1000, help="chain-level bootstrap resamples for the intervals (default 1000; 0 = none)")
    p.add_argument("--ci-level", type=float, default=0.95, help="two-sided interval level (default 0.95)")
    p.add_argument("--split", default="test", help="split name the rows are reported under (default test)")
    p.add_argument(
        "--mode",
        choices=ROLLOUT_MODES,
        default="auto",
        help="chained: feed each prediction back as the next source; anchored: each step's source is the reference state at its own locus and the edit context holds every edit so far (context models only); auto (default): anchored for context models, else chained (RFC-0004)",
    )
    add_device_flag(p, default="auto")
    return p


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.bootstrap < 0 or not 0.0 < args.ci_level < 1.0:
        raise InputError("USAGE", "--bootstrap must be >= 0 and --ci-level strictly between 0 and 1")
    from geno_lewm.package import ModelPackage
    from geno_lewm.rollout import GENERATED_BY, SCHEMA_VERSION, genotype_source, haplotype_chains, metrics_rows, resolve_mode, rollout_track, synthetic_chains
    from geno_lewm.runtime import configure_determinism
    from geno_lewm.scoring.netguard import no_network
    from geno_lewm.scoring.reference import Reference

    configure_determinism(args.seed, deterministic=True)
    with no_network():
        pkg = ModelPackage.load(args.model_dir, device=args.device)
        wbp = int(pkg.contract.window_bp)
        with Reference(args.fasta) as ref:
            tracks = {}
            hap = haplotype_chains(args.vcf, ref, wbp, max_steps=args.max_steps) if args.vcf else []
            boot = {"k": args.k, "bootstrap": args.bootstrap, "ci_level": args.ci_level, "seed": args.seed, "mode": args.mode}
            tracks["phased_haplotype"] = rollout_track(pkg, hap, **boot)
            syn = synthetic_chains(ref, wbp, n_chains=args.synthetic_chains, steps=args.steps, seed=args.seed) if args.synthetic_chains > 0 else []
            tracks["synthetic_edit_chain"] = rollout_track(pkg, syn, **boot)
    sources = {"synthetic_edit_chain": "synthetic_edit_chains", "phased_haplotype": genotype_source(args.vcf) if args.vcf else None}
    rows = [r for name, res in tracks.items() for r in metrics_rows(name, res, split=args.split, data_source=sources.get(name))]
    doc = {
        "schema_version": SCHEMA_VERSION,
        "generated_by": GENERATED_BY,
        "model_id": pkg.model_id,
        "release_id": pkg.manifest["release_id"],
        "stand_in": pkg.stand_in,
        "k": args.k,
        "split": args.split,
        "inputs": {"fasta": Path(args.fasta).name, "vcf": Path(args.vcf).name if args.vcf else None},
        "settings": {
            "synthetic_chains": args.synthetic_chains,
            "steps": args.steps,
            "max_steps": args.max_steps,
            "seed": args.seed,
            "bootstrap": args.bootstrap,
            "ci_level": args.ci_level,
            "mode": resolve_mode(pkg, args.mode),
        },
        "rows": rows,
        "tracks": {name: {k: v for k, v in res.items()} for name, res in tracks.items()},
        "claim_boundary": "Rollout fidelity of latent predictions against measured encoder latents; not evidence of variant-effect accuracy or clinical validity.",
    }
    if pkg.stand_in:
        doc["stand_in_note"] = "Measured with the tiny stand-in encoder: numbers carry no biological meaning."
    atomic_write_text(args.output_json, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    for r in rows:
        if r["value"] is not None:
            ci = f" [{r['ci_low']:.4f}, {r['ci_high']:.4f}]" if r["ci_low"] is not None else ""
            print(f"{r['track']:22s} {r['metric']:12s} {r['value']:>10.4f}{ci}  (source state {r['baseline_value']:.4f}, n={r['n']})", file=sys.stderr)
        else:
            print(f"{r['track']:22s} {r['metric']:12s}        n/a  (no chains)", file=sys.stderr)
    return 0


main = command(_main, "Run ``geno-lewm-rollout`` and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
