"""``python -m tools.release.paper_draft``: render the paper draft from the model, dataset and demo artifacts.

The step's declaration (and the input flags the paper steps share); collecting and rendering is :mod:`tools.release.paper.draft`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.fsutil import atomic_write_text

from tools.release.engine.declare import Flag, Step, StepCall, common_flag
from tools.release.paper.draft import collect, render, utc_now


def _body(call: StepCall) -> str:
    a = call.args
    bases = {"model": a.model_dir, "dataset": a.dataset_dir, "demo": a.demo_dir}
    inputs = collect(Path(a.model_dir), Path(a.dataset_dir), Path(a.demo_dir))
    for where, base in bases.items():
        for f in inputs["files"][where]:
            call.run.input(Path(base) / f["path"])
    atomic_write_text(a.output, render(inputs, utc_now()))
    return f"paper draft written: {Path(a.output).name}"


#: The packages a paper is rendered from and verified against (paper_draft and paper_package).
PAPER_INPUT_FLAGS = tuple(common_flag(name) for name in ("--model-dir", "--dataset-dir", "--demo-dir"))

STEP = Step(
    "paper_draft",
    gate="paper",
    body=_body,
    purpose="render the paper draft from model, dataset and demo artifacts",
    flags=(
        *PAPER_INPUT_FLAGS,
        Flag("--output", "paper draft Markdown to write", required=True, role="output"),
    ),
    details="Render the paper draft from the model, dataset and demo artifacts.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
