"""``python -m tools.release.eval_report``: render (or check) eval_report.md from an aggregated metrics JSON.

``--metrics-json M --output R`` writes the render of M to R; ``--check`` instead verifies that R
is the exact current render (``PROVENANCE.STALE_REPORT`` otherwise).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.clikit import ArgumentParser, run_cli


def _main(argv: list[str] | None) -> int:
    from geno_lewm.eval.jsonio import read_json
    from geno_lewm.eval.report import check_report, render_report
    from ledger.fsutil import atomic_write_text

    p = ArgumentParser(prog="python -m tools.release.eval_report", description="Render eval_report.md from a geno-lewm-eval(-all) metrics JSON.")
    p.add_argument("--metrics-json", required=True, help="metrics JSON (generated_by geno-lewm-eval or geno-lewm-eval-all)")
    p.add_argument("--output", required=True, help="report Markdown to write (or to check with --check)")
    p.add_argument("--check", action="store_true", help="do not write: fail with PROVENANCE.STALE_REPORT if --output is not the current render")
    args = p.parse_args(argv)
    if args.check:
        check_report(args.metrics_json, args.output)
        print(f"{Path(args.output).name} is the current render of {Path(args.metrics_json).name}")
        return 0
    text = render_report(read_json(args.metrics_json, "metrics JSON"))
    atomic_write_text(args.output, text)
    print(f"wrote {Path(args.output).name}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the report renderer and return its exit code."""
    return run_cli(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
