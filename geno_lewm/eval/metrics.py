"""Metric functions: AUROC and AUPRC (scikit-learn), Spearman's rho (scipy).

Conventions (docs/evaluation.md): higher scores mean "more damaging"; in binary mode label 1 is
pathogenic. A constant score vector has AUROC 0.5 and AUPRC equal to the positive fraction (as
scikit-learn computes them); its Spearman rho is mathematically undefined (scipy returns NaN) and
is recorded as 0.0, "no rank association", with :data:`CONSTANT_RHO_NOTE` beside it.
"""

from __future__ import annotations

import warnings

import numpy as np

CONSTANT_RHO_NOTE = "Spearman's rho is undefined for constant scores (scipy returns NaN); recorded as 0.0, no rank association"


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for 0/1 ``labels`` (both classes must be present)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def auprc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision (area under the precision-recall curve) of ``scores`` for 0/1 ``labels``."""
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(labels, scores))


def spearman_rho(labels: np.ndarray, scores: np.ndarray) -> float:
    """Spearman's rank correlation of ``scores`` with ``labels`` (ties get average ranks).

    Constant ``scores`` give 0.0 (see module docstring); constant ``labels`` give NaN, which
    callers treat as "cannot evaluate".
    """
    from scipy.stats import spearmanr

    if scores.size and np.all(scores == scores[0]) and not np.all(labels == labels[0]):
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = spearmanr(labels, scores).statistic
    return float(rho)


METRIC_FUNCTIONS = {"auroc": auroc, "auprc": auprc, "spearman_rho": spearman_rho}


def labels_evaluable(mode: str, labels: np.ndarray) -> bool:
    """True when ``labels`` support the mode's metrics (both classes / not constant)."""
    if labels.size < 2:
        return False
    if mode == "binary":
        positives = int(labels.sum())
        return 0 < positives < labels.size
    return not np.all(labels == labels[0])


def metric_note(metric: str, scores: np.ndarray) -> str | None:
    """A note to record beside a metric value computed under a convention, else None."""
    if metric == "spearman_rho" and scores.size and np.all(scores == scores[0]):
        return CONSTANT_RHO_NOTE
    return None
