"""Packaging a dataset: normalised dataset_package.json, data card, manifest, split integrity and SHA256SUMS.

Declared as the release step ``python -m tools.release.dataset_package``.

Given a dataset directory holding the reference and per-split VCFs and a metadata JSON
(``--metadata-json``; ``dataset_snapshot`` writes ``dataset_metadata.json``), this writes
``split_integrity.json`` (via :mod:`tools.release.dataset_integrity`), ``dataset_package.json``
(``generated_by=tools.release.dataset_package``), ``dataset_manifest.json``, ``data_card.md`` (a
pure render of the two JSON reports) and ``SHA256SUMS`` over every package file. All outputs are
computed before the first one is written; the outputs are deterministic, so re-running on an
unchanged package reproduces identical bytes.

:func:`verify_dataset` (:mod:`geno_lewm.datasets`, re-exported here) is the package verifier other steps
call (training preflight, paper).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger.canonical import canonical_json, sha256_hex

from tools.release.dataset import split_integrity
from ledger.artifacts import identity, list_files, write_sums
from geno_lewm.datasets import render_data_card, render_manifest, stamped as _stamped, verify_dataset  # noqa: F401 - verify_dataset: the package verifier, re-exported
from geno_lewm.release_metadata import validate_metadata
from ledger.reports import REPORT_SCHEMA_VERSION, check_public_report, dumps
from ledger.fsutil import atomic_write_text

GENERATED_BY = "tools.release.dataset_package"
PACKAGE_JSON = "dataset_package.json"
MANIFEST_JSON = "dataset_manifest.json"
DATA_CARD = "data_card.md"
SUMS = "SHA256SUMS"


def build_package_doc(dataset_dir: Path, metadata: Mapping[str, Any], integrity_text: str) -> dict[str, Any]:
    """The ``dataset_package.json`` body (pure given the files on disk and the integrity report text)."""
    files = [{**identity(dataset_dir / metadata["files"]["reference"], dataset_dir), "role": "reference"}]
    for name, rel in sorted(metadata["files"]["splits"].items()):
        files.append({**identity(dataset_dir / rel, dataset_dir), "role": f"variants:{name}"})
    body = integrity_text.encode("utf-8")
    return {
        "kind": "dataset_package",
        "snapshot_id": metadata["snapshot_id"],
        "title": metadata["title"],
        "description": metadata["description"],
        "demo_snapshot": metadata["demo_snapshot"],
        "snapshot_date": metadata["snapshot_date"],
        "variant_types": list(metadata["variant_types"]),
        "license": metadata["license"],
        "claim_boundary": metadata["claim_boundary"],
        "spec_sha256": metadata["spec_sha256"],
        "metadata_sha256": sha256_hex(canonical_json({k: v for k, v in metadata.items() if k not in ("generated_by", "schema_version")})),
        "sources": [dict(s) for s in metadata["sources"]],
        "split": dict(metadata["split"]),
        "labels": dict(metadata["labels"]),
        "files": files,
        "split_integrity": {"path": split_integrity.FILENAME, "sha256": sha256_hex(body), "size": len(body)},
    }


def package_dataset(dataset_dir: str | Path, metadata: Mapping[str, Any]) -> list[Path]:
    """Write split integrity, package JSON, manifest, data card and SHA256SUMS; return the written paths.

    Everything is validated and rendered in memory first, so a bad input writes nothing.
    """
    d = Path(dataset_dir)
    metadata = validate_metadata(metadata, "dataset")
    check_public_report(metadata, "dataset metadata")
    integrity = {
        "schema_version": REPORT_SCHEMA_VERSION,
        **split_integrity.build_split_integrity(d, metadata),
        "generated_by": split_integrity.GENERATED_BY,
    }
    integrity_text = dumps(integrity)
    package = _stamped(build_package_doc(d, metadata, integrity_text))
    check_public_report(package, PACKAGE_JSON)
    manifest = _stamped(render_manifest(package))
    card = render_data_card(package, integrity)
    # all rendered: now write
    atomic_write_text(d / split_integrity.FILENAME, integrity_text)
    atomic_write_text(d / PACKAGE_JSON, dumps(package))
    atomic_write_text(d / MANIFEST_JSON, dumps(manifest))
    atomic_write_text(d / DATA_CARD, card)
    write_package_sums(d)
    return [d / n for n in (split_integrity.FILENAME, PACKAGE_JSON, MANIFEST_JSON, DATA_CARD, SUMS)]


def write_package_sums(dataset_dir: str | Path) -> None:
    """(Re)write ``SHA256SUMS`` over every file in the package except itself."""
    d = Path(dataset_dir)
    write_sums(d / SUMS, list_files(d, exclude=[SUMS]), d)
