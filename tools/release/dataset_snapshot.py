"""``python -m tools.release.dataset_snapshot``: check a snapshot spec, check staged upstream inputs, or build the snapshot package.

The step's declarations (``dataset_snapshot`` and its two check modes); the work is :mod:`tools.release.dataset.snapshot`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.errors import InputError

from tools.release.engine.declare import Flag, Step, StepCall
from ledger.reports import write_report
from tools.release.dataset.snapshot import GENERATED_BY, build_snapshot, check_inputs, load_spec, record_sources


def _check(args) -> None:
    if not (args.check_spec or args.check_inputs or args.dataset_dir):
        raise InputError("USAGE", "give --check-spec, --check-inputs or --dataset-dir", "see python -m tools.release.dataset_snapshot --help")
    if args.check_spec and args.dataset_dir:
        raise InputError("USAGE", "--check-spec does not build; drop --dataset-dir", "run the modes one after another")


def _mode(args) -> str:
    return "dataset_spec_check" if args.check_spec else "dataset_input_check" if args.check_inputs else "dataset_snapshot"


def _body(call: StepCall) -> str:
    a, run = call.args, call.run
    spec_path, inputs_dir = Path(a.spec_json), Path(a.inputs_dir)
    spec, ident = load_spec(spec_path)
    if a.check_spec:
        return f"spec ok: {spec['snapshot_id']} sha256={ident['sha256']} sources={len(spec['sources'])} demo_snapshot={str(spec['demo_snapshot']).lower()}"
    record_sources(run, spec, inputs_dir)
    if a.check_inputs:
        report = check_inputs(spec, ident, inputs_dir)
        if a.output:
            write_report(a.output, report, generated_by=GENERATED_BY)
            run.output(a.output)
        return f"inputs ok: {len(report['sources'])} sources match the spec"
    run.output(a.dataset_dir)  # fails early when outside the artifact root
    report = build_snapshot(spec_path, inputs_dir, Path(a.dataset_dir), overwrite=a.overwrite)
    return f"snapshot {report['snapshot_id']} written: {', '.join(f'{k}={v}' for k, v in report['counts'].items())}"


STEP = Step(
    "dataset_snapshot",
    gate="dataset",
    body=_body,
    check=_check,
    run_name=_mode,
    purpose="build the dataset snapshot package from the spec and staged inputs",
    flags=(
        Flag("--spec-json", "dataset snapshot spec (configs/first_experiment/dataset-snapshot-snv.json)", required=True, role="input"),
        Flag("--check-spec", "validate the spec only", "bool", exclusive="mode"),
        Flag("--check-inputs", "check staged upstream inputs against the spec", "bool", exclusive="mode"),
        Flag("--inputs-dir", "directory the spec's source paths are relative to", default="."),
        Flag("--output", "with --check-inputs: write dataset_input_check_report.json here"),
        Flag("--dataset-dir", "build the snapshot package into this directory"),
        Flag("--overwrite", "replace an existing dataset directory", "bool"),
    ),
    details="Check a dataset snapshot spec, check staged upstream inputs, or build the snapshot package.",
)
SPEC_CHECK = STEP.alias("dataset_spec_check", "validate the dataset snapshot spec (--check-spec)", fixed_args=("--check-spec",))
INPUT_CHECK_STEP = STEP.alias("dataset_input_check", "check staged upstream inputs against the spec (--check-inputs)", fixed_args=("--check-inputs",))
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
