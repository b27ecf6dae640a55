"""``python -m tools.demo.terminal_inference``: the release terminal demo (transcript + manifest).

Runs the real ``geno-lewm-score`` on the given inputs and writes, into ``--output-dir``: score and
receipt JSONL, ``score_receipt_batch_report.json``, ``runtime_preflight_report.json``,
``terminal_demo_transcript.md`` and ``terminal_demo_manifest.json``
(see :mod:`geno_lewm.scoring.demo_run`). Exit 0 when the demo passed.
"""

from __future__ import annotations

import sys

from geno_lewm.cli.options import add_flags
from geno_lewm.runtime import add_device_flag
from ledger.clikit import ArgumentParser, command, finish


def build_parser() -> ArgumentParser:
    """The command's argument parser (the release step registry reads its flags)."""
    p = ArgumentParser(
        prog="python -m tools.demo.terminal_inference", description="Run the terminal demo: real score command, verified receipts, transcript and manifest."
    )
    add_flags(p, "--model-dir", "--vcf", "--fasta", required=True)
    p.add_argument("--output-dir", required=True, help="where the demo artifacts go (owned files are cleared first)")
    add_flags(p, "--artifact-root", help="root the recorded paths are relative to (default: the current directory)")
    add_device_flag(p, default="cpu")
    add_flags(p, "--json", help="print the demo manifest on stdout")
    return p


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    from geno_lewm.scoring.demo_run import MANIFEST, TRANSCRIPT, run_terminal_demo

    man = run_terminal_demo(args.model_dir, args.vcf, args.fasta, args.output_dir, artifact_root=args.artifact_root, device=args.device)
    note = f"terminal demo {man['status']}: exit code {man['exit_code']}; wrote {TRANSCRIPT} and {MANIFEST}"
    return finish(man, as_json=args.json, note=note, code=0 if man["status"] == "passed" else 9)


main = command(_main, "Run the terminal demo and return its exit code.")


if __name__ == "__main__":
    sys.exit(main())
