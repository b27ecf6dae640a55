"""``python -m tools.release.model_package``: normalised model_package.json, model_card.md and SHA256SUMS for a model dir.

The step's declaration; packaging and verifying a model directory is :mod:`tools.release.model.packaging`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.release.engine.declare import Flag, Step, StepCall, common_flag
from ledger.artifacts import list_files
from ledger.reports import load_json
from tools.release.model.packaging import package_model


def _body(call: StepCall) -> str:
    d = Path(call.args.model_dir)
    written = package_model(d, load_json(call.args.metadata_json))
    call.run.input(*list_files(d, exclude=[p.name for p in written]))
    call.run.output(*written)
    return f"model package written: {', '.join(p.name for p in written)}"


STEP = Step(
    "model_package",
    gate="model_package",
    body=_body,
    purpose="normalised model_package.json, model_card.md and SHA256SUMS for a model dir",
    flags=(
        common_flag("--model-dir", help="model package directory (manifest.json, eval and efficiency reports)"),
        Flag("--metadata-json", "release metadata (release_id, commit, extra_files, …)", required=True, role="input"),
    ),
    details="Write model_package.json, model_card.md and SHA256SUMS for a model directory.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
