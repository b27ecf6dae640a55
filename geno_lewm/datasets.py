"""The dataset package format: its layout, the renders that are pure functions of its JSON, and its verifier.

A dataset package (``--dataset-dir D``; paths package-relative)::

    reference/<reference file>        copy of the upstream reference FASTA
    variants/<split>.vcf              one VCF per split (header kept, records sorted by position)
    dataset_metadata.json             input metadata for dataset_package (written by the snapshot)
    dataset_input_check_report.json   upstream source identities vs the spec (dataset_snapshot)
    split_integrity.json              leakage evidence + class balance (dataset_integrity)
    dataset_package.json              normalised metadata (dataset_package)
    dataset_manifest.json             file identities by role (dataset_package)
    data_card.md                      render of dataset_package.json + split_integrity.json
    dataset_snapshot_report.json      spec hash, source and package file identities (dataset_snapshot)
    SHA256SUMS                        every file above except itself

The release steps ``tools.release.dataset_*`` write packages; training (``geno-lewm-train
--carbon-preflight``) and the paper read them through :func:`verify_dataset`. Nothing here imports
torch or the release tools.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from ledger.artifacts import check_complete_sums, check_fresh
from ledger.errors import ProvenanceError, ReleaseError
from ledger.reports import REPORT_SCHEMA_VERSION, check_rendered, decode, dumps, load_report, md_table

PACKAGE_JSON = "dataset_package.json"
MANIFEST_JSON = "dataset_manifest.json"
DATA_CARD = "data_card.md"
SUMS = "SHA256SUMS"
INTEGRITY_FILE = "split_integrity.json"
INPUT_CHECK = "dataset_input_check_report.json"
SNAPSHOT_REPORT = "dataset_snapshot_report.json"
METADATA = "dataset_metadata.json"
CORE_FILES = (PACKAGE_JSON, INPUT_CHECK, SNAPSHOT_REPORT, SUMS)
PACKAGE_GENERATED_BY = "tools.release.dataset_package"
INTEGRITY_GENERATED_BY = "tools.release.dataset_integrity"
SNAPSHOT_GENERATED_BY = "tools.release.dataset_snapshot"


def stamped(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` with ``schema_version`` first and the package step's ``generated_by`` last."""
    return {"schema_version": REPORT_SCHEMA_VERSION, **doc, "generated_by": PACKAGE_GENERATED_BY}


def render_data_card(package: Mapping[str, Any], integrity: Mapping[str, Any]) -> str:
    """``data_card.md`` from ``dataset_package.json`` and ``split_integrity.json`` (pure)."""
    lines = [f"# Data card: {package['title']}", ""]
    if package.get("demo_snapshot"):
        lines += ["> **Demo snapshot.** " + package["claim_boundary"], ""]
    else:
        lines += ["> " + package["claim_boundary"], ""]
    lines += [
        f"- Snapshot id: `{package['snapshot_id']}`",
        f"- Snapshot date: {package['snapshot_date']}",
        f"- Variant types: {', '.join(package['variant_types'])}",
        f"- License: {package['license']}",
        f"- Spec sha256: `{package['spec_sha256']}`",
        "",
        package["description"],
        "",
        "## Sources",
        "",
        md_table(
            ["name", "role", "reference", "sha256", "size", "origin", "license"],
            [[s["name"], s["role"], s["reference"], s["sha256"], s["size"], s["origin"], s["license"]] for s in package["sources"]],
        ),
        "## Files",
        "",
        md_table(["path", "role", "sha256", "size"], [[f["path"], f["role"], f["sha256"], f["size"]] for f in package["files"]]),
        "## Split rule",
        "",
        f"Rule: `{package['split']['rule']}`; comparable key: `{package['split']['key_scheme']}`; guard: {package['split']['guard_bp']} bp.",
        "",
        md_table(
            ["split", "contig", "start", "end"],
            [[name, r["contig"], r["start"], r["end"]] for name, lst in sorted(package["split"]["regions"].items()) for r in lst],
        ),
        "## Class balance (observed, from split_integrity.json)",
        "",
    ]
    classes = list(integrity["classes"])
    rows = []
    for name, s in sorted(integrity["splits"].items()):
        rows.append([name, s["n_variants"], *[s["class_balance"].get(c, 0) for c in classes], s["class_balance"].get("unlabelled", 0)])
    lines.append(md_table(["split", "variants", *classes, "unlabelled"], rows))
    leak = integrity["leakage"]
    lines += [
        "## Train/eval leakage evidence",
        "",
        f"- Comparable keys: `{leak['comparable_keys']}`",
        f"- Shared keys between splits: {leak['shared_key_count']}",
        f"- Shared positions between splits: {leak['shared_position_count']}",
        f"- Smallest distance from a variant to another split's region: {leak['min_cross_split_distance_bp']} bp (guard {leak['guard_bp']} bp)",
        f"- Excluded by the guard: {leak['guard_excluded_count']}",
        f"- Verdict: {'no leakage found' if integrity['ok'] else 'LEAKAGE'}",
        "",
        "## Labels",
        "",
        f"Label source: `{package['labels']['source']}` INFO field `{package['labels']['info_field']}`. {package['labels'].get('note', '')}".rstrip(),
        "",
    ]
    return "\n".join(lines)


