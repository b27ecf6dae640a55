"""INV-REL-1 (local form): the committed public API snapshot still holds."""

from __future__ import annotations

from geno_lewm.api import breaking_changes, load_snapshot, snapshot


def test_no_public_symbol_removed_or_changed():
    problems = breaking_changes(load_snapshot(), snapshot())
    assert not problems, "breaking API change (see docs/02-public-api.md):\n" + "\n".join(problems)


def test_breaking_change_detector_catches_removal_and_signature_change():
    old = {"m.f": "def(x)", "m.g": "def(y)", "m.h": "def()"}
    new = {"m.f": "def(x, z)", "m.h": "def()", "m.new": "def()"}
    assert breaking_changes(old, new) == ["changed: m.f: def(x) -> def(x, z)", "removed: m.g"]
