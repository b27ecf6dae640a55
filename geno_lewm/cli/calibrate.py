"""``geno-lewm-calibrate``: build the package's calibration table from a null set and reseal it."""

from __future__ import annotations

import sys

from geno_lewm.cli.options import add_flags
from geno_lewm.runtime import add_device_flag
from ledger.clikit import ArgumentParser, command, finish


def build_parser() -> ArgumentParser:
    """The command's argument parser (the release step registry reads its flags)."""
    p = ArgumentParser(
        prog="geno-lewm-calibrate",
        description="Score a null set of random SNVs (disjoint from the training edits) and store the calibration table in the model package (RFC-0009).",
    )
    add_flags(p, "--model-dir", required=True, help="model package directory (resealed with calibration.parquet)")
    add_flags(p, "--fasta", required=True)
    p.add_argument("--n-null", type=int, default=2000, help="number of null SNVs (default 2000)")
    add_flags(p, "--seed", help="null-set seed")
    p.add_argument("--min-count", type=int, default=30, help="minimum null count of a bucket before back-off (default 30)")
    p.add_argument("--exclude-vcf", help="also exclude these variants' positions from the null set")
    add_device_flag(p, default="auto")
    add_flags(p, "--json")
    return p


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from geno_lewm.scoring.calibrate import calibrate_package

    doc = calibrate_package(
        args.model_dir, args.fasta, n_null=args.n_null, seed=args.seed, min_count=args.min_count, exclude_vcf=args.exclude_vcf, device=args.device
    )
    note = f"calibration table: {doc['null_set']['n']} null SNVs ({doc['null_set']['scope']}), {len(doc['buckets'])} buckets; model_id {doc['model_id'][:16]}…"
    return finish(doc, as_json=args.json, note=note)


main = command(_main, "Run ``geno-lewm-calibrate`` and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