def render_manifest(package: Mapping[str, Any]) -> dict[str, Any]:
    """``dataset_manifest.json`` body from ``dataset_package.json`` (pure)."""
    return {
        "kind": "dataset_manifest",
        "snapshot_id": package["snapshot_id"],
        "demo_snapshot": package["demo_snapshot"],
        "reference": next(f["path"] for f in package["files"] if f["role"] == "reference"),
        "splits": {name: next(f["path"] for f in package["files"] if f["role"] == f"variants:{name}") for name in sorted(package["split"]["regions"])},
        "key_scheme": package["split"]["key_scheme"],
        "label_field": package["labels"]["info_field"],
        "classes": list(package["labels"]["classes"]),
        "files": [dict(f) for f in package["files"]],
        "split_integrity": package["split_integrity"],
    }


class Leakage(msgspec.Struct):
    """The train/eval leakage evidence of ``split_integrity.json`` (other fields are carried through)."""

    comparable_keys: Literal["contig:pos:ref:alt"]  # KEY_SCHEME: keys are compared as contig:pos:ref:alt
    shared_key_count: int  # keys found in more than one split


class SplitEvidence(msgspec.Struct):
    """One split's observed evidence."""

    class_balance: dict[str, Any]  # class -> observed count
    keys_sha256: Annotated[str, msgspec.Meta(min_length=1)]  # identity of the split's key set


class SplitIntegrity(msgspec.Struct):
    """What a ``split_integrity.json`` must carry to count as split evidence."""

    leakage: Leakage  # comparable-key leakage evidence
    splits: Annotated[dict[str, SplitEvidence], msgspec.Meta(min_length=1)]  # split name -> evidence


def check_split_integrity(doc: Mapping[str, Any]) -> None:
    """Reject a ``split_integrity.json`` body without comparable-key leakage evidence or class balance (``RELEASE.SPLIT_EVIDENCE``)."""
    decode(
        doc,
        SplitIntegrity,
        what=f"{INTEGRITY_FILE} is not split evidence",
        error=lambda m, h: ReleaseError("SPLIT_EVIDENCE", m, h),
        hint="regenerate it with python -m tools.release.dataset_integrity",
    )


def load_split_integrity(path: str | Path) -> dict[str, Any]:
    """Read and check a ``split_integrity.json`` (``generated_by``, schema, evidence)."""
    doc = load_report(path, INTEGRITY_GENERATED_BY)
    check_split_integrity(doc)
    return doc


def verify_snapshot_reports(dataset_dir: str | Path, package: Mapping[str, Any]) -> None:
    """Check the snapshot and input-check reports of a package (generated_by, public paths, freshness)."""
    d = Path(dataset_dir)
    report = load_report(d / SNAPSHOT_REPORT, SNAPSHOT_GENERATED_BY)
    check = load_report(d / INPUT_CHECK, SNAPSHOT_GENERATED_BY)
    for key in ("input_check", "metadata", "package", "manifest", "data_card", "split_integrity"):
        if not isinstance(report.get(key), Mapping):
            raise ProvenanceError("SNAPSHOT_REPORT", f"{SNAPSHOT_REPORT} lacks the {key} identity", "rebuild the snapshot")
        check_fresh(report[key], d)
    for f in report.get("package_files", []):
        check_fresh(f, d)
    if report["spec"]["sha256"] != package["spec_sha256"] or check["spec"]["sha256"] != package["spec_sha256"]:
        raise ProvenanceError(
            "STALE_INPUT_CHECK", "the snapshot or input-check report names another spec than dataset_package.json", "rebuild the snapshot from one spec"
        )
    want = {s["name"]: s["sha256"] for s in package["sources"]}
    have = {s["name"]: s["sha256"] for s in check["sources"]}
    if want != have or not check.get("ok"):
        raise ProvenanceError(
            "STALE_INPUT_CHECK", f"{INPUT_CHECK} does not match the package's upstream source identities", "re-run the input check and rebuild the snapshot"
        )


def verify_dataset(dataset_dir: str | Path, *, require_snapshot: bool = True) -> dict[str, Any]:
    """Verify a dataset package; return ``dataset_package.json``. Raises a typed error naming the problem.

    Checks: ``SHA256SUMS`` (valid digests, no duplicates, every listed file fresh, core files and
    every package file covered); ``generated_by`` of each report; ``data_card.md`` and
    ``dataset_manifest.json`` re-render exactly from ``dataset_package.json`` (+ split integrity);
    split integrity has comparable-key leakage evidence and class balance; the snapshot and
    input-check reports are generated, public-safe and their recorded identities fresh.
    """
    d = Path(dataset_dir)
    required = list(CORE_FILES if require_snapshot else (PACKAGE_JSON, SUMS))
    check_complete_sums(
        d / SUMS,
        d,
        require=[f for f in required if f != SUMS] + [INTEGRITY_FILE, MANIFEST_JSON, DATA_CARD],
        what="dataset package",
        hint="re-run python -m tools.release.dataset_package",
    )
    package = load_report(d / PACKAGE_JSON, PACKAGE_GENERATED_BY)
    integrity = load_split_integrity(d / INTEGRITY_FILE)
    check_fresh(package["split_integrity"], d)
    for f in package["files"]:
        check_fresh(f, d)
    check_rendered(d / DATA_CARD, lambda: render_data_card(package, integrity))
    check_rendered(d / MANIFEST_JSON, lambda: dumps(stamped(render_manifest(package))))
    if require_snapshot:
        verify_snapshot_reports(d, package)
    return package
