"""``python -m tools.release.hub_release``: the dry-run Hub upload plan (exact files, hashes, sizes, destinations).

The step's declaration; the plan itself is built by :mod:`tools.release.publication.hub_plan`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.release.engine.declare import Derived, Flag, Step, StepCall
from tools.release.publication.public_report import write_public_report
from tools.release.publication.targets import TARGET_FLAGS, targets_from_args
from tools.release.publication.hub_plan import GENERATED_BY, PLAN_NAME, build_plan


def _body(call: StepCall) -> str:
    out = Path(call.args.output)
    plan = build_plan(targets_from_args(call.args))
    write_public_report(out, plan, generated_by=GENERATED_BY)
    return f"hub release plan: {plan['file_count']} files, {len(plan['commands'])} exact-file commands -> {out.name}"


STEP = Step(
    "hub_release",
    gate="hub_plan",
    body=_body,
    check=targets_from_args,
    purpose="dry-run Hub upload plan: exact files from SHA256SUMS, dataset, demo assets, paper",
    flags=(
        *TARGET_FLAGS,
        Flag("--output", "plan file", default=Derived(f"<artifact root>/{PLAN_NAME}", lambda c: c.ctx.artifact_root / PLAN_NAME), role="output"),
    ),
    details="Dry-run Hub upload plan: exact files, hashes, sizes and destinations.",
)
main = STEP.main
build_parser = STEP.parser

if __name__ == "__main__":
    sys.exit(main())
