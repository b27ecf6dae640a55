"""Packaging a model directory: normalised model_package.json, the model card, SHA256SUMS, and their verifier.

Declared as the release step ``python -m tools.release.model_package``.

Requires in ``--model-dir``: ``manifest.json`` (a verified model package), ``eval_metrics.json``
(``generated_by`` geno-lewm-eval or geno-lewm-eval-all), ``eval_report.md`` (must be the exact
render of the metrics by ``geno_lewm.eval.report.render_report``) and ``efficiency_report.json``
(``generated_by=tools.release.efficiency_report``). ``--metadata-json`` gives ``release_id``,
``commit``, optional ``dataset_snapshot``, ``title``, ``intended_use``, ``limitations`` and
``extra_files`` (model-dir-relative; must include the training preflight report, the training run
manifest and card and ``training_run_SHA256SUMS``). Release id, dataset snapshot, commit and model
id are cross-checked across metadata, manifest, eval metrics and efficiency report. The model card
is a pure render of ``model_package.json`` plus ``manifest.json``; ``SHA256SUMS`` covers every file
in the model directory.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geno_lewm.release_metadata import MODEL_REQUIRED_EXTRA as REQUIRED_EXTRA  # noqa: F401 - the files a model release names
from geno_lewm.release_metadata import validate_metadata
from ledger.errors import ProvenanceError, ReleaseError
from ledger.fsutil import atomic_write_text
from ledger.identity import check_public_path

from ledger.artifacts import check_complete_sums, check_fresh, identity, list_files, write_sums
from ledger.reports import REPORT_SCHEMA_VERSION, check_public_report, check_rendered, dumps, load_report, md_table

GENERATED_BY = "tools.release.model_package"
PACKAGE_JSON = "model_package.json"
CARD = "model_card.md"
SUMS = "SHA256SUMS"
EVAL_GENERATORS = ("geno-lewm-eval", "geno-lewm-eval-all")


def render_eval_report(metrics: Mapping[str, Any]) -> str:
    """The eval report renderer owned by the eval layer (``geno_lewm.eval.report.render_report``)."""
    try:
        from geno_lewm.eval.report import render_report
    except ImportError:
        raise ReleaseError(
            "EVAL_RENDERER_MISSING", "geno_lewm.eval.report.render_report is not available", "install a geno-lewm with the evaluation package"
        ) from None
    return render_report(metrics)


def _first(doc: Mapping[str, Any], *keys: str) -> Any:
    for k in keys:
        v = doc.get(k)
        if isinstance(v, str) and v:
            return v
    return None


def cross_check(values: dict[str, dict[str, Any]]) -> None:
    """Raise ``PROVENANCE.IDENTITY_MISMATCH`` when two sources disagree on a field (missing values are skipped).

    ``values`` maps field → {source name: value or None}.
    """
    for field, by_source in values.items():
        present = {s: v for s, v in by_source.items() if v}
        if len(set(present.values())) > 1:
            listing = ", ".join(f"{s}={v}" for s, v in sorted(present.items()))
            raise ProvenanceError(
                "IDENTITY_MISMATCH", f"{field} differs between artifacts: {listing}", "rebuild the mismatched artifact from the same model, dataset and commit"
            )


def identities_in(doc: Any) -> list[dict[str, Any]]:
    """Every ``{path, sha256, size}`` identity nested anywhere in ``doc``."""
    found: list[dict[str, Any]] = []
    if isinstance(doc, Mapping):
        if isinstance(doc.get("path"), str) and isinstance(doc.get("sha256"), str) and isinstance(doc.get("size"), int):
            found.append({"path": doc["path"], "sha256": doc["sha256"], "size": doc["size"]})
        for v in doc.values():
            found.extend(identities_in(v))
    elif isinstance(doc, list):
        for v in doc:
            found.extend(identities_in(v))
    return found


def render_card(package: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    """``model_card.md`` from ``model_package.json`` and ``manifest.json`` (pure)."""
    enc = manifest.get("encoder", {})
    lines = [f"# Model card: {package['release_id']}", ""]
    if manifest.get("stand_in"):
        lines += [f"> **Stand-in encoder.** {manifest.get('note', '')} No model-quality claim may be drawn from this package.".replace("  ", " "), ""]
    lines += [
        f"- Title: {package['title']}",
        f"- Release id: `{package['release_id']}`",
        f"- Model id (sha256 of manifest.json): `{package['model_id']}`",
        f"- Encoder: {enc.get('encoder_id', enc.get('id', '?'))} (hash `{enc.get('hash', '?')}`)",
        f"- Dataset snapshot: `{package['dataset_snapshot']}`",
        f"- Commit: `{package['commit']}`",
        f"- License: {package['license']}",
        "",
        "## Intended use",
        "",
        package["intended_use"],
        "",
        "## Evaluation",
        "",
        f"Model-quality claims live only in `eval_report.md` (rendered from `eval_metrics.json`, sha256 `{package['eval_metrics']['sha256']}`).",
        "",
        "## Efficiency",
        "",
        md_table(
            ["measure", "value"],
            [
                ["single-variant latency (ms)", package["efficiency"]["single_variant_latency_ms"]],
                ["batched throughput (variants/s)", package["efficiency"]["batched_throughput_variants_per_s"]],
                ["peak memory (bytes)", package["efficiency"]["peak_memory_bytes"]],
            ],
        ),
        "## Limitations",
        "",
        *[f"- {x}" for x in package["limitations"]],
        "",
        "## Manifest artifacts",
        "",
        md_table(
            ["path", "role", "sha256", "size"], [[a.get("path"), a.get("role", ""), a.get("sha256"), a.get("size")] for a in manifest.get("artifacts", [])]
        ),
        "## Package files",
        "",
        md_table(["path", "sha256", "size"], [[f["path"], f["sha256"], f["size"]] for f in package["files"]]),
    ]
    return "\n".join(lines)


def build(model_dir: Path, meta: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate the model dir and return (model_package.json document, manifest dict). Writes nothing."""
    from geno_lewm.package import model_id_of, verify_package

    meta = validate_metadata(meta, "model")
    manifest = verify_package(model_dir)
    model_id = model_id_of(model_dir)
    metrics = load_report(model_dir / "eval_metrics.json", EVAL_GENERATORS)
    efficiency = load_report(model_dir / "efficiency_report.json", "tools.release.efficiency_report")
    check_rendered(model_dir / "eval_report.md", lambda: render_eval_report(metrics))
    for ident in identities_in(metrics):
        check_public_path(ident["path"], "eval artifact path")
        check_fresh(ident, model_dir)
    for rel in meta.get("extra_files", []):
        if not (model_dir / rel).is_file():
            raise ReleaseError("MISSING_EXTRA_FILE", f"extra file {rel} is not in the model directory", "copy it into the model directory")
    cross_check(
        {
            "release_id": {
                "metadata": meta["release_id"],
                "manifest": manifest.get("release_id"),
                "eval_metrics": _first(metrics, "release_id"),
                "efficiency_report": _first(efficiency, "release_id"),
            },
            "dataset_snapshot": {
                "metadata": meta.get("dataset_snapshot"),
                "manifest": manifest.get("dataset_snapshot_id"),
                "eval_metrics": _first(metrics, "dataset_snapshot", "dataset_snapshot_id"),
                "efficiency_report": _first(efficiency, "dataset_snapshot", "dataset_snapshot_id"),
            },
            "commit": {
                "metadata": meta["commit"],
                "eval_metrics": _first(metrics, "commit", "commit_sha"),
                "efficiency_report": _first(efficiency, "commit", "commit_sha"),
            },
            "model_id": {"manifest.json": model_id, "eval_metrics": _first(metrics, "model_id"), "efficiency_report": _first(efficiency, "model_id")},
        }
    )
    sources = ["manifest.json", "eval_metrics.json", "eval_report.md", "efficiency_report.json"]
    if (model_dir / "eval_config.effective.yaml").is_file():
        sources.append("eval_config.effective.yaml")
    doc = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "kind": "model_package",
        "title": meta.get("title") or f"GenoLeWM {meta['release_id']}",
        "release_id": meta["release_id"],
        "model_id": model_id,
        "dataset_snapshot": manifest.get("dataset_snapshot_id", ""),
        "commit": meta["commit"],
        "license": meta.get("license", "Apache-2.0"),
        "stand_in": bool(manifest.get("stand_in", False)),
        "intended_use": meta.get("intended_use")
        or "Research use: scoring human genetic variants with a world model over a frozen DNA language model. Not for clinical use.",
        "limitations": list(meta.get("limitations") or ["See eval_report.md for measured results, baselines and negative findings."]),
        "eval_metrics": identity(model_dir / "eval_metrics.json", model_dir),
        "efficiency": {k: efficiency[k] for k in ("single_variant_latency_ms", "batched_throughput_variants_per_s", "peak_memory_bytes")},
        "files": [identity(model_dir / s, model_dir) for s in sources],
        "extra_files": [identity(model_dir / x, model_dir) for x in meta.get("extra_files", [])],
        "generated_by": GENERATED_BY,
    }
    check_public_report(doc, PACKAGE_JSON)
    return doc, manifest


