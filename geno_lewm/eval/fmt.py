"""Fixed number formats shared by conclusions, findings and the report (byte-stable rendering)."""

from __future__ import annotations


def _fixed(value: float | int | None, spec: str) -> str:
    if value is None:
        return "n/a"
    x = float(value)
    if round(x, 4) == 0:
        x = 0.0
    return format(x, spec)


def num(value: float | int | None) -> str:
    """A metric value with 4 decimals (``n/a`` for None); ``-0.0000`` is written ``0.0000``."""
    return _fixed(value, ".4f")


def signed(value: float | int | None) -> str:
    """A delta with sign and 4 decimals (``n/a`` for None); zero is ``+0.0000``."""
    return _fixed(value, "+.4f")


def interval(low: float | None, high: float | None, *, signed_values: bool = False) -> str:
    """``[low, high]`` with the fixed format, or ``n/a`` when either end is missing."""
    if low is None or high is None:
        return "n/a"
    f = signed if signed_values else num
    return f"[{f(low)}, {f(high)}]"


def level(confidence: float | None) -> str:
    """``95% CI`` for 0.95 (``CI`` when the level is unknown)."""
    return "CI" if confidence is None else f"{confidence * 100:g}% CI"
