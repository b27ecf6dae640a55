"""Evaluate one benchmark: join labels with primary (and baseline) scores, compute metrics.

The evaluated variant set is ``labelled ∩ primary-scored`` (``∩ baseline-scored`` when a baseline
is given), so the model, the baseline and the constant "return the source state" predictor are
all measured on identical keys. Every variant outside that set is counted in ``counts``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ledger.errors import EvalError

from geno_lewm.eval.bootstrap import paired_bootstrap
from geno_lewm.eval.config import EvalConfig
from geno_lewm.eval.keys import VariantKey, keys_sha256, preview, sorted_keys
from geno_lewm.eval.labels import LabelSet
from geno_lewm.eval.metrics import METRIC_FUNCTIONS, labels_evaluable, metric_note
from geno_lewm.eval.schema import HIGHER_IS_BETTER, MODE_METRICS, SOURCE_STATE_BASELINE
from geno_lewm.eval.scores import ScoreSet


@dataclass(frozen=True)
class BaselineInput:
    """A baseline scorer's rows and the name it is reported under."""

    name: str  # e.g. carbon_zero_shot
    scores: ScoreSet  # its validated rows


@dataclass(frozen=True)
class VepResult:
    """The ``benchmarks`` entry and metric ``rows`` of one evaluated benchmark split."""

    benchmark: dict  # one entry of the payload's ``benchmarks`` list
    rows: list[dict]  # one entry per metric


def _sign(orientation: str) -> float:
    return 1.0 if orientation == "higher_is_damaging" else -1.0


def _check_key_sets(labels: LabelSet, side: str, scores: ScoreSet, allow: bool) -> int:
    present = scores.scores.keys() | scores.not_scored.keys()
    missing = labels.labels.keys() - present
    if missing and not allow:
        raise EvalError(
            "KEY_SET_MISMATCH",
            f"{len(missing)} of {len(labels.labels)} labelled variants have no row in the {side} score file: {preview(missing)}",
            "score the same variants on both sides, or set allow_key_mismatch (the gaps are then reported as negative findings)",
        )
    return len(missing)


def _label_summary(mode: str, y: np.ndarray) -> tuple[dict | None, dict | None]:
    if mode == "binary":
        pos = int(y.sum())
        return {"positive": pos, "negative": int(y.size - pos), "positive_fraction": pos / y.size}, None
    return None, {"min": float(y.min()), "max": float(y.max()), "mean": float(y.mean()), "distinct": int(np.unique(y).size)}


