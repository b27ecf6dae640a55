"""``geno-lewm-release prepare --version X.Y.Z``: bump the version, draft the CHANGELOG, print the PR body.

The step's declaration; the semver check, version bump, CHANGELOG draft and PR body are
:mod:`tools.release.versioning.version_bump`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tools.release.engine.declare import Flag, Step, StepCall, common_flag
from tools.release.versioning.version_bump import STEP, pr_body, prepare


def _body(call: StepCall) -> None:
    from tools.release.gate.status import gate_states, render_text

    a = call.args
    if a.project_root:
        root = Path(a.project_root)
    else:
        from geno_lewm.resources import project_root

        root = project_root() or Path.cwd()
    result = prepare(call.ctx, root, a.version, argv=call.argv)
    call.ctx.close()  # the gate read below opens the ledger read-only
    if a.json:
        call.say(json.dumps(result.to_dict(), indent=2, sort_keys=True))
    else:
        call.say(pr_body(result, render_text(gate_states(call.ctx))).rstrip("\n"))


DECLARED = Step(
    STEP,
    gate="",
    body=_body,
    records="self",
    subcommand="prepare",
    purpose="check semver, bump __version__ + pyproject.toml, draft the CHANGELOG, print the release-PR body",
    flags=(
        Flag("--version", "the version to release, X.Y.Z (PEP 440 pre-releases a/b/rc allowed)", "str", required=True),
        common_flag("--project-root", help="source checkout to update (default: this checkout)"),
        common_flag("--json", help="print the result as JSON instead of the PR body"),
    ),
    details="Prepare a release: semver check, version bump, CHANGELOG draft, release-PR body.",
)
main = DECLARED.main


if __name__ == "__main__":
    sys.exit(main())
