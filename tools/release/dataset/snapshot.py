"""The dataset snapshot: spec and upstream-input checks, and building the snapshot package from staged inputs.

Declared as the release step ``python -m tools.release.dataset_snapshot``.

Three modes (the release page's order)::

    python -m tools.release.dataset_snapshot --spec-json SPEC --check-spec
    python -m tools.release.dataset_snapshot --spec-json SPEC --check-inputs --inputs-dir DIR [--output REPORT]
    python -m tools.release.dataset_snapshot --spec-json SPEC --inputs-dir DIR --dataset-dir OUT [--overwrite]

Source paths in the spec are relative to ``--inputs-dir`` (default: the current directory). The
build copies the reference, splits the variants by region (SNVs only, REF checked against the
reference), writes ``dataset_metadata.json`` and ``dataset_input_check_report.json``, packages the
result (:mod:`tools.release.dataset_package`), then writes ``dataset_snapshot_report.json`` and
refreshes ``SHA256SUMS`` to cover it. The whole package is built in a temporary sibling directory
and swapped in at the end, so a failure leaves the previous package (or nothing) behind.
Recorded steps: ``dataset_spec_check``, ``dataset_input_check``, ``dataset_snapshot``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger.errors import InputError, ProvenanceError, ReleaseError
from ledger.fsutil import atomic_write_text

from ledger.artifacts import identity, sha256_file
from tools.release.dataset.spec import source_by_role, validate_spec
from tools.release.dataset.variants import check_variant, distance_to_other_splits, read_fasta, read_vcf, split_of
from tools.release.engine.recording import StepRun
from ledger.reports import load_json, write_report

GENERATED_BY = "tools.release.dataset_snapshot"
INPUT_CHECK = "dataset_input_check_report.json"
SNAPSHOT_REPORT = "dataset_snapshot_report.json"
METADATA = "dataset_metadata.json"


def load_spec(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read and validate a spec; return (spec, spec file identity ``{name, sha256, size}``)."""
    p = Path(path)
    spec = validate_spec(load_json(p, "dataset snapshot spec"))
    digest, size = sha256_file(p)
    return spec, {"name": p.name, "sha256": digest, "size": size}


def check_inputs(spec: Mapping[str, Any], spec_ident: Mapping[str, Any], inputs_dir: str | Path) -> dict[str, Any]:
    """The ``dataset_input_check_report.json`` body; raises ``PROVENANCE.INPUT_MISMATCH`` on any mismatch."""
    root = Path(inputs_dir)
    sources = []
    for src in spec["sources"]:
        p = root / src["path"]
        if not p.is_file():
            raise InputError(
                "MISSING_FILE",
                f"upstream source {src['name']} not found at {src['path']} under --inputs-dir",
                "stage the upstream files under --inputs-dir as the spec names them",
            )
        digest, size = sha256_file(p)
        if digest != src["sha256"] or size != src["size"]:
            raise ProvenanceError(
                "INPUT_MISMATCH",
                f"upstream source {src['name']} ({src['path']}) has sha256 {digest[:12]}… size {size}; the spec expects {src['sha256'][:12]}… size {src['size']}",
                "stage the exact upstream file the spec names (or update the spec after review)",
            )
        sources.append(
            {"name": src["name"], "role": src["role"], "reference": src["path"], "sha256": digest, "size": size, "expected_sha256": src["sha256"], "ok": True}
        )
    return {"kind": "dataset_input_check", "snapshot_id": spec["snapshot_id"], "spec": dict(spec_ident), "sources": sources, "ok": True}


def _public_sources(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": s["name"], "role": s["role"], "reference": s["path"], "sha256": s["sha256"], "size": s["size"], "origin": s["origin"], "license": s["license"]}
        for s in spec["sources"]
    ]


