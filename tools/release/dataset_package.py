"""``python -m tools.release.dataset_package``: normalise dataset metadata; write data card, manifest, split integrity, SHA256SUMS.

The step's declaration; packaging is :mod:`tools.release.dataset.packaging`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools.release.engine.declare import Flag, Step, StepCall, common_flag
from geno_lewm.release_metadata import validate_metadata
from ledger.reports import load_json
from tools.release.dataset.packaging import package_dataset


def _body(call: StepCall) -> str:
    d, meta_path = Path(call.args.dataset_dir), Path(call.args.metadata_json)
    metadata = validate_metadata(load_json(meta_path), "dataset", meta_path.name)
    call.run.input(*[d / rel for rel in [metadata["files"]["reference"], *metadata["files"]["splits"].values()]])
    written = package_dataset(d, metadata)
    call.run.output(*written)
    return f"dataset package written: {', '.join(p.name for p in written)}"


STEP = Step(
    "dataset_package",
    gate="dataset",
    body=_body,
    purpose="normalise dataset metadata; write data card, manifest, split integrity, SHA256SUMS",
    flags=(
        common_flag("--dataset-dir", help="dataset package directory (reference + per-split VCFs)"),
        Flag("--metadata-json", "dataset metadata JSON (dataset_snapshot writes dataset_metadata.json)", required=True, role="input"),
    ),
    details="Generate dataset_package.json, data_card.md, dataset_manifest.json, split_integrity.json and SHA256SUMS.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
