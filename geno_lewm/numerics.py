"""The numerical contract for published numbers: one canonical decimal form.

Every score, percentile and confidence a user sees, and every number that enters a receipt's output
commitment, is serialised by :func:`canonical_decimal`: the value rounded (correctly, by CPython's
float formatting) to :data:`SIGNIFICANT_DIGITS` significant digits, written in plain positional
notation (no exponent), trailing zeros removed, always with a fractional part, ``-0`` normalised to
``0.0``. NaN and infinities are refused (``INPUT.NON_FINITE``).

JSON rows embed these strings as raw number tokens (:func:`json_number`), so the bytes of a row are
a pure function of the canonical strings: identical across runs, thread counts and platforms as long
as the underlying float rounds to the same 8 digits. Readers that parse the JSON get back exactly
``float(canonical_decimal(x))`` (:func:`canonical_number`). See docs/scoring.md.
"""

from __future__ import annotations

import math
from typing import Final, SupportsFloat

import msgspec

from ledger.errors import InputError

#: Significant digits kept in every canonical number (part of the numerical contract).
SIGNIFICANT_DIGITS: Final = 8


def canonical_decimal(x: SupportsFloat, digits: int = SIGNIFICANT_DIGITS) -> str:
    """The canonical decimal string of ``x`` (e.g. ``0.12345679``, ``1200.0``, ``0.0``).

    Raises ``INPUT.NON_FINITE`` for NaN or infinity.
    """
    value = float(x)
    if not math.isfinite(value):
        raise InputError("NON_FINITE", f"cannot serialise non-finite number {value!r}", "the model produced NaN/inf; re-run with --debug and report it")
    if value == 0.0:
        return "0.0"  # covers -0.0
    # CPython rounds correctly to `digits` significant digits; the rest is moving the decimal point
    # (the same string as format(Decimal(sci).normalize(), "f") with ".0" appended to integers)
    mantissa, _, exponent = f"{value:.{digits - 1}e}".partition("e")
    sign = "-" if mantissa[0] == "-" else ""
    significant = mantissa.lstrip("-").replace(".", "").rstrip("0")  # at least one non-zero digit
    point = int(exponent) + 1  # digits before the decimal point
    if point <= 0:
        return f"{sign}0.{'0' * -point}{significant}"
    if point >= len(significant):
        return f"{sign}{significant}{'0' * (point - len(significant))}.0"
    return f"{sign}{significant[:point]}.{significant[point:]}"


def canonical_number(x: SupportsFloat, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``float(canonical_decimal(x))``: the value a reader of a canonical JSON row gets back."""
    return float(canonical_decimal(x, digits))


def json_number(x: SupportsFloat | None) -> msgspec.Raw | None:
    """A raw JSON number token carrying ``canonical_decimal(x)`` (None stays None/null)."""
    if x is None:
        return None
    return msgspec.Raw(canonical_decimal(x).encode("ascii"))


__all__ = ["SIGNIFICANT_DIGITS", "canonical_decimal", "canonical_number", "json_number"]
