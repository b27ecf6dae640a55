"""Negative findings and conclusions, generated from the measured data (never a fixed list).

Both functions read the shared payload parts: ``benchmarks`` (one entry per evaluated benchmark
and split) and ``rows`` (one entry per metric, each with its ``baselines``). The report renderer
checks that the conclusions mention every row's metric, split, value and baseline deltas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from geno_lewm.eval import fmt
from geno_lewm.eval.config import EvalConfig
from geno_lewm.eval.schema import CARBON_BASELINE


def _where(entry: Mapping[str, Any]) -> str:
    return f"{entry['benchmark']} (split {entry['split']})"


def _codes(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{code}: {n}" for code, n in sorted(counts.items()))


def _benchmark_findings(b: Mapping[str, Any], config: EvalConfig) -> list[str]:
    out: list[str] = []
    where = _where(b)
    n = int(b.get("n") or 0)
    source = b.get("label_source")
    if isinstance(source, str) and "demo" in source:
        out.append(f"labels of {where} are demo labels (label_source={source}): no model-quality claim may be drawn from them")
    if source == "synthetic_genotypes":
        out.append(f"{where} ran on synthesized phased genotypes (no real individual's haplotypes): no claim about real haplotypes may be drawn from it")
    if b.get("stand_in"):
        model = ", ".join(b.get("model_ids") or []) or "unknown model"
        out.append(f"scores of {where} come from a stand-in encoder ({model}), which has no biological skill")
    if b.get("track") == "vep":
        if n < config.min_n_for_claim:
            out.append(f"n={n} on {where} is far too small for any claim (minimum {config.min_n_for_claim})")
        balance = b.get("class_balance")
        if balance:
            minority = min(balance["positive"], balance["negative"])
            if minority < config.min_n_per_class:
                out.append(
                    f"{where} has only {minority} examples in its smaller class (positive {balance['positive']}, negative {balance['negative']}; minimum {config.min_n_per_class})"
                )
        counts = b.get("counts") or {}
        labelled = counts.get("labelled_variants", 0)
        for side in ("primary", "baseline"):
            not_scored = counts.get(f"{side}_not_scored") or {}
            if not_scored:
                total = sum(not_scored.values())
                out.append(
                    f"{total} of {labelled} labelled variants on {where} were not scored by the {side} scorer ({_codes(not_scored)}) and are excluded from every metric"
                )
            missing = counts.get(f"{side}_missing") or 0
            if missing:
                out.append(f"{missing} of {labelled} labelled variants on {where} are absent from the {side} score file and are excluded from every metric")
        if not b.get("baseline_names"):
            out.append(f"no {CARBON_BASELINE} baseline was supplied for {where}: no claim of beating Carbon zero-shot can be made")
        boot = b.get("bootstrap") or {}
        if not boot.get("used"):
            out.append(f"no bootstrap confidence intervals on {where} (bootstrap resamples used: {boot.get('used', 0)})")
        elif boot.get("skipped"):
            out.append(f"{boot['skipped']} of {boot['requested']} bootstrap resamples on {where} held a single label class and were skipped")
    elif b.get("track") == "fidelity":
        if n < config.min_examples_for_rollout_claim:
            out.append(f"n={n} held-out edits on {where} is far too small for any claim (minimum {config.min_examples_for_rollout_claim})")
    else:
        if n < config.min_examples_for_rollout_claim:
            out.append(f"n={n} rollout examples on {where} is far too small for any claim (minimum {config.min_examples_for_rollout_claim})")
    return out


def _row_findings(r: Mapping[str, Any], config: EvalConfig) -> list[str]:
    out: list[str] = []
    where = f"{_where(r)} {r['metric']}"
    lvl = fmt.level(r.get("ci_level"))
    if r.get("value") is None:
        out.append(f"{where} could not be computed")
    if r.get("ci_low") is None or r.get("ci_high") is None:
        if r.get("track") != "vep":
            out.append(f"no confidence interval reported for {where}")
    elif r["ci_high"] - r["ci_low"] > config.wide_ci_threshold:
        out.append(
            f"{where} is too uncertain to support a claim: {lvl} {fmt.interval(r['ci_low'], r['ci_high'])} is wider than {fmt.num(config.wide_ci_threshold)}"
        )
    for base in r.get("baselines") or []:
        delta = base.get("delta_vs_baseline")
        name = base["baseline"]
        ci = fmt.interval(base.get("delta_ci_low"), base.get("delta_ci_high"), signed_values=True)
        if delta is None:
            out.append(f"the delta of {where} vs {name} is undefined")
            continue
        better = delta > 0 if r.get("higher_is_better", True) else delta < 0
        if not better:
            out.append(f"does not beat {name} on {where} (delta {fmt.signed(delta)}, {lvl} {ci})")
            continue
        lo, hi = base.get("delta_ci_low"), base.get("delta_ci_high")
        if lo is not None and hi is not None and lo <= 0 <= hi:
            out.append(f"does not significantly beat {name} on {where} (delta {fmt.signed(delta)}, {lvl} {ci} includes 0)")
    return out


def negative_findings(benchmarks: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]], config: EvalConfig, extra: Sequence[str] = ()) -> list[str]:
    """Every limitation the data shows, in a stable order; never empty.

    ``extra`` adds caller-level findings (e.g. required benchmarks that were not evaluated).
    """
    out: list[str] = list(extra)
    for b in benchmarks:
        out.extend(_benchmark_findings(b, config))
    for r in rows:
        out.extend(_row_findings(r, config))
    if not out:
        names = ", ".join(sorted({_where(b) for b in benchmarks}))
        out.append(f"evaluated on {len(benchmarks)} benchmark split(s) only ({names}); nothing here supports claims outside them")
    return list(dict.fromkeys(out))


def row_conclusion(r: Mapping[str, Any]) -> str:
    """One sentence stating a metric row's measured value, interval, n and baseline deltas."""
    lvl = fmt.level(r.get("ci_level"))
    k = f" (k={r['k']})" if r.get("k") is not None else ""
    text = (
        f"{r['benchmark']} split {r['split']}: {r['metric']}{k} = {fmt.num(r.get('value'))} "
        f"({lvl} {fmt.interval(r.get('ci_low'), r.get('ci_high'))}, n={r.get('n')})"
    )
    parts = []
    for base in r.get("baselines") or []:
        ci = fmt.interval(base.get("delta_ci_low"), base.get("delta_ci_high"), signed_values=True)
        parts.append(f"vs {base['baseline']} {fmt.num(base.get('baseline_value'))}: delta {fmt.signed(base.get('delta_vs_baseline'))} ({lvl} {ci})")
    if parts:
        text += "; " + "; ".join(parts)
    return text + "."


def conclusions(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """One conclusion per metric row (the renderer checks they cover every measured figure)."""
    return [row_conclusion(r) for r in rows]
