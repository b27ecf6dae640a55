"""Calibration table 0.x → 1.0.0: the pre-release layout named buckets ``bins``.

Pre-release (0.x) calibration tables stored ``bins``: a list of ``[name, count]`` pairs. 1.0.0
stores ``buckets``: a list of ``{"name": …, "count": …}`` objects.
"""

from __future__ import annotations

from typing import Any

from geno_lewm.migrations.registry import register_migration


@register_migration("calibration_table", from_major=0, to_version="1.0.0")
def migrate(doc: dict[str, Any]) -> dict[str, Any]:
    """Rename ``bins`` to ``buckets`` and turn each pair into an object."""
    out = {k: v for k, v in doc.items() if k != "bins"}
    out["buckets"] = [{"name": str(name), "count": int(count)} for name, count in doc.get("bins", [])]
    return out
