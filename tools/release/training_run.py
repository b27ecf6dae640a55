"""``python -m tools.release.training_run``: package a completed training run.

Writes into the run directory ``training_run_manifest.json`` (``generated_by=tools.release.training_run``:
the identity of every run file, the bound preflight report, the release metadata), the
``training_run_card.md`` rendered from it, and ``training_run_SHA256SUMS`` over every run file.
Release metadata (``--metadata-json``) must name ``training_preflight_report.json`` in
``extra_files``; that report must be ok and carry dataset core-file evidence for
``dataset_package.json``, ``dataset_input_check_report.json``, ``dataset_snapshot_report.json`` and
``SHA256SUMS``.

The run package format (manifest, card, checksums, preflight binding) is
:mod:`geno_lewm.train.run_package`, which ``geno-lewm-train --carbon-train --package-release-run``
calls; :func:`package_run` here adds ledger recording (``ledger`` and ``signer`` given).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geno_lewm.train.run_package import (  # noqa: F401 - the run package format, re-exported for the release steps
    CARD,
    DATASET_CORE,
    GENERATED_BY,
    MANIFEST,
    PREFLIGHT,
    SUMS,
    WORKING_STATE,
    build_manifest,
    check_preflight,
    render_card,
    run_files,
    verify_run,
)
from geno_lewm.train.run_package import package_run as _package
from ledger.reports import load_json

from tools.release.engine.context import ReleaseContext
from tools.release.engine.declare import Flag, Step, StepCall
from tools.release.engine.recording import StepRun


def package_run(
    run_dir: str | Path, metadata: Mapping[str, Any] | None = None, *, ledger=None, signer=None, artifact_root: str | Path | None = None
) -> dict[str, Any]:
    """Package a completed run in ``run_dir``; return the manifest. Records a ``training_run`` step when ``ledger`` and ``signer`` are given.

    ``artifact_root`` (default: the current directory) is the root the ledger paths are relative to.
    """
    d = Path(run_dir)
    if ledger is not None and signer is not None:
        ctx = ReleaseContext(workspace_dir=Path.cwd(), artifact_root=Path(artifact_root or Path.cwd()).absolute())
        ctx._ledger, ctx._signer = ledger, signer
        with StepRun(ctx, "training_run", ["package_run", str(d)]) as run:
            doc = _package(d, metadata)
            run.output(d / MANIFEST), run.output(d / CARD), run.output(d / SUMS)
            for f in doc["files"]:
                run.input(d / f["path"])
        return doc
    return _package(d, metadata)


def _body(call: StepCall) -> str:
    d = Path(call.args.run_dir)
    doc = _package(d, load_json(call.args.metadata_json) if call.args.metadata_json else None)
    call.run.input(*[d / f["path"] for f in doc["files"]])
    call.run.output(d / MANIFEST, d / CARD, d / SUMS)
    return f"training run {doc['run_id']} packaged: {MANIFEST}, {CARD}, {SUMS} ({len(doc['files'])} run files)"


STEP = Step(
    "training_run",
    gate="training",
    body=_body,
    purpose="package a completed training run (manifest, card, training_run_SHA256SUMS)",
    flags=(
        Flag("--run-dir", "the training run directory", required=True),
        Flag("--metadata-json", "release metadata (release_id, extra_files naming training_preflight_report.json, …)", role="input"),
    ),
    details="Package a completed training run: manifest, card and training_run_SHA256SUMS.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
