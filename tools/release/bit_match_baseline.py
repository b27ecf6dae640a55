"""``python -m tools.release.bit_match_baseline``: INV-REL-2 — re-scoring a published model is bit for bit.

The step's declaration; the check and the baseline update are :mod:`tools.release.gate.bit_match`
(see there and docs/numerical-contract.md).
"""

from __future__ import annotations

import json
import sys

from ledger.clikit import flag_kwargs

from tools.release.engine.declare import Flag, Step, StepCall, common_flag
from tools.release.gate.bit_match import BASELINE_DIR, PACKAGE_NAME, STEP, run_recorded


def _check(args) -> None:
    if args.threads is not None and args.threads < 1:
        DECLARED.usage_error("--threads must be at least 1")
    if args.rebuild_model and not args.update_baseline:
        DECLARED.usage_error("--rebuild-model needs --update-baseline")


def _body(call: StepCall) -> None:
    a = call.args
    result = run_recorded(
        call.ctx,
        call.argv,
        **flag_kwargs(a, "project_root", "model_dir", "baseline_dir", "threads", "rebuild_model"),
        update=a.update_baseline,
    )
    if a.json:
        call.say(json.dumps(result, indent=2, sort_keys=True))
    verb = "wrote a new baseline" if result.get("updated") else "bit match"
    call.say(f"{verb}: {result['rows']} score rows and {result['commitments']} output commitments (model {result['model_id'][:12]}…)", err=True)


DECLARED = Step(
    STEP,
    gate="reproducibility",
    body=_body,
    check=_check,
    records="self",
    purpose="re-score the committed model package bit for bit against tests/baselines/bit_match (INV-REL-2)",
    flags=(
        Flag(
            "--model-dir",
            f"model package to score with (default: the committed package {BASELINE_DIR}/{PACKAGE_NAME}); with --update-baseline it becomes the committed package",
        ),
        Flag("--baseline-dir", f"baseline folder (default: {BASELINE_DIR} in the project root)"),
        common_flag("--project-root", help="source checkout holding examples/ and the baseline (default: this checkout)"),
        Flag("--threads", "passed to geno-lewm-score --threads (reproducible numerics always use one thread)", "int"),
        Flag("--update-baseline", "write a new baseline instead of checking (recorded as step bit_match_baseline.update)", "bool"),
        Flag("--rebuild-model", "with --update-baseline: rebuild the committed package from the recipe first (tools.release.gate.bit_match_model)", "bool"),
        common_flag("--json"),
    ),
    details="INV-REL-2: re-score the fixed input with the committed model package under reproducible numerics and compare score rows and output commitments byte for byte with the committed baseline.",
)
main = DECLARED.main


if __name__ == "__main__":
    sys.exit(main())
