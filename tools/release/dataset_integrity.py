"""``python -m tools.release.dataset_integrity``: train/eval leakage evidence and observed class balance (split_integrity.json).

The step's declaration; the evidence is built by :mod:`tools.release.dataset.split_integrity`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.release.engine.declare import Derived, Flag, Step, StepCall, common_flag
from geno_lewm.release_metadata import validate_metadata
from ledger.reports import check_public_report, load_json
from tools.release.dataset.split_integrity import FILENAME, write_split_integrity


def _body(call: StepCall) -> str:
    d, meta_path = Path(call.args.dataset_dir), Path(call.args.metadata_json)
    metadata = validate_metadata(load_json(meta_path), "dataset", meta_path.name)
    check_public_report(metadata, meta_path.name)
    call.run.input(*[d / rel for rel in metadata["files"]["splits"].values()])
    doc = write_split_integrity(d, metadata)
    call.run.output(d / FILENAME)
    return f"{FILENAME}: ok={str(doc['ok']).lower()} splits={','.join(sorted(doc['splits']))} shared_keys={doc['leakage']['shared_key_count']}"


STEP = Step(
    "dataset_integrity",
    gate="dataset",
    body=_body,
    purpose="train/eval leakage evidence and observed class balance (split_integrity.json)",
    flags=(
        common_flag("--dataset-dir"),
        Flag(
            "--metadata-json",
            "dataset metadata",
            default=Derived("DATASET_DIR/dataset_metadata.json", lambda c: Path(c.args.dataset_dir) / "dataset_metadata.json"),
            role="input",
        ),
    ),
    details="Write split_integrity.json: train/eval leakage evidence and observed class balance.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
