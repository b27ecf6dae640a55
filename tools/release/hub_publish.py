"""``python -m tools.release.hub_publish``: publish exactly the planned files, then regenerate the candidate.

The step's declaration; the uploads and the regenerated candidate are :mod:`tools.release.publication.hub_upload`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.errors import ReleaseError

from tools.release.engine.declare import Flag, Step, StepCall
from tools.release.publication import hub_plan
from tools.release.publication import decision
from tools.release.publication.targets import TARGET_FLAGS, targets_from_args
from tools.release.publication.hub_upload import REPORT_NAME, publish


def _body(call: StepCall) -> str:
    a = call.args
    doc = publish(targets_from_args(a), Path(a.plan_output), Path(a.candidate_output), Path(a.publish_output))
    if not doc["candidate_ready"]:
        first = doc["blockers"][0]
        raise ReleaseError(
            "NOT_READY",
            f"published, but the regenerated candidate is not ready: {first['name']} ({first['code']}) {' '.join(first['issue_refs'])}",
            "see the release-candidate report's blockers",
        )
    return f"published {doc['uploaded_files']} files in {len(doc['hub_commits'])} hub commits and {len(doc['github_assets'])} release(s); candidate ready"


STEP = Step(
    "hub_publish",
    gate="publication",
    body=_body,
    check=targets_from_args,
    purpose="upload exactly the planned files (one Hub commit per repo, GitHub release assets)",
    flags=(
        *TARGET_FLAGS,
        Flag("--plan-output", f"where to write {hub_plan.PLAN_NAME}", required=True, role="output"),
        Flag("--candidate-output", f"where to write {decision.REPORT_NAME}", required=True, role="output"),
        Flag("--publish-output", f"where to write {REPORT_NAME}", required=True, role="output"),
    ),
    details="Publish exactly the planned files (HF commits with parent_commit, GitHub release assets), then regenerate the release candidate.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
