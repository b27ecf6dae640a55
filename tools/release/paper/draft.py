"""The paper draft: collect the model, dataset and demo artifacts and render the draft from them.

Declared as the release step ``python -m tools.release.paper_draft``.

``--model-dir`` (a packaged model: model_package.json, manifest.json, eval_metrics.json,
eval_report.md, efficiency_report.json), ``--dataset-dir`` (a verified dataset package) and
``--demo-dir`` (``terminal_demo_manifest.json`` + transcript) → ``--output`` Markdown with a UTC
``Generated: …Z`` line, Demo Evidence (the scored-input summary), Citation Metadata (artifact
identities), Negative Findings copied from ``eval_report.md``, and Artifact Availability naming the
release artifacts by package-local names. The draft is a pure function of those artifacts and the
Generated timestamp, so :mod:`tools.release.paper_package` can re-render and compare it.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger.errors import ProvenanceError, ReleaseError

from ledger.artifacts import check_fresh, identity
from ledger.reports import check_public_report, load_json, md_table

GENERATED_BY = "tools.release.paper_draft"
DEMO_MANIFEST = "terminal_demo_manifest.json"
_GENERATED = re.compile(r"^Generated: (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$", re.M)
AVAILABILITY = (
    ("model", "model_package.json"),
    ("dataset", "dataset_package.json"),
    ("dataset", "dataset_input_check_report.json"),
    ("dataset", "dataset_snapshot_report.json"),
    ("model", "eval_metrics.json"),
    ("model", "eval_config.effective.yaml"),
    ("model", "eval_report.md"),
    ("model", "efficiency_report.json"),
    ("demo", DEMO_MANIFEST),
)


def utc_now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def negative_findings(report_md: str) -> str:
    """The body of the ``## Negative Findings`` section of an eval report (``RELEASE.NO_NEGATIVE_FINDINGS``)."""
    m = re.search(r"^## Negative Findings\s*\n(.*?)(?=^## |\Z)", report_md, re.M | re.S)
    if not m or not m.group(1).strip():
        raise ReleaseError(
            "NO_NEGATIVE_FINDINGS", "eval_report.md has no non-empty '## Negative Findings' section", "regenerate the eval report with geno-lewm-eval-all"
        )
    return m.group(1).strip()


def demo_summary(demo: Mapping[str, Any]) -> Any:
    """The scored-input summary recorded in the terminal-demo manifest."""
    for key in ("vcf_summary", "input_summary", "scored_input_summary"):
        if demo.get(key):
            return demo[key]
    raise ReleaseError("DEMO_SUMMARY", f"{DEMO_MANIFEST} has no scored-input (VCF) summary", "re-run python -m tools.demo.terminal_inference")


def _summary_lines(summary: Any) -> list[str]:
    if isinstance(summary, Mapping):
        return [f"- {k}: {v if not isinstance(v, (dict, list)) else _compact(v)}" for k, v in sorted(summary.items())]
    return [f"- {summary}"]


def _compact(v: Any) -> str:
    import json

    return json.dumps(v, sort_keys=True, separators=(", ", ": "))


def collect(model_dir: Path, dataset_dir: Path, demo_dir: Path) -> dict[str, Any]:
    """Load and check every input of the draft; raise on stale eval report or stale demo evidence."""
    from tools.release.model import packaging
    from geno_lewm.datasets import verify_dataset

    package = packaging.verify_model_package(model_dir)
    manifest = load_json(model_dir / "manifest.json")
    dataset = verify_dataset(dataset_dir)
    report_md = (model_dir / "eval_report.md").read_text(encoding="utf-8")
    efficiency = load_json(model_dir / "efficiency_report.json")
    demo = load_json(demo_dir / DEMO_MANIFEST)
    check_public_report(demo, DEMO_MANIFEST)
    for ident in packaging.identities_in(demo):
        if ident["path"].endswith((".vcf", ".vcf.gz")):
            try:
                check_fresh(ident, demo_dir)
            except ProvenanceError as err:
                raise ProvenanceError("STALE_DEMO_INPUT", f"terminal demo VCF summary is stale: {err.message}", "re-run the terminal demo") from None
    files = {
        "model": [
            identity(model_dir / n, model_dir)
            for n in ("manifest.json", "model_package.json", "eval_metrics.json", "eval_report.md", "efficiency_report.json")
            if (model_dir / n).is_file()
        ],
        "dataset": [
            identity(dataset_dir / n, dataset_dir)
            for n in ("dataset_package.json", "dataset_input_check_report.json", "dataset_snapshot_report.json", "SHA256SUMS")
        ],
        "demo": [identity(demo_dir / DEMO_MANIFEST, demo_dir)],
    }
    return {
        "package": package,
        "manifest": manifest,
        "dataset": dataset,
        "report_md": report_md,
        "efficiency": efficiency,
        "demo": demo,
        "files": files,
        "model_dir": model_dir,
        "dataset_dir": dataset_dir,
        "demo_dir": demo_dir,
    }


