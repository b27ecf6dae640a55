"""``python -m tools.release.eval_report``: render (or check) eval_report.md from an aggregated metrics JSON.

``--metrics-json M --output R`` writes the render of M to R; ``--check`` instead verifies that R
is the exact current render (``PROVENANCE.STALE_REPORT`` otherwise). Either way the run is recorded
in the ledger (R is an output when written, an input when checked).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.release.engine.declare import Flag, Step, StepCall


def _body(call: StepCall) -> str:
    from geno_lewm.eval.jsonio import read_json
    from geno_lewm.eval.report import check_report, render_report
    from ledger.fsutil import atomic_write_text

    a = call.args
    if a.check:
        call.run.input(a.output)
        check_report(a.metrics_json, a.output)
        return f"{Path(a.output).name} is the current render of {Path(a.metrics_json).name}"
    call.run.output(a.output)
    atomic_write_text(a.output, render_report(read_json(a.metrics_json, "metrics JSON")))
    call.say(f"wrote {Path(a.output).name}", err=True)
    return ""


STEP = Step(
    "eval_report",
    gate="",
    body=_body,
    purpose="render (or check) eval_report.md from an aggregated metrics JSON",
    flags=(
        Flag("--metrics-json", "metrics JSON (generated_by geno-lewm-eval or geno-lewm-eval-all)", required=True, role="input"),
        Flag("--output", "report Markdown to write (or to check with --check)", required=True),
        Flag("--check", "do not write: fail with PROVENANCE.STALE_REPORT if --output is not the current render", "bool"),
    ),
    details="Render eval_report.md from a geno-lewm-eval(-all) metrics JSON.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
