"""Seeded, paired percentile bootstrap for metric confidence intervals and baseline deltas.

One resample draws ``n`` row indices with replacement from a ``numpy.random.Generator(PCG64(seed))``
and evaluates every score column on the *same* rows, so the interval of ``model - baseline`` is a
paired interval. Resamples whose labels cannot be evaluated (one class only, constant labels) are
skipped and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from geno_lewm.eval.metrics import METRIC_FUNCTIONS, labels_evaluable


@dataclass(frozen=True)
class Interval:
    """A two-sided percentile interval."""

    low: float
    high: float


@dataclass(frozen=True)
class BootstrapResult:
    """Intervals per metric and column, and of each column's delta to column 0."""

    column_ci: dict[str, list[Interval | None]]  # metric -> interval per score column
    delta_ci: dict[str, list[Interval | None]]  # metric -> interval of (column 0 - column j); j=0 is None
    requested: int  # resamples asked for
    used: int  # resamples that could be evaluated
    skipped: int  # resamples skipped (labels not evaluable)


def _interval(values: list[float], level: float) -> Interval | None:
    arr = np.asarray([v for v in values if np.isfinite(v)], dtype=np.float64)  # (B,)
    if arr.size == 0:
        return None
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(arr, [alpha, 1.0 - alpha])
    return Interval(float(low), float(high))


def paired_bootstrap(
    mode: str,
    metrics: Sequence[str],
    labels: np.ndarray,
    columns: Sequence[np.ndarray],
    *,
    resamples: int,
    seed: int,
    level: float,
) -> BootstrapResult:
    """Bootstrap ``metrics`` of every score column in ``columns`` against ``labels``.

    ``labels`` is (N,), each column is (N,) aligned with it; column 0 is the primary model.
    """
    n = labels.shape[0]
    rng = np.random.Generator(np.random.PCG64(seed))
    samples: dict[str, list[list[float]]] = {m: [[] for _ in columns] for m in metrics}
    deltas: dict[str, list[list[float]]] = {m: [[] for _ in columns] for m in metrics}
    used = skipped = 0
    for _ in range(resamples):
        idx = rng.integers(0, n, size=n)  # (N,)
        y = labels[idx]  # (N,)
        if not labels_evaluable(mode, y):
            skipped += 1
            continue
        used += 1
        for m in metrics:
            fn = METRIC_FUNCTIONS[m]
            vals = [fn(y, col[idx]) for col in columns]
            for j, v in enumerate(vals):
                samples[m][j].append(v)
                if j:
                    deltas[m][j].append(vals[0] - v)
    column_ci = {m: [_interval(s, level) for s in samples[m]] for m in metrics}
    delta_ci = {m: [None] + [_interval(d, level) for d in deltas[m][1:]] for m in metrics}
    return BootstrapResult(column_ci, delta_ci, resamples, used, skipped)


def bootstrap_statistics(
    n: int, statistics: dict[str, Callable[[np.ndarray], float]], *, resamples: int, seed: int, level: float
) -> dict[str, Interval | None]:
    """Percentile intervals of row-level statistics, all evaluated on the same resampled rows.

    Each statistic maps an index array (N,) to a float; one resample draws ``n`` indices with
    replacement from ``numpy.random.Generator(PCG64(seed))`` (the same stream as
    :func:`paired_bootstrap`). Non-finite values are left out of the interval.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    samples: dict[str, list[float]] = {k: [] for k in statistics}
    for _ in range(resamples if n > 0 else 0):
        idx = rng.integers(0, n, size=n)  # (N,)
        for k, fn in statistics.items():
            samples[k].append(float(fn(idx)))
    return {k: _interval(v, level) for k, v in samples.items()}
