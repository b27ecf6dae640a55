"""Release-input readiness of the benchmark results: rows and blockers from an executed suite report.

Declared as the release step ``python -m tools.release.v02_benchmark_readiness``.

Consumes an executed, passing ``tools.release.v02_benchmark_suite`` report (never the report this
command is writing), the aggregate ``eval_metrics.json`` (``geno-lewm-eval-all``), the
``efficiency_report.json`` and, optionally, a direct ``bench.rollout`` speed report with an accepted
``tools.release.rollout_speed_scope`` re-scope. Writes readiness rows and blockers with issue refs:

- ``suite`` — executed, ok, every step passed, output identities match the declared outputs;
- ``release_inputs`` — the metrics JSON is one of the suite's recorded outputs (path, SHA-256, size);
- one row per required v0.2 benchmark (the eval layer's coverage validator,
  ``geno_lewm.eval.aggregate.coverage_problems``) with metric conclusions (split/track, value, CI,
  baseline delta, evaluated variant-key identity) or the missing pieces;
- ``efficiency`` — measured latency, throughput, peak memory, runtime/sample context, limitations;
- ``rollout_speed`` — ``rescoped`` (never ``passed``) when an accepted scope binds the exact failing
  report, ``measured`` for a direct report, otherwise a blocker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledger.errors import InputError, ProvenanceError
from ledger.identity import sha256_file

from ledger.artifacts import identity, public_argv
from tools.release.publication.readiness import blockers_of
from ledger.reports import load_json, load_report
from tools.release.benchmark.speed_scope import GENERATED_BY as SCOPE_GENERATOR
from tools.release.benchmark.speed_scope import REQUIRED_REFS, check_source
from tools.release.benchmark.suite import GENERATED_BY as SUITE_GENERATOR

GENERATED_BY = "tools.release.v02_benchmark_readiness"
BENCHMARKS = ("clinvar_coding", "clinvar_noncoding", "brca2_saturation", "traitgym_mendelian", "rollout_phased_haplotype", "rollout_synthetic_edit_chain")
REFS = {"suite": ["#165"], "release_inputs": ["#165"], "efficiency": ["#165"], "rollout_speed": ["#165", "#42", "#197"]}


def _s(v: Any) -> Any:
    return str(v) if isinstance(v, float) else v


def _row(name: str, ok: bool, refs: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "ok": ok, **extra, "issue_refs": refs}


def check_suite(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The suite's passed-step output identities (raise when it is not an executed passing suite)."""
    if doc.get("mode") != "execute" or doc.get("ok") is not True:
        raise ProvenanceError(
            "SUITE_NOT_EXECUTED", "the suite report is not an executed, passing suite run", "run python -m tools.release.v02_benchmark_suite --execute first"
        )
    outs = []
    for st in doc.get("steps", []):
        if st.get("status") != "passed":
            raise ProvenanceError("SUITE_NOT_EXECUTED", f"suite step {st.get('id')} is {st.get('status')}")
        if sorted(o["path"] for o in st.get("outputs", [])) != sorted(st.get("declared_outputs", [])):
            raise ProvenanceError("SUITE_OUTPUTS", f"suite step {st.get('id')}: recorded outputs differ from its declared outputs")
        outs.extend(st["outputs"])
    return outs