def evaluate_vep(
    *,
    benchmark: str,
    split: str,
    mode: str,
    labels: LabelSet,
    primary: ScoreSet,
    baseline: BaselineInput | None,
    config: EvalConfig,
    stand_in: bool = False,
    label_source: str | None = None,
) -> VepResult:
    """Compute the mode's metrics with intervals and baseline deltas on one shared key set.

    Raises ``EVAL.KEY_SET_MISMATCH`` (labelled variants missing from a score file, unless
    ``config.allow_key_mismatch``), ``EVAL.EMPTY`` (nothing left to evaluate),
    ``EVAL.SINGLE_CLASS`` / ``EVAL.CONSTANT_LABELS`` (labels cannot support the metrics).
    """
    if mode not in MODE_METRICS:
        raise EvalError("METRIC_MODE", f"unknown metric mode {mode!r}", "use binary or spearman")
    primary_missing = _check_key_sets(labels, "primary", primary, config.allow_key_mismatch)
    baseline_missing = _check_key_sets(labels, "baseline", baseline.scores, config.allow_key_mismatch) if baseline else 0

    labelled = labels.labels.keys()
    evaluated = labelled & primary.scores.keys()
    if baseline:
        evaluated &= baseline.scores.scores.keys()
    keys: list[VariantKey] = sorted_keys(evaluated)
    if not keys:
        raise EvalError("EMPTY", f"{benchmark}: no labelled variant was scored on every side", "check that labels and scores describe the same variants")

    y = np.asarray([labels.labels[k] for k in keys], dtype=np.float64) * (_sign(config.label_orientation) if mode == "spearman" else 1.0)  # (N,)
    if not labels_evaluable(mode, y):
        code = "SINGLE_CLASS" if mode == "binary" else "CONSTANT_LABELS"
        raise EvalError(code, f"{benchmark}: the {len(keys)} evaluated labels cannot support {mode} metrics (one class or constant)")
    columns = [np.asarray([primary.scores[k] for k in keys], dtype=np.float64) * _sign(config.score_orientation)]  # [(N,)]
    names: list[str] = []
    column_keys: list[list[VariantKey]] = [keys]  # the keys each column was measured on
    if baseline:
        base_keys = [k for k in keys if k in baseline.scores.scores]
        columns.append(np.asarray([baseline.scores.scores[k] for k in base_keys], dtype=np.float64) * _sign(config.baseline_orientation))  # (N,)
        names.append(baseline.name)
        column_keys.append(base_keys)
    columns.append(np.zeros(len(keys), dtype=np.float64))  # (N,) the source state: edit changes nothing
    names.append(SOURCE_STATE_BASELINE)
    column_keys.append(keys)
    if any(len(ck) != len(keys) for ck in column_keys):
        raise EvalError("KEY_SET_MISMATCH", f"{benchmark}: a baseline column does not cover the evaluated keys")

    metrics = MODE_METRICS[mode]
    boot = paired_bootstrap(mode, metrics, y, columns, resamples=config.bootstrap, seed=config.seed, level=config.confidence_level)
    sha = keys_sha256(keys)
    rows: list[dict] = []
    for m in metrics:
        values = [METRIC_FUNCTIONS[m](y, col) for col in columns]
        ci = boot.column_ci[m]
        row = {
            "benchmark": benchmark,
            "split": split,
            "track": "vep",
            "metric_mode": mode,
            "metric": m,
            "higher_is_better": HIGHER_IS_BETTER[m],
            "value": values[0],
            "ci_low": ci[0].low if ci[0] else None,
            "ci_high": ci[0].high if ci[0] else None,
            "ci_level": config.confidence_level,
            "n": len(keys),
            "evaluated_variant_keys_sha256": sha,
            "baselines": [],
        }
        if note := metric_note(m, columns[0]):
            row["note"] = note
        for j, name in enumerate(names, start=1):
            delta_ci = boot.delta_ci[m][j]
            entry = {
                "baseline": name,
                "baseline_value": values[j],
                "delta_vs_baseline": values[0] - values[j],
                "baseline_ci_low": ci[j].low if ci[j] else None,
                "baseline_ci_high": ci[j].high if ci[j] else None,
                "delta_ci_low": delta_ci.low if delta_ci else None,
                "delta_ci_high": delta_ci.high if delta_ci else None,
                "evaluated_variant_keys_sha256": sha,
                "baseline_evaluated_variant_keys_sha256": keys_sha256(column_keys[j]),
            }
            if note := metric_note(m, columns[j]):
                entry["note"] = note
            row["baselines"].append(entry)
        rows.append(row)

    class_balance, label_summary = _label_summary(mode, y)
    labelled_n = len(labelled)
    counts = {
        "label_rows": labels.rows,
        "labelled_variants": labelled_n,
        "primary_rows": primary.rows,
        "primary_not_scored": _not_scored_counts(labels, primary),
        "primary_missing": primary_missing,
        "primary_unlabelled": len((primary.scores.keys() | primary.not_scored.keys()) - labelled),
        "evaluated": len(keys),
    }
    if baseline:
        scored_by_primary = labelled & primary.scores.keys()
        counts.update(
            {
                "baseline_rows": baseline.scores.rows,
                "baseline_not_scored": _not_scored_counts(labels, baseline.scores, within=scored_by_primary),
                "baseline_missing": baseline_missing,
                "baseline_unlabelled": len((baseline.scores.scores.keys() | baseline.scores.not_scored.keys()) - labelled),
            }
        )
    entry = {
        "benchmark": benchmark,
        "split": split,
        "track": "vep",
        "metric_mode": mode,
        "n": len(keys),
        "class_balance": class_balance,
        "label_summary": label_summary,
        "label_source": label_source if label_source is not None else labels.label_source,
        "model_ids": list(primary.model_ids),
        "stand_in": bool(stand_in or primary.stand_in),
        "baseline_names": [baseline.name] if baseline else [],
        "evaluated_variant_keys_sha256": sha,
        "counts": counts,
        "bootstrap": {
            "requested": boot.requested,
            "used": boot.used,
            "skipped": boot.skipped,
            "seed": config.seed,
            "confidence_level": config.confidence_level,
        },
    }
    return VepResult(entry, rows)


def _not_scored_counts(labels: LabelSet, scores: ScoreSet, within: set[VariantKey] | None = None) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, code in scores.not_scored.items():
        if key in labels.labels and (within is None or key in within):
            out[code] = out.get(code, 0) + 1
    return dict(sorted(out.items()))
