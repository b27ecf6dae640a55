"""Read JSON documents and JSONL row files, turning malformed input into ``EVAL.*`` errors."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from ledger.errors import EvalError, InputError
from ledger.identity import relative_or_name


def _reject_constant(text: str) -> float:
    raise ValueError(f"non-standard JSON number {text}")


def read_json(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """Read a JSON object from ``path``; raise ``INPUT.MISSING_FILE`` or ``EVAL.BAD_JSON``."""
    p = Path(path)
    if not p.is_file():
        raise InputError("MISSING_FILE", f"{what} not found: {relative_or_name(p)}", "check the path; produce the artifact first")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EvalError("BAD_JSON", f"{what} {relative_or_name(p)} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise EvalError("BAD_JSON", f"{what} {relative_or_name(p)} must hold a JSON object")
    return doc


def read_jsonl(path: str | os.PathLike[str], what: str) -> list[tuple[int, dict[str, Any]]]:
    """Read JSONL rows from ``path`` as ``(line_number, row)`` pairs (blank lines skipped).

    ``NaN``/``Infinity`` literals are kept as floats here so the caller can name them
    (``EVAL.NAN_SCORE``); any other malformed line is ``EVAL.BAD_JSON``.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("MISSING_FILE", f"{what} not found: {relative_or_name(p)}", "check the path; produce the artifact first")
    rows: list[tuple[int, dict[str, Any]]] = []
    with open(p, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise EvalError("BAD_JSON", f"{what} {p.name} line {lineno} is not valid JSON: {exc}") from None
            if not isinstance(row, dict):
                raise EvalError("BAD_JSON", f"{what} {p.name} line {lineno} must be a JSON object")
            rows.append((lineno, row))
    return rows


def is_finite_number(value: object) -> bool:
    """True for an int or float that is finite (bools are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