def render(inputs: Mapping[str, Any], generated: str) -> str:
    """The paper draft Markdown (pure in ``inputs`` and ``generated``)."""
    pkg, ds, eff, demo = inputs["package"], inputs["dataset"], inputs["efficiency"], inputs["demo"]
    stand_in = pkg.get("stand_in")
    lines = [
        f"# GenoLeWM: {pkg['title']}",
        "",
        f"Generated: {generated}",
        "",
    ]
    if stand_in or ds.get("demo_snapshot"):
        lines += [
            "> **Fixture release.** "
            + ("Built with the tiny stand-in encoder. " if stand_in else "")
            + ("Trained and evaluated on a demo dataset snapshot. " if ds.get("demo_snapshot") else "")
            + "No model-quality claim may be drawn from this draft.",
            "",
        ]
    lines += [
        "## Abstract",
        "",
        "GenoLeWM scores human genetic variants with a world model: a predictor over the latent states of a frozen DNA language model, trained to predict the encoder's latent of an edited window from the reference state and the edit. Scoring a variant costs one predictor call.",
        "",
        "## Dataset",
        "",
        f"Snapshot `{ds['snapshot_id']}` ({ds['snapshot_date']}): {ds['claim_boundary']}",
        "",
        "## Evaluation",
        "",
        "Measured results, baselines and confidence intervals are in `eval_report.md`; this draft makes no claim beyond it.",
        "",
        "## Efficiency",
        "",
        md_table(
            ["measure", "value"],
            [
                [
                    "single-variant latency (ms)",
                    _compact(eff["single_variant_latency_ms"])
                    if isinstance(eff["single_variant_latency_ms"], (dict, list))
                    else eff["single_variant_latency_ms"],
                ],
                ["batched throughput (variants/s)", eff["batched_throughput_variants_per_s"]],
                ["peak memory (bytes)", eff["peak_memory_bytes"]],
                ["samples / warm-up", f"{eff['samples']} / {eff['warmup']}"],
            ],
        ),
        "## Demo Evidence",
        "",
        "Scored-input summary from the terminal demo (`terminal_demo_manifest.json`):",
        "",
        *_summary_lines(demo_summary(demo)),
        "",
        "## Negative Findings",
        "",
        negative_findings(inputs["report_md"]),
        "",
        "## Citation Metadata",
        "",
        f"- Release id: `{pkg['release_id']}`",
        f"- Model id: `{pkg['model_id']}`",
        f"- Dataset snapshot: `{ds['snapshot_id']}`",
        f"- Commit: `{pkg['commit']}`",
        "",
        md_table(
            ["package", "artifact", "sha256", "size"],
            [[where, f["path"], f["sha256"], f["size"]] for where in ("model", "dataset", "demo") for f in inputs["files"][where]],
        ),
        "## Artifact Availability",
        "",
        md_table(
            ["package", "artifact"],
            [[where, name] for where, name in AVAILABILITY] + [["demo", "terminal demo transcript and score/receipt JSONL (see terminal_demo_manifest.json)"]],
        ),
    ]
    return "\n".join(lines)


def generated_of(draft: str) -> str:
    """The ``Generated: …Z`` timestamp of a draft (``PROVENANCE.PAPER_GENERATED`` if absent)."""
    m = _GENERATED.search(draft)
    if not m:
        raise ProvenanceError(
            "PAPER_GENERATED", "the paper draft has no UTC 'Generated: YYYY-MM-DDTHH:MM:SSZ' line", "regenerate it with python -m tools.release.paper_draft"
        )
    return m.group(1)
