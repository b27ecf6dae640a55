"""``python -m tools.release.v02_benchmark_readiness``: v0.2 release-input readiness from an executed suite.

The step's declaration; the readiness rows and blockers are built by :mod:`tools.release.benchmark.readiness`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.errors import ReleaseError

from tools.release.engine.declare import Flag, Step, StepCall, path_or_none
from tools.release.publication.public_report import write_public_report
from tools.release.benchmark.readiness import GENERATED_BY, build


def _check(args) -> None:
    if Path(args.suite_report).resolve() == Path(args.output).resolve():
        STEP.usage_error(
            "--suite-report is the report this command is writing; it cannot be its own evidence", "execute the suite first, then run readiness on its report"
        )


def _body(call: StepCall) -> str:
    a = call.args
    doc = build(
        Path(a.suite_report),
        Path(a.metrics_json),
        Path(a.efficiency_report),
        call.ctx.artifact_root,
        path_or_none(a.rollout_speed_report),
        path_or_none(a.rollout_speed_scope_report),
    )
    write_public_report(a.output, doc, generated_by=GENERATED_BY)
    if not doc["ready"]:
        raise ReleaseError(
            "NOT_READY",
            f"v0.2 readiness: {len(doc['blockers'])} blocker(s): {', '.join(b['name'] for b in doc['blockers'])}",
            "see the readiness report's blockers and their issue refs",
        )
    return f"v0.2 benchmark readiness: ready -> {Path(a.output).name}"


STEP = Step(
    "v02_benchmark_readiness",
    gate="",
    body=_body,
    check=_check,
    purpose="release-input readiness from an executed passing suite report",
    flags=(
        Flag("--suite-report", "executed v02_benchmark_suite report", required=True, role="input"),
        Flag("--metrics-json", "aggregate eval_metrics.json (geno-lewm-eval-all)", required=True, role="input"),
        Flag("--efficiency-report", "efficiency_report.json", required=True, role="input"),
        Flag("--rollout-speed-report", "direct python -m bench.rollout report", role="input"),
        Flag("--rollout-speed-scope-report", "accepted tools.release.rollout_speed_scope report for a failed target", role="input"),
        Flag("--output", "readiness report JSON", required=True, role="output"),
    ),
    details="v0.2 release-input readiness from an executed suite report and its metrics.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