def package_model(model_dir: str | Path, meta: Mapping[str, Any]) -> list[Path]:
    """Write model_package.json, model_card.md and SHA256SUMS; return the written paths."""
    d = Path(model_dir)
    doc, manifest = build(d, meta)
    card = render_card(doc, manifest)
    atomic_write_text(d / PACKAGE_JSON, dumps(doc))
    atomic_write_text(d / CARD, card)
    write_sums(d / SUMS, list_files(d, exclude=[SUMS]), d)
    return [d / PACKAGE_JSON, d / CARD, d / SUMS]


def verify_model_package(model_dir: str | Path) -> dict[str, Any]:
    """Verify a packaged model dir: checksums, generated_by, card and eval report not stale, identities agree."""
    from geno_lewm.package import verify_package

    d = Path(model_dir)
    doc = load_report(d / PACKAGE_JSON, GENERATED_BY)
    check_complete_sums(
        d / SUMS,
        d,
        require=[PACKAGE_JSON, CARD, "eval_metrics.json", "eval_report.md", "efficiency_report.json", "training_preflight_report.json"],
        what="model dir",
        hint="re-run python -m tools.release.model_package",
    )
    manifest = verify_package(d)
    check_rendered(d / CARD, lambda: render_card(doc, manifest))
    metrics = load_report(d / "eval_metrics.json", EVAL_GENERATORS)
    check_rendered(d / "eval_report.md", lambda: render_eval_report(metrics))
    for f in doc["files"] + doc["extra_files"]:
        check_fresh(f, d)
    return doc
