"""``python -m tools.release.release_candidate``: the final publication decision report.

The step's declaration; the readiness rows, public link and byte checks are :mod:`tools.release.publication.decision`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.errors import ReleaseError

from tools.release.engine.declare import Flag, Step, StepCall
from tools.release.publication.public_report import write_public_report
from tools.release.publication.targets import TARGET_FLAGS, targets_from_args
from tools.release.publication.decision import GENERATED_BY, REPORT_NAME, build_candidate


def _body(call: StepCall) -> str:
    a = call.args
    plan = Path(a.plan) if a.plan else None
    doc = build_candidate(targets_from_args(a), plan_path=plan, allow_fixture=a.allow_fixture_manifest, skip_public=a.skip_public_link_check)
    write_public_report(Path(a.output), doc, generated_by=GENERATED_BY)
    if not doc["ready"]:
        first = doc["blockers"][0]
        raise ReleaseError(
            "NOT_READY",
            f"release candidate not ready: {len(doc['blockers'])} blocker(s), first {first['name']} ({first['code']}) {' '.join(first['issue_refs'])}",
            "fix the blockers named in the report and regenerate it",
        )
    return f"release candidate {doc['release_id']}: READY -> {Path(a.output).name}"


STEP = Step(
    "release_candidate",
    gate="publication",
    body=_body,
    check=targets_from_args,
    purpose="publication decision: readiness rows, issue refs, public link and byte checks",
    flags=(
        *TARGET_FLAGS,
        Flag("--plan", "hub_release_plan.json to hold to (must equal the plan of these packages)", role="input"),
        Flag("--output", f"report path ({REPORT_NAME})", required=True, role="output"),
        Flag("--allow-fixture-manifest", "accept a stand-in (fixture) model package: offline rehearsals only", "bool"),
        Flag("--skip-public-link-check", "skip public checks (only with --allow-fixture-manifest)", "bool"),
    ),
    details="Final publication decision: readiness rows, upload inventories, public link and artifact checks.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
