"""Migrations under geno_lewm/migrations/: a real 0.x calibration table is read as 1.0.0."""

from __future__ import annotations

from geno_lewm.versioning import load_document


def test_calibration_table_0_x_migrates_to_1_0_0():
    old = {"schema_version": "0.3.0", "bins": [["gc_low", 12], ["gc_high", "40"]], "note": "kept"}
    new = load_document("calibration_table", old)
    assert new["schema_version"] == "1.0.0"
    assert new["buckets"] == [{"name": "gc_low", "count": 12}, {"name": "gc_high", "count": 40}]
    assert "bins" not in new and new["note"] == "kept"
    assert old["schema_version"] == "0.3.0", "the input document is not mutated"
