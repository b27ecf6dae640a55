"""``python -m tools.demo.terminal_inference``: the release terminal demo (transcript + manifest).

Runs the real ``geno-lewm-score`` on the given inputs and writes, into ``--output-dir``: score and
receipt JSONL, ``score_receipt_batch_report.json``, ``runtime_preflight_report.json``,
``terminal_demo_transcript.md`` and ``terminal_demo_manifest.json``
(see :mod:`geno_lewm.scoring.demo_run`). Exit 0 when the demo passed.
"""

from __future__ import annotations

import json
import sys

from geno_lewm.runtime import add_device_flag
from ledger.clikit import ArgumentParser, command


def build_parser() -> ArgumentParser:
    """The command's argument parser (the release step registry reads its flags)."""
    p = ArgumentParser(
        prog="python -m tools.demo.terminal_inference", description="Run the terminal demo: real score command, verified receipts, transcript and manifest."
    )
    p.add_argument("--model-dir", required=True, help="model package directory")
    p.add_argument("--vcf", required=True, help="demo VCF")
    p.add_argument("--fasta", required=True, help="reference FASTA")
    p.add_argument("--output-dir", required=True, help="where the demo artifacts go (owned files are cleared first)")
    p.add_argument("--artifact-root", help="root recorded paths are relative to (default: the current directory)")
    add_device_flag(p, default="cpu")
    p.add_argument("--json", action="store_true", help="print the demo manifest on stdout")
    return p


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from geno_lewm.scoring.demo_run import MANIFEST, TRANSCRIPT, run_terminal_demo

    man = run_terminal_demo(args.model_dir, args.vcf, args.fasta, args.output_dir, artifact_root=args.artifact_root, device=args.device)
    print(f"terminal demo {man['status']}: exit code {man['exit_code']}; wrote {TRANSCRIPT} and {MANIFEST}", file=sys.stderr)
    if args.json:
        print(json.dumps(man, indent=2, sort_keys=True))
    return 0 if man["status"] == "passed" else 9


main = command(_main, "Run the terminal demo and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
