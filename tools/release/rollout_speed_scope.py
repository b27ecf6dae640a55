"""``python -m tools.release.rollout_speed_scope``: a recorded, accepted re-scope of a failed rollout-speed target.

The step's declaration; building and checking the scope report is :mod:`tools.release.benchmark.speed_scope`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.release.engine.declare import Flag, Step, StepCall
from tools.release.publication.public_report import write_public_report
from tools.release.benchmark.speed_scope import GENERATED_BY, build_scope


def _body(call: StepCall) -> str:
    a = call.args
    doc = build_scope(Path(a.rollout_speed_report), call.ctx.artifact_root, vars(a), call.argv)
    write_public_report(a.output, doc, generated_by=GENERATED_BY)
    return f"rollout speed re-scoped (not passed): {len(doc['failed_targets'])} failed K target(s) -> {Path(a.output).name}"


STEP = Step(
    "rollout_speed_scope",
    gate="",
    body=_body,
    purpose="record an accepted re-scope of a failed rollout-speed target (stays rescoped)",
    flags=(
        Flag("--rollout-speed-report", "the failing python -m bench.rollout JSON", required=True, role="input"),
        Flag("--output", "scope report JSON", required=True, role="output"),
        Flag("--target-speedup", "the RFC-0004 target speed-up (e.g. 10)", "str", required=True),
        Flag("--accepted-by", "who accepted the re-scope", "str", required=True),
        Flag("--accepted-at", "UTC acceptance time (YYYY-MM-DDTHH:MM:SSZ)", "str"),
        Flag("--generated", "UTC generation time (default: now)", "str"),
        Flag("--decision-url", "HTTP(S) URL of the accepted decision", "str", required=True),
        Flag("--rationale", "why the re-scope is accepted", "str", required=True),
        Flag("--replacement-target", "the target that replaces the failed one", "str", required=True),
        Flag("--issue-ref", "GitHub issue ref (repeat; must include #42 and #197)", "str", repeat=True),
    ),
    details="Record an accepted re-scope of a failed rollout-speed target (stays rescoped, never passed).",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
