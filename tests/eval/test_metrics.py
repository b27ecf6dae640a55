"""Metric values against independent computations: pair counting, hand ranking, hand AP."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geno_lewm.eval.metrics import CONSTANT_RHO_NOTE, auprc, auroc, metric_note, spearman_rho


def auroc_by_pairs(labels, scores) -> float:
    pos = [s for s, y in zip(scores, labels) if y == 1]
    neg = [s for s, y in zip(scores, labels) if y == 0]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def ap_by_thresholds(labels, scores) -> float:
    total_pos = sum(labels)
    ap, prev_recall = 0.0, 0.0
    for t in sorted(set(scores), reverse=True):
        tp = sum(1 for s, y in zip(scores, labels) if s >= t and y == 1)
        fp = sum(1 for s, y in zip(scores, labels) if s >= t and y == 0)
        recall = tp / total_pos
        ap += (recall - prev_recall) * (tp / (tp + fp))
        prev_recall = recall
    return ap


def ranks_by_hand(values) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1  # average 1-based rank of the tie group
        i = j + 1
    return ranks


def rho_by_hand(x, y) -> float:
    rx, ry = ranks_by_hand(x), ranks_by_hand(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    return cov / (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5


def test_known_small_case():
    y, s = np.array([0, 0, 1, 1.0]), np.array([0.1, 0.4, 0.35, 0.8])
    # 4 positive/negative pairs; 3 ordered correctly -> 0.75. AP: thresholds 0.8 (P=1, R=.5), 0.4 (P=.5), 0.35 (P=2/3, R=1).
    assert auroc(y, s) == 0.75
    assert abs(auprc(y, s) - (0.5 * 1.0 + 0.5 * (2 / 3))) < 1e-12


def test_rho_with_ties_by_hand():
    labels = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    scores = np.array([5.0, 6.0, 7.0, 8.0, 7.0])  # ranks 1, 2, 3.5, 5, 3.5
    # d = rank(labels) - rank(scores) = 0, 0, -0.5, -1, 1.5; both rank vectors have mean 3.
    cov = (-2) * (-2) + (-1) * (-1) + 0 * 0.5 + 1 * 2 + 2 * 0.5
    expected = cov / ((4 + 1 + 0 + 1 + 4) * (4 + 1 + 0.25 + 4 + 0.25)) ** 0.5
    assert abs(spearman_rho(labels, scores) - expected) < 1e-12


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(-5, 5)), min_size=2, max_size=30).filter(lambda r: 0 < sum(y for y, _ in r) < len(r)))
def test_binary_metrics_match_independent_computations(rows):
    y = np.array([a for a, _ in rows], dtype=float)
    s = np.array([b for _, b in rows], dtype=float)  # small integer scores: many ties
    assert abs(auroc(y, s) - auroc_by_pairs(list(y), list(s))) < 1e-12
    assert abs(auprc(y, s) - ap_by_thresholds(list(y), list(s))) < 1e-12


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-4, 4), st.integers(-4, 4)), min_size=3, max_size=25).filter(
        lambda r: len({a for a, _ in r}) > 1 and len({b for _, b in r}) > 1
    )
)
def test_spearman_matches_hand_ranking(rows):
    x = [float(a) for a, _ in rows]
    s = [float(b) for _, b in rows]
    assert abs(spearman_rho(np.array(x), np.array(s)) - rho_by_hand(x, s)) < 1e-9


def test_constant_scores_are_computed_not_assumed():
    y = np.array([0, 1, 0, 1, 1.0])
    zeros = np.zeros(5)
    assert auroc(y, zeros) == auroc_by_pairs(list(y), list(zeros)) == 0.5
    assert auprc(y, zeros) == ap_by_thresholds(list(y), list(zeros)) == 0.6
    assert spearman_rho(np.array([1.0, 2, 3, 4, 5]), zeros) == 0.0
    assert metric_note("spearman_rho", zeros) == CONSTANT_RHO_NOTE
    assert metric_note("auroc", zeros) is None
