"""``geno-lewm-carbon-baseline``: Carbon zero-shot LLR (ALT vs REF window) on the same encoder.

Paths: relative paths are taken relative to ``--artifact-root``; absolute paths must lie inside
it (``INPUT.PATH_OUTSIDE_ROOT`` otherwise). The summary (``--output-summary``, default
``<output-scores stem>.summary.json``) records every path relative to the artifact root.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from geno_lewm.cli.options import add_flags
from geno_lewm.runtime import add_device_flag
from ledger.clikit import ArgumentParser, command, exit_at_once, finish
from ledger.fsutil import atomic_write_text
from ledger.identity import relative_to_root


def _under(root: Path, text: str, what: str) -> tuple[Path, str]:
    """Resolve ``text`` against ``root`` and return (path, root-relative POSIX path)."""
    p = Path(text)
    full = p if p.is_absolute() else root / p
    return full, relative_to_root(full, root, what)


def build_parser() -> ArgumentParser:
    """The command's argument parser (the release step registry reads its flags)."""
    p = ArgumentParser(
        prog="geno-lewm-carbon-baseline", description="Score VCF variants with the Carbon zero-shot log-likelihood ratio (the baseline for GenoLeWM)."
    )
    add_flags(p, "--artifact-root", "--vcf", "--fasta", "--carbon-model-dir", "--output-scores", required=True)
    p.add_argument("--logp-cache-jsonl", help="scoped sequence log-likelihood cache (read and updated)")
    p.add_argument("--output-summary", help="summary JSON (default: <output-scores stem>.summary.json)")
    p.add_argument("--window-bp", type=int, default=600, help="window width; use the model's state contract window (default 600)")
    add_flags(p, "--batch-size", default=32)
    add_flags(p, "--region")
    add_device_flag(p, default="auto")
    add_flags(p, "--json")
    return p


def _main(argv: list[str] | None) -> int:
    p = build_parser()
    args = p.parse_args(argv)

    from geno_lewm.baseline import GENERATED_BY, SCORE_FIELD, BaselineScorer, LogpCache, baseline_row
    from geno_lewm.encoder.carbon import CarbonEncoder
    from geno_lewm.runtime import configure_determinism, scoring_threads
    from geno_lewm.scoring.batching import chunked
    from geno_lewm.scoring.netguard import no_network
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.variants import Region, read_variants
    from geno_lewm.scoring.writers import JsonlWriter

    root = Path(args.artifact_root).resolve()
    if not root.is_dir():
        p.error(f"--artifact-root {args.artifact_root} is not a directory")
    vcf, vcf_rel = _under(root, args.vcf, "--vcf")
    fasta, fasta_rel = _under(root, args.fasta, "--fasta")
    model, model_rel = _under(root, args.carbon_model_dir, "--carbon-model-dir")
    out, out_rel = _under(root, args.output_scores, "--output-scores")
    cache_path, cache_rel = _under(root, args.logp_cache_jsonl, "--logp-cache-jsonl") if args.logp_cache_jsonl else (None, None)
    summary_arg = args.output_summary or str(out.with_name(out.name.removesuffix(".jsonl") + ".summary.json"))
    summary_path, summary_rel = _under(root, summary_arg, "--output-summary")

    configure_determinism(0, threads=scoring_threads(None), deterministic=True)
    t0 = time.perf_counter()
    with no_network():
        encoder = CarbonEncoder.load(model, device=args.device)
        ident = encoder.identity
        t_loaded = time.perf_counter()
        cache = LogpCache(cache_path, model=ident.encoder_id, revision=ident.revision, encoder_hash=ident.hash) if cache_path else None
        counts = {"alts": 0, "scored": 0, "errors": 0}
        errors: dict[str, int] = {}
        with Reference(fasta) as ref, JsonlWriter(out) as w:
            scorer = BaselineScorer(encoder, ref, args.window_bp, batch_size=args.batch_size, cache=cache)
            region = Region.parse(args.region) if args.region else None
            for chunk in chunked(read_variants(vcf, ref, region=region, max_allele_bp=max(1, args.window_bp // 4)), 512):
                for item in scorer.score(chunk):
                    w.write_lines(baseline_row(item, encoder_identity=ident) + b"\n", 1)
                    counts["alts"] += 1
                    if hasattr(item, "code"):
                        counts["errors"] += 1
                        errors[item.code] = errors.get(item.code, 0) + 1
                    else:
                        counts["scored"] += 1
        if cache is not None:
            cache.save()
    seconds = time.perf_counter() - t0
    summary = {
        "schema_version": "1.0.0",
        "generated_by": GENERATED_BY,
        "score_field": SCORE_FIELD,
        "baseline_name": "carbon_zero_shot",
        "encoder": {"id": ident.encoder_id, "revision": ident.revision, "hash": ident.hash, "stand_in": ident.stand_in},
        "inputs": {"carbon_model_dir": model_rel, "vcf": vcf_rel, "fasta": fasta_rel},
        "outputs": {"scores": out_rel, "logp_cache": cache_rel, "summary": summary_rel},
        "window_bp": args.window_bp,
        "counts": {**counts, "errors_by_code": dict(sorted(errors.items()))},
        "work": {**scorer.stats.to_dict(), "cache_rows_added": cache.added if cache else 0},
        "timing": {"seconds": round(seconds, 3), "scoring_seconds": round(time.perf_counter() - t_loaded, 3)},
    }
    if ident.stand_in:
        summary["stand_in_note"] = "Scored with the tiny stand-in encoder: the scores carry no biological skill."
    atomic_write_text(summary_path, json.dumps(summary, indent=2, sort_keys=True) + "\n")
    note = f"baseline: scored {counts['scored']:,} of {counts['alts']:,} ALTs in {seconds:.2f}s ({scorer.stats.encoder_calls} encoder calls, {scorer.stats.cache_hits} cache hits)"
    return finish(summary, as_json=args.json, note=note)


main = exit_at_once(command(_main, "Run ``geno-lewm-carbon-baseline`` and return its exit code."))


if __name__ == "__main__":
    sys.exit(main())
