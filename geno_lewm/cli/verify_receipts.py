"""``geno-lewm-verify-receipts``: recompute receipt commitments (and re-score a sample given inputs).

Integrity (commitments, pairing with the score rows, reference windows) must match exactly: a
changed byte exits 7. Reproduction (re-scoring with ``--fasta --vcf``) passes within the tolerant
tier's tolerance, or exactly with ``--numerics reproducible`` for receipts made that way; see
docs/numerical-contract.md.
"""

from __future__ import annotations

import sys

from geno_lewm.cli.options import add_flags
from geno_lewm.numerics_mode import add_numerics_flag
from geno_lewm.runtime import add_device_flag
from ledger.clikit import ArgumentParser, command, finish, flag_kwargs


def _main(argv: list[str] | None) -> int:
    p = ArgumentParser(
        prog="geno-lewm-verify-receipts", description="Verify receipts against the model package and score rows; fails naming the first bad receipt line."
    )
    add_flags(p, "--model-dir", required=True, help="model package directory the receipts claim")
    p.add_argument("--receipts", required=True, help="receipts JSONL")
    p.add_argument("--scores", required=True, help="score rows JSONL written with the receipts")
    add_flags(p, "--fasta", help="reference FASTA: rebuild and hash every committed reference window")
    add_flags(p, "--vcf", help="input VCF (with --fasta): re-score a sample of receipts")
    p.add_argument("--sample", type=int, default=16, help="receipts to re-score with --fasta/--vcf (default 16)")
    p.add_argument("--revocation-list", help="JSON list of yanked model ids (warns model_yanked; still verifies)")
    add_device_flag(p, default="cpu")
    add_numerics_flag(p)
    add_flags(p, "--json", help="print the result as JSON on stdout")
    args = p.parse_args(argv)
    if args.vcf and not args.fasta:
        p.error("--vcf needs --fasta")
    from geno_lewm import numerics_mode

    if args.vcf and numerics_mode.needs_reexec(args.numerics):  # torch already loaded unpinned here: re-score in a fresh process
        return numerics_mode.reexec_pinned("geno_lewm.cli.verify_receipts", list(sys.argv[1:] if argv is None else argv))
    if args.vcf:
        numerics_mode.require(args.numerics)  # before torch loads
    from geno_lewm.scoring.receipts import verify_receipts

    res = verify_receipts(args.model_dir, args.receipts, args.scores, **flag_kwargs(args, "fasta", "vcf", "revocation_list", "sample", "device", "numerics"))
    for w in res.warnings:
        upgrade = f"; upgrade to {w['upgrade_to']}" if w.get("upgrade_to") else ""
        print(f"warning[{w['code']}]: model {w['model_id'][:16]}… is yanked ({w['reason']}){upgrade}", file=sys.stderr)
    print(
        f"verified {res.receipts:,} receipts against {res.score_rows:,} scored rows ({res.error_rows:,} error rows); windows checked {res.windows_checked:,}; re-scored {res.rescored:,}",
        file=sys.stderr,
    )
    return finish(res.to_dict(), as_json=args.json, note=res.reproduction_line() or None)


main = command(_main, "Run ``geno-lewm-verify-receipts`` and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