def conclusions(metrics: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Measured conclusions for one benchmark: split/track, metric, value, CI, baseline deltas, key identity."""
    out = []
    for r in metrics.get("rows", []):
        if r.get("benchmark") != name:
            continue
        out.append(
            {
                "split": r.get("split"),
                "track": r.get("track"),
                "metric": r.get("metric"),
                "value": _s(r.get("value")),
                "ci": [_s(r.get("ci_low")), _s(r.get("ci_high"))],
                "evaluated_variant_keys_sha256": r.get("evaluated_variant_keys_sha256"),
                "baselines": [
                    {"baseline": b.get("baseline"), "baseline_value": _s(b.get("baseline_value")), "delta_vs_baseline": _s(b.get("delta_vs_baseline"))}
                    for b in r.get("baselines") or []
                ],
            }
        )
    return out


def _rollout_speed(bench: Path | None, scope: Path | None, root: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if scope is not None:
        if bench is None:
            raise InputError("USAGE", "--rollout-speed-scope-report needs --rollout-speed-report (the failing report it binds)")
        sc = load_report(scope, SCOPE_GENERATOR)
        src = load_json(bench)
        check_source(src)
        bound = sc.get("rollout_speed_report") or {}
        if (bound.get("sha256"), bound.get("size")) != sha256_file(bench):
            raise ProvenanceError(
                "SCOPE_SOURCE",
                "the scope report does not bind this exact bench.rollout report (path/SHA-256/size)",
                "regenerate the scope from the failing report",
            )
        refs = sc.get("issue_refs") or []
        if sc.get("state") != "rescoped" or sc.get("passed") is not False or not all(r in refs for r in REQUIRED_REFS) or not sc.get("failed_targets"):
            raise ProvenanceError("SCOPE_REPORT", "the scope report is not an accepted re-scope of failed targets citing #42 and #197")
        decision = {
            k: sc.get(k) for k in ("accepted_by", "rationale", "replacement_target", "generated", "accepted_at", "decision_url", "issue_refs", "failed_targets")
        }
        decision["scope_report"] = identity(scope, root)
        row = _row(
            "rollout_speed",
            True,
            REFS["rollout_speed"],
            state="rescoped",
            passed=False,
            rollout_speed_report=identity(bench, root),
            conclusion=f"re-scoped, not passed: failed targets {sc['failed_targets']}; decision {sc['decision_url']}; rationale: {sc['rationale']}; replacement target: {sc['replacement_target']}; refs {' '.join(refs)}",
        )
        return row, [decision]
    if bench is not None:
        src = load_json(bench)
        check_source(src)
        return _row(
            "rollout_speed",
            True,
            REFS["rollout_speed"],
            state="measured",
            rollout_speed_report=identity(bench, root),
            results=[{k: _s(v) for k, v in r.items()} for r in src["results"]],
            claim_boundary=src["claim_boundary"],
        ), []
    return _row(
        "rollout_speed", False, REFS["rollout_speed"], state="missing", code="RELEASE.ROLLOUT_SPEED_MISSING", message="no bench.rollout speed report was given"
    ), []


def build(suite_path: Path, metrics_path: Path, efficiency_path: Path, root: Path, bench: Path | None = None, scope: Path | None = None) -> dict[str, Any]:
    """The readiness document. Writes nothing."""
    from geno_lewm.eval.aggregate import coverage_problems

    rows: list[dict[str, Any]] = []
    suite = load_report(suite_path, SUITE_GENERATOR)
    try:
        outs = check_suite(suite)
        rows.append(_row("suite", True, REFS["suite"], outputs=len(outs)))
    except ProvenanceError as err:
        outs = []
        rows.append(_row("suite", False, REFS["suite"], code=err.code, message=err.message))
    metrics = load_report(metrics_path, ("geno-lewm-eval-all",))
    efficiency = load_report(efficiency_path, "tools.release.efficiency_report")
    m_digest, m_size = sha256_file(metrics_path)
    covered = any(o["path"].endswith(metrics_path.name) and (o["sha256"], o["size"]) == (m_digest, m_size) for o in outs)
    rows.append(
        _row(
            "release_inputs",
            covered,
            REFS["release_inputs"],
            metrics_paths=[identity(metrics_path, root)["path"]],
            efficiency_inputs=[identity(efficiency_path, root)],
            suite_output_identities=outs,
            **({} if covered else {"code": "PROVENANCE.SUITE_OUTPUT_MISMATCH", "message": f"{metrics_path.name} is not among the suite's recorded outputs"}),
        )
    )
    for name in BENCHMARKS:
        rollout = name.startswith("rollout_")
        probs = [p for p in coverage_problems(metrics.get("benchmarks", []), metrics.get("rows", []), vep=not rollout, rollout=rollout) if p.startswith(name)]
        concl = conclusions(metrics, name)
        rows.append(
            _row(name, not probs, ["#165"], conclusions=concl, **({"code": "EVAL.COVERAGE", "message": "; ".join(probs), "missing": probs} if probs else {}))
        )
    eff = {
        k: _s(efficiency.get(k))
        for k in (
            "single_variant_latency_ms",
            "batched_throughput_variants_per_s",
            "peak_memory_bytes",
            "runtime",
            "samples",
            "warmup",
            "hardware",
            "limitations",
        )
    }
    eff["command"] = (
        public_argv([str(a) for a in efficiency.get("command", [])], root) if isinstance(efficiency.get("command"), list) else efficiency.get("command")
    )
    rows.append(_row("efficiency", True, REFS["efficiency"], input=identity(efficiency_path, root)))
    speed_row, decisions = _rollout_speed(bench, scope, root)
    rows.append(speed_row)
    blockers = blockers_of(rows)
    return {
        "kind": "v02_benchmark_readiness",
        "ready": not blockers,
        "suite_report": identity(suite_path, root),
        "metrics": identity(metrics_path, root),
        "efficiency": eff,
        "readiness": rows,
        "blockers": blockers,
        "scope_decisions": decisions,
        "negative_findings": list(metrics.get("negative_findings") or []) + [f"{b['name']}: {b['message']}" for b in blockers],
        "claim_boundary": "Release-input readiness bookkeeping; model-quality claims live only in the generated eval report.",
    }