def _build_into(out: Path, spec: Mapping[str, Any], spec_ident: Mapping[str, Any], inputs_dir: Path) -> dict[str, Any]:
    from tools.release.dataset import packaging

    check = check_inputs(spec, spec_ident, inputs_dir)
    ref_src, var_src = source_by_role(spec, "reference"), source_by_role(spec, "variants")
    fasta = read_fasta(inputs_dir / ref_src["path"])
    header, variants = read_vcf(inputs_dir / var_src["path"], spec["labels"]["info_field"])
    regions = spec["split"]["regions"]
    guard = spec["split"]["guard_bp"]
    by_split: dict[str, list] = {name: [] for name in regions}
    excluded = {"not_snv": 0, "outside_regions": 0, "guard": 0}
    guard_excluded: list[str] = []
    classes = set(spec["labels"]["classes"])
    for v in variants:
        why = check_variant(v, fasta, var_src["path"])
        if why:
            excluded[why] += 1
            continue
        if v.label and v.label not in classes:
            raise InputError("BAD_LABEL", f"{v.key} has label {v.label!r}, not one of {sorted(classes)}", "fix the labels or the spec's labels.classes")
        split = split_of(v, regions)
        if split is None:
            excluded["outside_regions"] += 1
            continue
        dist = distance_to_other_splits(v, split, regions)
        if dist is not None and dist <= guard:
            excluded["guard"] += 1
            guard_excluded.append(v.key)
            continue
        by_split[split].append(v)
    for name, lst in by_split.items():
        if not lst:
            raise ReleaseError("EMPTY_SPLIT", f"split {name} has no variants after filtering", "adjust the split regions in the spec")
    ref_rel = f"reference/{Path(ref_src['path']).name}"
    (out / "reference").mkdir(parents=True)
    (out / "variants").mkdir()
    shutil.copyfile(inputs_dir / ref_src["path"], out / ref_rel)
    _index_fasta(out / ref_rel)
    split_files = {}
    for name, lst in sorted(by_split.items()):
        rel = f"variants/{name}.vcf"
        lines = header + [v.line for v in sorted(lst, key=lambda v: (v.contig, v.pos, v.ref, v.alt))]
        atomic_write_text(out / rel, "\n".join(lines) + "\n")
        split_files[name] = rel
    write_report(out / INPUT_CHECK, check, generated_by=GENERATED_BY)
    metadata = {
        "kind": "dataset_metadata",
        "snapshot_id": spec["snapshot_id"],
        "title": spec["title"],
        "description": spec["description"],
        "demo_snapshot": spec["demo_snapshot"],
        "snapshot_date": spec["snapshot_date"],
        "variant_types": list(spec["variant_types"]),
        "license": spec["license"],
        "claim_boundary": spec["claim_boundary"],
        "spec_sha256": spec_ident["sha256"],
        "sources": _public_sources(spec),
        "split": dict(spec["split"]),
        "labels": dict(spec["labels"]),
        "files": {"reference": ref_rel, "splits": split_files},
        "guard_excluded": guard_excluded,
        "excluded_counts": excluded,
    }
    write_report(out / METADATA, metadata, generated_by=GENERATED_BY)
    packaging.package_dataset(out, load_json(out / METADATA))
    package = load_json(out / packaging.PACKAGE_JSON)
    report = {
        "kind": "dataset_snapshot_report",
        "snapshot_id": spec["snapshot_id"],
        "demo_snapshot": spec["demo_snapshot"],
        "claim_boundary": spec["claim_boundary"],
        "spec": dict(spec_ident),
        "sources": _public_sources(spec),
        "input_check": identity(out / INPUT_CHECK, out),
        "metadata": identity(out / METADATA, out),
        "package": identity(out / packaging.PACKAGE_JSON, out),
        "manifest": identity(out / packaging.MANIFEST_JSON, out),
        "data_card": identity(out / packaging.DATA_CARD, out),
        "split_integrity": identity(out / "split_integrity.json", out),
        "package_files": [{"path": f["path"], "sha256": f["sha256"], "size": f["size"]} for f in package["files"]],
        "counts": {
            "input_variants": len(variants),
            **{f"split_{k}": len(v) for k, v in sorted(by_split.items())},
            **{f"excluded_{k}": n for k, n in sorted(excluded.items())},
        },
    }
    write_report(out / SNAPSHOT_REPORT, report, generated_by=GENERATED_BY)
    packaging.write_package_sums(out)
    return report


def _index_fasta(path: Path) -> None:
    """Write ``<fasta>.fai`` beside the packaged reference, so readers never add files to the package."""
    import pysam

    pysam.faidx(str(path))


def build_snapshot(spec_json: str | Path, inputs_dir: str | Path, dataset_dir: str | Path, *, overwrite: bool = False) -> dict[str, Any]:
    """Build the dataset snapshot package at ``dataset_dir`` (atomic directory swap); return the report."""
    spec, spec_ident = load_spec(spec_json)
    dest = Path(dataset_dir)
    if dest.exists() and any(dest.iterdir()) and not overwrite:
        raise InputError("OUTPUT_EXISTS", f"dataset directory {dest.name} is not empty", "pass --overwrite to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.building-", dir=dest.parent))
    try:
        report = _build_into(tmp, spec, spec_ident, Path(inputs_dir))
        old = None
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            os.replace(dest, old)
        os.replace(tmp, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def record_sources(run: StepRun, spec: Mapping[str, Any], inputs_dir: Path) -> None:
    """Record the spec's upstream sources that are staged under ``inputs_dir`` as the step's inputs."""
    for src in spec["sources"]:
        if (inputs_dir / src["path"]).is_file():
            run.input(inputs_dir / src["path"])
