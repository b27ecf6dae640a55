"""INV-REL-3 (local form): CHANGELOG.md follows Keep a Changelog and covers the current version."""

from __future__ import annotations

import re
from pathlib import Path

import geno_lewm

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def _changelog() -> str:
    return (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_current_version_has_a_changelog_section():
    text = _changelog()
    version = re.escape(geno_lewm.__version__)
    assert re.search(rf"^## \[(Unreleased|{version})\]", text, re.M), "no section for the current version"


def test_only_keep_a_changelog_subsections():
    for heading in re.findall(r"^### (.+)$", _changelog(), re.M):
        assert heading.strip() in SECTIONS, f"unexpected CHANGELOG subsection {heading!r}"
