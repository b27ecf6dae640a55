"""``geno-lewm-eval-all`` as functions: many metrics payloads (+ rollout metrics) -> one payload.

Inputs are per-benchmark payloads from ``geno-lewm-eval`` and rollout metrics from
``geno-lewm-rollout``. With the ``--require-*`` flags, :func:`coverage_problems` lists every
missing piece of v0.2 coverage and aggregation fails before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import EvalError, SchemaCompatError
from ledger.identity import relative_to_root, sha256_file

from geno_lewm.eval.artifacts import record_artifacts, resolve_input
from geno_lewm.eval.config import EvalConfig, default_config_path, effective_yaml, load_eval_config
from geno_lewm.eval.findings import conclusions, negative_findings
from geno_lewm.eval.jsonio import is_finite_number, read_json
from geno_lewm.eval.outputs import CLAIM_BOUNDARY, EFFECTIVE_CONFIG_NAME, artifact_list, bytes_identity, payload_bytes, write_all
from geno_lewm.eval.report import check_schema_version, render_report
from geno_lewm.eval.schema import (
    CARBON_BASELINE,
    EVAL_METRICS_SCHEMA_VERSION,
    GEN_EVAL,
    GEN_EVAL_ALL,
    GEN_ROLLOUT,
    HIGHER_IS_BETTER,
    MODE_METRICS,
    ROLLOUT_METRICS,
    V02_ROLLOUT_TRACKS,
    V02_VEP_BENCHMARKS,
)

#: MAJOR of the ``geno-lewm-rollout`` metrics schema this runtime reads.
ROLLOUT_SCHEMA_MAJOR = "1"
#: Name of the rollout baseline that predicts the source state unchanged.
ROLLOUT_SOURCE_STATE = "source_state"
#: generated_by of the world-model fidelity benchmark (geno_lewm.eval.fidelity, python -m bench.fidelity).
GEN_FIDELITY = "bench.fidelity"


def _finite(x: Any) -> float | None:
    return float(x) if is_finite_number(x) else None


def rollout_rows(doc: Mapping[str, Any], where: str, stand_in: bool = False) -> tuple[list[dict], list[dict]]:
    """Convert a ``geno-lewm-rollout`` metrics document into ``benchmarks`` entries and metric rows.

    Reads the documented rollout schema (docs/evaluation.md, "Rollout metrics";
    :func:`geno_lewm.rollout.metrics_rows` writes it): ``rows`` holds one entry per track and
    metric with ``track``, ``split``, ``metric``, ``value``, ``ci_low``/``ci_high``/``ci_level``,
    ``n``, ``n_chains``, ``k``, ``baseline`` (``source_state``), ``baseline_value``,
    ``delta_vs_baseline`` and ``delta_ci_low``/``delta_ci_high``. A track whose rows carry no
    value (no chains) is left out, so the report says it was not evaluated.
    """
    version = doc.get("schema_version")
    if not isinstance(version, str) or version.split(".", 1)[0] != ROLLOUT_SCHEMA_MAJOR:
        raise SchemaCompatError(f"{where}: rollout metrics schema_version {version!r} is not readable (this runtime reads {ROLLOUT_SCHEMA_MAJOR}.x.y)")
    raw_rows = doc.get("rows")
    if not isinstance(raw_rows, list) or not raw_rows:
        raise EvalError("EMPTY", f"{where}: rollout metrics hold no rows")
    by_track: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    for i, r in enumerate(raw_rows):
        if not isinstance(r, Mapping) or r.get("track") not in V02_ROLLOUT_TRACKS:
            raise EvalError(
                "ROLLOUT_TRACK", f"{where} row {i}: track must be one of {sorted(V02_ROLLOUT_TRACKS)}, got {r.get('track') if isinstance(r, Mapping) else r!r}"
            )
        if r.get("metric") not in ROLLOUT_METRICS:
            raise EvalError(
                "ROLLOUT_TRACK",
                f"{where} row {i}: metric must be one of {list(ROLLOUT_METRICS)}, got {r.get('metric')!r}",
                "regenerate it with geno-lewm-rollout (rows: one per track and metric)",
            )
        for key in ("value", "baseline_value", "ci_low", "ci_high", "delta_ci_low", "delta_ci_high"):
            if r.get(key) is not None and not is_finite_number(r[key]):
                raise EvalError("NAN_SCORE", f"{where} row {i}: {key} is {r[key]!r}, not a finite number")
        by_track.setdefault(r["track"], []).append((i, r))
    benchmarks, rows = [], []
    model_id = doc.get("model_id")
    for track, items in by_track.items():
        measured = [(i, r) for i, r in items if is_finite_number(r.get("value"))]
        if not measured:
            continue
        name = V02_ROLLOUT_TRACKS[track]
        first = measured[0][1]
        split = str(first.get("split") or doc.get("split") or "test")
        n = first.get("n") if isinstance(first.get("n"), int) else None
        recall = next((r for _, r in measured if r["metric"] == "recall_at_k"), {})
        benchmarks.append(
            {
                "benchmark": name,
                "split": split,
                "track": track,
                "metric_mode": "rollout",
                "n": n,
                "k": recall.get("k"),
                "class_balance": None,
                "label_summary": None,
                "label_source": first.get("data_source") if isinstance(first.get("data_source"), str) else None,
                "model_ids": [model_id] if isinstance(model_id, str) else [],
                "stand_in": bool(stand_in or doc.get("stand_in")),
                "baseline_names": [ROLLOUT_SOURCE_STATE],
                "evaluated_variant_keys_sha256": None,
                "counts": {"examples": n, "chains": first.get("n_chains")},
            }
        )
        for i, r in measured:
            m = r["metric"]
            if any(x["benchmark"] == name and x["split"] == split and x["metric"] == m for x in rows):
                raise EvalError("DUPLICATE_ROW", f"{where} row {i}: {track} {m} appears twice")
            value = float(r["value"])
            row = {
                "benchmark": name,
                "split": split,
                "track": track,
                "metric_mode": "rollout",
                "metric": m,
                "higher_is_better": HIGHER_IS_BETTER[m],
                "value": value,
                "ci_low": _finite(r.get("ci_low")),
                "ci_high": _finite(r.get("ci_high")),
                "ci_level": _finite(r.get("ci_level")),
                "n": n,
                "evaluated_variant_keys_sha256": None,
                "baselines": [],
            }
            if m == "recall_at_k":
                row["k"] = r.get("k")
            base = _finite(r.get("baseline_value"))
            if r.get("baseline") == ROLLOUT_SOURCE_STATE and base is not None:
                delta = _finite(r.get("delta_vs_baseline"))
                row["baselines"].append(
                    {
                        "baseline": ROLLOUT_SOURCE_STATE,
                        "baseline_value": base,
                        "delta_vs_baseline": delta if delta is not None else value - base,
                        "delta_ci_low": _finite(r.get("delta_ci_low")),
                        "delta_ci_high": _finite(r.get("delta_ci_high")),
                    }
                )
            rows.append(row)
    return benchmarks, rows


def coverage_problems(
    benchmarks: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]], *, vep: bool, rollout: bool, baseline: str = CARBON_BASELINE
) -> list[str]:
    """Everything the v0.2 requirements ask for that the aggregated rows lack (empty: covered)."""
    problems: list[str] = []
    if vep:
        for name, mode in V02_VEP_BENCHMARKS.items():
            entries = [b for b in benchmarks if b["benchmark"] == name]
            if not entries:
                problems.append(f"{name}: not evaluated")
                continue
            for b in entries:
                if b.get("metric_mode") != mode:
                    problems.append(f"{name} split {b['split']}: metric_mode {b.get('metric_mode')}, expected {mode}")
                    continue
                for m in MODE_METRICS[mode]:
                    found = [r for r in rows if r["benchmark"] == name and r["split"] == b["split"] and r["metric"] == m]
                    where = f"{name} split {b['split']} {m}"
                    if not found:
                        problems.append(f"{where}: metric missing")
                        continue
                    r = found[0]
                    if r.get("value") is None:
                        problems.append(f"{where}: no value")
                    if r.get("ci_low") is None or r.get("ci_high") is None:
                        problems.append(f"{where}: no confidence interval")
                    sha = r.get("evaluated_variant_keys_sha256")
                    if not sha:
                        problems.append(f"{where}: no evaluated_variant_keys_sha256")
                    bases = [x for x in r.get("baselines") or [] if x.get("baseline") == baseline]
                    if not bases:
                        problems.append(f"{where}: no {baseline} baseline delta")
                        continue
                    x = bases[0]
                    if x.get("baseline_value") is None or x.get("delta_vs_baseline") is None:
                        problems.append(f"{where}: {baseline} baseline_value/delta_vs_baseline missing")
                    if x.get("delta_ci_low") is None or x.get("delta_ci_high") is None:
                        problems.append(f"{where}: no confidence interval on the {baseline} delta")
                    bsha = x.get("baseline_evaluated_variant_keys_sha256")
                    if not bsha or bsha != sha or x.get("evaluated_variant_keys_sha256") != sha:
                        problems.append(f"{where}: {baseline} evaluated variant keys missing or not identical to the model's")
    if rollout:
        for track, name in V02_ROLLOUT_TRACKS.items():
            present = {r["metric"] for r in rows if r["benchmark"] == name and is_finite_number(r.get("value"))}
            missing = [m for m in ROLLOUT_METRICS if m not in present]
            if missing:
                problems.append(f"{name} ({track}): missing {', '.join(missing)}")
    return problems


@dataclass(frozen=True)
class EvalAllRequest:
    """Everything ``geno-lewm-eval-all`` was asked to do (paths as given on the command line)."""

    metrics_json: Sequence[str]  # per-benchmark metrics and rollout metrics files
    output_metrics: str  # eval_metrics.json to write
    output_report: str  # eval_report.md to write
    require_vep: bool = False  # --require-v02-vep-metrics
    require_rollout: bool = False  # --require-v02-rollout-metrics
    artifact_root: str | None = None  # root of recorded paths (default: the output directory)
    eval_config: str | None = None  # eval config YAML (default: committed one)
    stand_in: bool = False  # mark every benchmark as produced with the stand-in encoder


def _collect(req: EvalAllRequest, root: Path) -> tuple[list[dict], list[dict], list[tuple[str, Path]], list[dict]]:
    benchmarks: list[dict] = []
    rows: list[dict] = []
    inputs: list[tuple[str, Path]] = []
    referenced: list[dict] = []
    seen: dict[tuple[str, str], str] = {}
    for given in req.metrics_json:
        path = resolve_input(given, root)
        rel = relative_to_root(path, root)
        doc = read_json(path, "metrics JSON")
        gen = doc.get("generated_by")
        if gen == GEN_EVAL:
            check_schema_version(doc, rel)
            new_b = [dict(b) for b in doc.get("benchmarks") or []]
            new_r = [dict(r) for r in doc.get("rows") or []]
            if req.stand_in:
                for b in new_b:
                    b["stand_in"] = True
            for a in doc.get("artifacts") or []:
                referenced.append({**a, "recorded_in": rel})
        elif gen == GEN_ROLLOUT:
            new_b, new_r = rollout_rows(doc, rel, stand_in=req.stand_in)
        elif gen == GEN_FIDELITY:
            from geno_lewm.eval.fidelity import fidelity_rows

            new_b, new_r = fidelity_rows(doc, rel, stand_in=req.stand_in)
        else:
            raise EvalError(
                "GENERATED_BY",
                f"{rel}: generated_by is {gen!r}; expected {GEN_EVAL}, {GEN_ROLLOUT} or {GEN_FIDELITY}",
                "pass per-benchmark metrics from geno-lewm-eval, rollout metrics from geno-lewm-rollout and fidelity from python -m bench.fidelity",
            )
        if not new_b or not new_r:
            raise EvalError("EMPTY", f"{rel}: no benchmarks or metric rows")
        for b in new_b:
            key = (b["benchmark"], b["split"])
            if key in seen:
                raise EvalError("DUPLICATE_ROW", f"{b['benchmark']} split {b['split']} appears in both {seen[key]} and {rel}", "pass each benchmark split once")
            seen[key] = rel
            b["metrics_input"] = rel
        benchmarks += new_b
        rows += new_r
        inputs.append((rel, path))
    return benchmarks, rows, inputs, referenced


def run_eval_all(req: EvalAllRequest) -> dict[str, Any]:
    """Aggregate, check coverage, then write the effective config, metrics JSON and report.

    Raises ``EVAL.MISSING_COVERAGE`` (listing every gap) before writing anything when a
    ``--require-*`` flag is set and coverage is incomplete.
    """
    if not req.metrics_json:
        raise EvalError("EMPTY", "no --metrics-json inputs given")
    output = Path(req.output_metrics).absolute()
    report_path = Path(req.output_report).absolute()
    root = Path(req.artifact_root).absolute() if req.artifact_root else output.parent
    relative_to_root(output, root, "--output-metrics")
    config_file = resolve_input(req.eval_config, root) if req.eval_config else None
    config: EvalConfig = load_eval_config(config_file)
    benchmarks, rows, inputs, referenced = _collect(req, root)

    problems = coverage_problems(benchmarks, rows, vep=req.require_vep, rollout=req.require_rollout)
    if problems:
        raise EvalError(
            "MISSING_COVERAGE",
            "v0.2 coverage incomplete; nothing was written: " + "; ".join(problems),
            "evaluate the missing benchmarks (with a Carbon baseline and bootstrap intervals) and pass every metrics JSON",
        )
    present = {b["benchmark"] for b in benchmarks}
    absent = [
        f"benchmark {name} was not evaluated: no claim about it can be made"
        for name in [*V02_VEP_BENCHMARKS, *V02_ROLLOUT_TRACKS.values()]
        if name not in present
    ]

    identities: list[tuple[str, Any]] = [("metrics_input", ident) for ident in record_artifacts({str(i): p for i, (_, p) in enumerate(inputs)}, root).values()]
    if config_file is not None:
        identities += list(record_artifacts({"eval_config": config_file}, root).items())
        base_config = relative_to_root(config_file, root)
    else:
        base_config = f"bundled configs/eval/default.yaml (sha256 {sha256_file(default_config_path())[0]})"
    yaml_path = output.parent / EFFECTIVE_CONFIG_NAME
    run = {
        "require_v02_vep_metrics": req.require_vep,
        "require_v02_rollout_metrics": req.require_rollout,
        "stand_in": req.stand_in,
        "metrics_inputs": [rel for rel, _ in inputs],
    }
    yaml_bytes = effective_yaml(config, base_config=base_config, cli_overrides={}, extra=run).encode("utf-8")
    effective = bytes_identity(yaml_path, yaml_bytes, root)
    identities.append(("eval_config_effective", effective))

    payload = {
        "schema_version": EVAL_METRICS_SCHEMA_VERSION,
        "generated_by": GEN_EVAL_ALL,
        "benchmarks": benchmarks,
        "rows": rows,
        "conclusions": conclusions(rows),
        "negative_findings": negative_findings(benchmarks, rows, config, extra=absent),
        "claim_boundary": CLAIM_BOUNDARY,
        "coverage": {
            "require_v02_vep_metrics": req.require_vep,
            "require_v02_rollout_metrics": req.require_rollout,
            "v02_vep_missing": coverage_problems(benchmarks, rows, vep=True, rollout=False),
            "v02_rollout_missing": coverage_problems(benchmarks, rows, vep=False, rollout=True),
        },
        "artifacts": artifact_list(identities),
        "referenced_artifacts": sorted(referenced, key=lambda a: (a["recorded_in"], a["role"])),
        "eval_config": effective,
    }
    report = render_report(payload).encode("utf-8")
    write_all([(yaml_path, yaml_bytes), (output, payload_bytes(payload)), (report_path, report)])
    return payload
