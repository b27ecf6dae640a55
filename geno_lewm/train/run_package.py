"""The training run package: ``training_run_manifest.json``, ``training_run_card.md``, ``training_run_SHA256SUMS``.

The manifest (``generated_by=tools.release.training_run``) holds the identity of every run file, the
bound preflight report and the release metadata; the card is rendered from it; the checksums cover
every run file. Release metadata must name ``training_preflight_report.json`` in ``extra_files``;
that report must be ok and carry dataset core-file evidence.

``geno-lewm-train --carbon-train --package-release-run`` calls :func:`package_run`;
``python -m tools.release.training_run`` is the recorded release step around it. Nothing here
imports torch or the release tools.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geno_lewm.release_metadata import PREFLIGHT, validate_metadata
from ledger.artifacts import check_sums, identity, render_sums
from ledger.errors import ProvenanceError, ReleaseError
from ledger.fsutil import atomic_write_text
from ledger.reports import REPORT_SCHEMA_VERSION, check_public_report, check_rendered, dumps, load_json, load_report, md_table

GENERATED_BY = "tools.release.training_run"
MANIFEST = "training_run_manifest.json"
CARD = "training_run_card.md"
SUMS = "training_run_SHA256SUMS"
DATASET_CORE = ("dataset_package.json", "dataset_input_check_report.json", "dataset_snapshot_report.json", "SHA256SUMS")
#: Run-dir entries that are regenerable working state, not run evidence (left out of the package).
WORKING_STATE = ("window_cache",)


def run_files(run_dir: Path) -> list[Path]:
    """The run's evidence files: everything except hidden entries (``.index/`` …), working state and our outputs."""
    out = []
    for f in sorted(run_dir.rglob("*")):
        rel = f.relative_to(run_dir)
        if any(part.startswith(".") for part in rel.parts) or rel.parts[0] in WORKING_STATE:
            continue
        if f.is_file() and rel.as_posix() not in (MANIFEST, CARD, SUMS):
            out.append(f)
    return _checked(run_dir, out)


def _checked(run_dir: Path, files: list[Path]) -> list[Path]:
    from ledger.identity import relative_to_root

    for f in files:
        relative_to_root(f, run_dir, "run file")  # a symlink escaping the run dir is refused
    return files


def _identities_named(doc: Any, names: set[str]) -> set[str]:
    found: set[str] = set()
    if isinstance(doc, Mapping):
        p = doc.get("path")
        if isinstance(p, str) and isinstance(doc.get("sha256"), str) and p.rsplit("/", 1)[-1] in names:
            found.add(p.rsplit("/", 1)[-1])
        for v in doc.values():
            found |= _identities_named(v, names)
    elif isinstance(doc, list):
        for v in doc:
            found |= _identities_named(v, names)
    return found


def check_preflight(path: Path) -> dict[str, Any]:
    """Release-mode check of a preflight report: ok, public-safe, dataset core-file evidence present."""
    doc = load_json(path)
    check_public_report(doc, path.name)
    if doc.get("ok") is not True:
        raise ProvenanceError(
            "PREFLIGHT_NOT_OK",
            f"{path.name} is not ok (failed checks: {doc.get('failed_checks')})",
            "fix the preflight and re-run geno-lewm-train --carbon-preflight",
        )
    missing = set(DATASET_CORE) - _identities_named(doc, set(DATASET_CORE))
    if missing:
        raise ProvenanceError(
            "PREFLIGHT_EVIDENCE",
            f"{path.name} lacks dataset evidence for {', '.join(sorted(missing))}",
            "preflight with --dataset-dir pointing at the packaged dataset",
        )
    return doc


