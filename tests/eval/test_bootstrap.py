"""Seeded paired bootstrap: reproducible, paired deltas, skipped resamples counted."""

from __future__ import annotations

import numpy as np

from geno_lewm.eval.bootstrap import paired_bootstrap


def _data(n=40, seed=3):
    rng = np.random.default_rng(seed)
    y = np.array([i % 2 for i in range(n)], dtype=float)  # (N,)
    return y, y + rng.normal(size=n), rng.normal(size=n)


def test_same_seed_same_intervals_other_seed_differs():
    y, s, b = _data()
    a1 = paired_bootstrap("binary", ["auroc"], y, [s, b], resamples=60, seed=7, level=0.9)
    a2 = paired_bootstrap("binary", ["auroc"], y, [s, b], resamples=60, seed=7, level=0.9)
    a3 = paired_bootstrap("binary", ["auroc"], y, [s, b], resamples=60, seed=8, level=0.9)
    assert a1 == a2
    assert a1.column_ci != a3.column_ci


def test_delta_of_identical_columns_is_exactly_zero_and_interval_brackets_point():
    y, s, _ = _data()
    res = paired_bootstrap("binary", ["auroc", "auprc"], y, [s, s.copy()], resamples=50, seed=1, level=0.95)
    for m in ("auroc", "auprc"):
        assert res.delta_ci[m][0] is None
        assert (res.delta_ci[m][1].low, res.delta_ci[m][1].high) == (0.0, 0.0)  # paired: same rows each time
        assert res.column_ci[m][0].low <= res.column_ci[m][0].high


def test_single_class_resamples_are_skipped_and_counted():
    y = np.array([0.0, 1.0, 0.0])
    s = np.array([0.1, 0.9, 0.2])
    res = paired_bootstrap("binary", ["auroc"], y, [s], resamples=200, seed=0, level=0.95)
    assert res.skipped > 0 and res.used + res.skipped == 200
    assert res.column_ci["auroc"][0].high == 1.0


def test_zero_resamples_give_no_interval():
    y, s, b = _data()
    res = paired_bootstrap("spearman", ["spearman_rho"], s, [y, b], resamples=0, seed=0, level=0.95)
    assert res.column_ci["spearman_rho"] == [None, None] and res.used == 0
