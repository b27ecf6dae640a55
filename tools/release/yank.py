"""``geno-lewm-release yank``: flag a released model as yanked (ledger event, CHANGELOG, revocation list).

The step's declaration; the yank itself and the revocation list are
:mod:`tools.release.versioning.revocation`.
"""

from __future__ import annotations

import json
import sys

from ledger.errors import InputError

from tools.release.engine.declare import Flag, Step, StepCall, common_flag
from tools.release.versioning.revocation import DEFAULT_LIST_NAME, STEP, yank


def _check(args) -> None:
    if args.no_ledger:
        raise InputError("NEEDS_LEDGER", "yank is recorded in the ledger and the revocation list is generated from it", "drop --no-ledger")


def _body(call: StepCall) -> None:
    a = call.args
    res = yank(call.ctx, model_id=a.model_id, reason=a.reason, upgrade_to=a.upgrade_to, changelog=a.changelog, output=a.output, argv=call.argv)
    if a.json:
        call.say(json.dumps(res, indent=2, sort_keys=True))
    call.say(
        f"yanked {a.model_id[:16]}…; {res['revocation_list']} lists {len(res['yanked'])} model(s)"
        + ("; CHANGELOG updated" if res["changelog_updated"] else ""),
        err=True,
    )


DECLARED = Step(
    STEP,
    gate="",
    body=_body,
    check=_check,
    records="self",
    subcommand="yank",
    purpose="yank a released model: ledger event, CHANGELOG entry, revocation list",
    flags=(
        Flag("--model-id", "model id (sha256 of manifest.json) to yank", "str", required=True),
        Flag("--reason", "why it is yanked (goes to the ledger, the list and the CHANGELOG)", "str", required=True),
        Flag("--upgrade-to", "replacement model id or release id (the upgrade path)", "str", default=""),
        Flag("--output", f"revocation list file (default: {DEFAULT_LIST_NAME} under --workdir / the artifact root)"),
        Flag("--changelog", "CHANGELOG.md to update (default: CHANGELOG.md under the artifact root)"),
        common_flag("--json"),
    ),
    details="Yank a released model: ledger event, CHANGELOG entry and the revocation list.",
)
main = DECLARED.main


if __name__ == "__main__":
    sys.exit(main())