def render_card(manifest: Mapping[str, Any]) -> str:
    """``training_run_card.md`` from ``training_run_manifest.json`` (pure)."""
    lines = [f"# Training run card: {manifest['run_id']}", ""]
    if manifest.get("stand_in"):
        lines += ["> **Stand-in encoder.** This run used the tiny stand-in encoder; it exercises the pipeline and carries no model-quality meaning.", ""]
    lines += [
        f"- Release id: {manifest.get('release_id') or '(none)'}",
        f"- Dataset snapshot: {manifest.get('dataset_snapshot') or '(none)'}",
        f"- Commit: {manifest.get('commit') or '(none)'}",
        f"- Preflight report: `{manifest['preflight']['path']}` sha256 `{manifest['preflight']['sha256']}`"
        if manifest.get("preflight")
        else "- Preflight report: (not bound)",
        "",
        "## Run files",
        "",
        md_table(["path", "sha256", "size"], [[f["path"], f["sha256"], f["size"]] for f in manifest["files"]]),
    ]
    if manifest.get("notes"):
        lines += ["## Notes", "", str(manifest["notes"]), ""]
    return "\n".join(lines)


def build_manifest(run_dir: Path, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The ``training_run_manifest.json`` document (pure given the run files)."""
    files = [identity(f, run_dir) for f in run_files(run_dir)]
    for rel in meta.get("extra_files", []):
        if not (run_dir / rel).is_file():
            raise ReleaseError(
                "MISSING_EXTRA_FILE",
                f"extra file {rel} named in the metadata is not in the run directory",
                "produce it (e.g. run the preflight) or fix the metadata",
            )
    info = {}
    if (run_dir / "training_run.json").is_file():
        info = load_json(run_dir / "training_run.json")
    preflight = None
    if PREFLIGHT in meta.get("extra_files", []):
        check_preflight(run_dir / PREFLIGHT)
        preflight = identity(run_dir / PREFLIGHT, run_dir)
    doc = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "kind": "training_run_manifest",
        "run_id": str(info.get("run_id") or run_dir.name),
        "release_id": meta.get("release_id") or info.get("release_id") or "",
        "dataset_snapshot": meta.get("dataset_snapshot") or info.get("dataset_snapshot") or info.get("dataset_snapshot_id") or "",
        "commit": meta.get("commit") or info.get("commit") or "",
        "stand_in": bool(info.get("stand_in", False)),
        "files": files,
        "extra_files": list(meta.get("extra_files", [])),
        "preflight": preflight,
        "notes": meta.get("notes", ""),
        "generated_by": GENERATED_BY,
    }
    check_public_report(doc, MANIFEST)
    return doc


def package_run(run_dir: str | Path, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Package a completed run in ``run_dir`` (manifest, card, checksums); return the manifest."""
    d = Path(run_dir)
    if not d.is_dir():
        raise ReleaseError("MISSING_RUN_DIR", f"run directory {d.name} not found", "train first, then package the run")
    meta = validate_metadata(metadata, "training")
    manifest = build_manifest(d, meta)
    text, card = dumps(manifest), render_card(manifest)
    atomic_write_text(d / MANIFEST, text)
    atomic_write_text(d / CARD, card)
    atomic_write_text(d / SUMS, render_sums([identity(f, d) for f in [*run_files(d), d / MANIFEST, d / CARD]]))
    return manifest


def verify_run(run_dir: str | Path, *, release: bool = True) -> dict[str, Any]:
    """Verify a packaged run: checksums fresh and complete, manifest generated, card not stale, preflight bound."""
    d = Path(run_dir)
    manifest = load_report(d / MANIFEST, GENERATED_BY)
    check_sums(d / SUMS, d, require=[MANIFEST, CARD] + ([PREFLIGHT] if release else []))
    check_rendered(d / CARD, lambda: render_card(manifest))
    if release:
        if not manifest.get("preflight"):
            raise ProvenanceError(
                "PREFLIGHT_UNBOUND", f"{MANIFEST} does not bind {PREFLIGHT}", "package the run with release metadata naming the preflight report"
            )
        check_preflight(d / PREFLIGHT)
    return manifest
