"""``python -m tools.release.clean_machine_demo``: replay the terminal demo from the public bytes of a ready candidate.

The step's declaration; downloading, verifying and replaying is :mod:`tools.release.publication.clean_machine`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.release.engine.declare import Flag, Step, StepCall
from tools.release.publication.clean_machine import REPORT_NAME, replay_demo


def _body(call: StepCall) -> str:
    out = Path(call.args.output_dir)
    doc = replay_demo(Path(call.args.release_candidate_report), out, device=call.args.device, log=call.ctx.log)
    call.run.output(out / REPORT_NAME, out / "replay")
    return f"clean-machine replay passed: {len(doc['downloaded'])} published files verified, demo replayed ({len(doc['checks'])} checks) -> {REPORT_NAME}"


STEP = Step(
    "clean_machine_demo",
    gate="publication",
    body=_body,
    purpose="replay the terminal demo from the public bytes of a ready candidate",
    flags=(
        Flag("--release-candidate-report", "a generated, ready release_candidate_report.json", required=True, role="input"),
        Flag("--output-dir", "new, empty directory for the downloads, the replay and the report", required=True),
        Flag("--device", "device for the replayed demo (default cpu)", "choice", default="cpu", choices=("cpu", "cuda", "auto")),
    ),
    details="Download the published release and replay the terminal demo from those bytes.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
