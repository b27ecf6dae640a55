"""Score rows from ``geno-lewm-score`` (primary) and ``geno-lewm-carbon-baseline`` (baseline).

Rows must carry the expected ``generated_by`` marker. A row with ``error_code`` is *not scored*:
it is counted per code and reported, never silently dropped, and its score is ignored.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ledger.errors import EvalError

from geno_lewm.eval.jsonio import read_jsonl
from geno_lewm.eval.keys import VariantKey, key_from_row


@dataclass(frozen=True)
class ScoreSet:
    """Scores of one scorer, keyed by variant, plus the rows it could not score."""

    scores: dict[VariantKey, float]  # finite score per scored variant
    not_scored: dict[VariantKey, str]  # error_code per variant that was not scored
    rows: int  # rows read
    model_ids: tuple[str, ...] = ()  # distinct model_id values seen (sorted)
    stand_in: bool = False  # some row says it was produced by a stand-in encoder
    error_counts: dict[str, int] = field(default_factory=dict)  # not-scored rows per error_code


def load_scores(path: str | os.PathLike[str], *, score_field: str, generated_by: str, what: str) -> ScoreSet:
    """Read and validate score rows; raise ``EVAL.*`` naming the first bad row.

    Checks: ``generated_by`` equals ``generated_by`` (``EVAL.GENERATED_BY``); key fields
    (``EVAL.MISSING_FIELD`` / ``EVAL.BAD_KEY``); one row per key (``EVAL.DUPLICATE_KEY``); a
    finite numeric score on every row without ``error_code`` (``EVAL.MISSING_SCORE``,
    ``EVAL.NAN_SCORE``).
    """
    name = Path(path).name
    rows = read_jsonl(path, what)
    if not rows:
        raise EvalError("EMPTY", f"{what} {name} holds no rows")
    scores: dict[VariantKey, float] = {}
    not_scored: dict[VariantKey, str] = {}
    model_ids: set[str] = set()
    stand_in = False
    for lineno, row in rows:
        where = f"{what} {name} line {lineno}"
        marker = row.get("generated_by")
        if marker != generated_by:
            raise EvalError(
                "GENERATED_BY",
                f"{where}: generated_by is {marker!r}, expected {generated_by!r}",
                f"pass rows written by {generated_by}",
            )
        key = key_from_row(row, where)
        if key in scores or key in not_scored:
            raise EvalError("DUPLICATE_KEY", f"{where}: duplicate row for {key.text()}", "keep one score row per variant")
        if isinstance(row.get("model_id"), str):
            model_ids.add(row["model_id"])
        if row.get("stand_in") is True:
            stand_in = True
        code = row.get("error_code")
        if code not in (None, ""):
            not_scored[key] = str(code)
            continue
        if score_field not in row or row[score_field] is None:
            raise EvalError(
                "MISSING_SCORE",
                f"{where}: no {score_field!r} and no error_code for {key.text()}",
                f"check --score-field; rows that could not be scored must carry error_code",
            )
        value = row[score_field]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise EvalError("MISSING_SCORE", f"{where}: {score_field!r} is not a number ({value!r})")
        if not math.isfinite(value):
            raise EvalError("NAN_SCORE", f"{where}: {score_field!r} is {value} for {key.text()}", "a scorer must emit finite scores or an error_code")
        scores[key] = float(value)
    if len(model_ids) > 1:
        raise EvalError("MIXED_MODEL", f"{what} {name} mixes model_id values {sorted(model_ids)}", "evaluate one model's scores at a time")
    return ScoreSet(scores, not_scored, len(rows), tuple(sorted(model_ids)), stand_in, dict(Counter(not_scored.values())))
