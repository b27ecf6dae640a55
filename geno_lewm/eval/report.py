"""``eval_report.md``: a pure, byte-stable Markdown render of a metrics payload.

:func:`render_report` validates the payload first (generator marker, schema MAJOR, baseline
fields together with matching key identities, non-empty negative findings, conclusions that
mention every measured figure) and formats every number with :mod:`geno_lewm.eval.fmt`, so
rendering the same JSON twice gives identical bytes. :func:`check_report` detects a stale report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger.errors import EvalError, ProvenanceError, SchemaCompatError
from ledger.identity import relative_or_name

from geno_lewm.eval import fmt
from geno_lewm.eval.jsonio import read_json
from geno_lewm.eval.schema import EVAL_METRICS_FIELDS, RENDERABLE_GENERATORS
from geno_lewm.versioning import load_document

_BASELINE_TRIPLE = ("baseline", "baseline_value", "delta_vs_baseline")


def check_schema_version(payload: Mapping[str, Any], what: str) -> None:
    """The loader contract for a metrics payload (:func:`geno_lewm.versioning.load_document`).

    Raises ``INPUT.SCHEMA_COMPAT`` for another MAJOR or a ``required_fields`` entry outside
    :data:`geno_lewm.eval.schema.EVAL_METRICS_FIELDS`; unknown optional fields are ignored.
    """
    try:
        load_document("eval_metrics", payload, known_fields=EVAL_METRICS_FIELDS)
    except SchemaCompatError as exc:
        raise SchemaCompatError(f"{what}: {exc.message}") from None


def _check_row(row: Mapping[str, Any], conclusions: list[str]) -> None:
    label = f"{row.get('benchmark')}/{row.get('split')}/{row.get('metric')}"
    for base in row.get("baselines") or []:
        present = [k for k in _BASELINE_TRIPLE if k in base]
        if len(present) != len(_BASELINE_TRIPLE):
            missing = sorted(set(_BASELINE_TRIPLE) - set(present))
            raise EvalError(
                "BASELINE_FIELDS", f"{label}: baseline row lacks {', '.join(missing)}", "baseline, baseline_value and delta_vs_baseline must appear together"
            )
        a, b = base.get("evaluated_variant_keys_sha256"), base.get("baseline_evaluated_variant_keys_sha256")
        if (a is not None or b is not None) and (a != b or a != row.get("evaluated_variant_keys_sha256")):
            raise EvalError(
                "KEY_IDENTITY_MISMATCH",
                f"{label}: baseline {base['baseline']} was evaluated on other variants than the model",
                "compute deltas on identical evaluated variant keys",
            )
    tokens = [str(row.get("metric")), f"split {row.get('split')}", fmt.num(row.get("value"))]
    tokens += [fmt.signed(b.get("delta_vs_baseline")) for b in row.get("baselines") or []]
    if not any(all(t in line for t in tokens) for line in conclusions):
        raise EvalError(
            "CONCLUSIONS_INCOMPLETE", f"{label}: no conclusion states {', '.join(tokens)}", "regenerate the metrics with geno-lewm-eval / geno-lewm-eval-all"
        )


def validate_payload(payload: Mapping[str, Any]) -> None:
    """Raise a typed error for a payload the report must not be rendered from."""
    gen = payload.get("generated_by")
    if gen not in RENDERABLE_GENERATORS:
        raise EvalError("GENERATED_BY", f"metrics payload generated_by is {gen!r}; the report renders only {sorted(RENDERABLE_GENERATORS)}")
    check_schema_version(payload, "metrics payload")
    findings = payload.get("negative_findings")
    if not isinstance(findings, list) or not findings or not all(isinstance(f, str) and f for f in findings):
        raise EvalError("NO_NEGATIVE_FINDINGS", "metrics payload needs a non-empty negative_findings list of sentences")
    rows = payload.get("rows")
    if not isinstance(rows, list) or not rows:
        raise EvalError("EMPTY", "metrics payload has no metric rows")
    conclusions = payload.get("conclusions")
    if not isinstance(conclusions, list) or not all(isinstance(c, str) for c in conclusions):
        raise EvalError("CONCLUSIONS_INCOMPLETE", "metrics payload has no conclusions list")
    for row in rows:
        _check_row(row, conclusions)


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], body: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in body]
    return lines


def _balance(b: Mapping[str, Any]) -> str:
    cb = b.get("class_balance")
    if cb:
        return f"{cb['positive']} pos / {cb['negative']} neg ({fmt.num(cb['positive_fraction'])})"
    ls = b.get("label_summary")
    if ls:
        return f"labels {fmt.num(ls['min'])}..{fmt.num(ls['max'])}, {ls['distinct']} distinct"
    return "-"


def _not_scored(b: Mapping[str, Any]) -> str:
    counts = b.get("counts") or {}
    parts = []
    for side in ("primary", "baseline"):
        ns = sum((counts.get(f"{side}_not_scored") or {}).values()) + int(counts.get(f"{side}_missing") or 0)
        if f"{side}_rows" in counts:
            parts.append(f"{side} {ns}")
    return ", ".join(parts) or "-"


def _short(sha: Any) -> str:
    return f"`{sha[:16]}`" if isinstance(sha, str) else "-"


def render_report(payload: Mapping[str, Any]) -> str:
    """Render ``eval_report.md`` from a validated metrics payload (pure: same input, same bytes)."""
    validate_payload(payload)
    benchmarks = payload.get("benchmarks") or []
    rows = payload["rows"]
    models = sorted({m for b in benchmarks for m in b.get("model_ids") or []})
    stand_in = any(b.get("stand_in") for b in benchmarks)
    out = [
        "# GenoLeWM evaluation report",
        "",
        "<!-- Rendered from the metrics JSON by geno_lewm.eval.report.render_report; do not edit by hand. -->",
        "",
        f"- Generated by: `{payload['generated_by']}` (metrics schema {payload['schema_version']})",
        f"- Model: {', '.join(f'`{m}`' for m in models) or 'unknown'}",
        f"- Stand-in encoder: {'yes - these scores carry no biological skill' if stand_in else 'no'}",
    ]
    if payload.get("claim_boundary"):
        out.append(f"- Claim boundary: {payload['claim_boundary']}")
    out += ["", "## Benchmarks", ""]
    out += _table(
        ["benchmark", "split", "track", "mode", "n", "labels", "label source", "not scored", "evaluated keys sha256"],
        [
            [
                b["benchmark"],
                b["split"],
                b.get("track", "-"),
                b.get("metric_mode", "-"),
                b.get("n"),
                _balance(b),
                b.get("label_source") or "unspecified",
                _not_scored(b),
                _short(b.get("evaluated_variant_keys_sha256")),
            ]
            for b in benchmarks
        ],
    )
    out += ["", "## Metrics", ""]
    out += _table(
        ["benchmark", "split", "metric", "value", "interval", "n"],
        [
            [
                r["benchmark"],
                r["split"],
                r["metric"] + (f" (k={r['k']})" if r.get("k") is not None else ""),
                fmt.num(r.get("value")),
                f"{fmt.level(r.get('ci_level'))} {fmt.interval(r.get('ci_low'), r.get('ci_high'))}",
                r.get("n"),
            ]
            for r in rows
        ],
    )
    comparisons = [
        [
            r["benchmark"],
            r["split"],
            r["metric"],
            b["baseline"],
            fmt.num(b.get("baseline_value")),
            fmt.num(r.get("value")),
            fmt.signed(b.get("delta_vs_baseline")),
            fmt.interval(b.get("delta_ci_low"), b.get("delta_ci_high"), signed_values=True),
            _short(b.get("baseline_evaluated_variant_keys_sha256")),
        ]
        for r in rows
        for b in r.get("baselines") or []
    ]
    out += ["", "## Baseline Comparisons", ""]
    if comparisons:
        out += _table(
            ["benchmark", "split", "metric", "baseline", "baseline value", "model value", "delta", "delta interval", "baseline keys sha256"], comparisons
        )
    else:
        out.append("No baseline comparisons were measured.")
    notes = sorted({n for r in rows for n in [r.get("note")] + [b.get("note") for b in r.get("baselines") or []] if n})
    if notes:
        out += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    out += ["", "## Conclusions", ""] + [f"- {c}" for c in payload["conclusions"]]
    out += ["", "## Negative Findings", ""] + [f"- {f}" for f in payload["negative_findings"]]
    artifacts = payload.get("artifacts") or []
    out += ["", "## Artifacts", ""]
    if artifacts:
        out += _table(["role", "path", "sha256", "size"], [[a["role"], f"`{a['path']}`", f"`{a['sha256']}`", a["size"]] for a in artifacts])
    else:
        out.append("No artifacts recorded.")
    return "\n".join(out) + "\n"


def check_report(metrics_path: str | os.PathLike[str], report_path: str | os.PathLike[str]) -> None:
    """Raise ``PROVENANCE.STALE_REPORT`` unless ``report_path`` is the exact render of ``metrics_path``."""
    payload = read_json(metrics_path, "metrics JSON")
    expected = render_report(payload).encode("utf-8")
    p = Path(report_path)
    if not p.is_file():
        raise ProvenanceError("MISSING_ARTIFACT", f"report {relative_or_name(p)} is missing")
    if p.read_bytes() != expected:
        raise ProvenanceError(
            "STALE_REPORT",
            f"{relative_or_name(p)} is not the render of {relative_or_name(metrics_path)}",
            "re-render it: python -m tools.release.eval_report --metrics-json … --output …",
        )
