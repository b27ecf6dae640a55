"""Readiness rows and blockers of the publication steps, each carrying the live issue refs.

:data:`ISSUE_REFS` maps a readiness row or blocker to the issues cited while it does not hold;
:func:`row` turns a check into a row (a typed error makes ``ok=false``); :func:`blockers_of` lists
the rows that do not hold.
"""

from __future__ import annotations
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from ledger.errors import GenoError


#: The release page's live publication issues, in the order the page lists them.
PUBLICATION_ISSUES: tuple[str, ...] = ("#163", "#164", "#165", "#166", "#167", "#101")


#: readiness row / blocker name -> issues to cite while it does not hold.
ISSUE_REFS: dict[str, list[str]] = {
    "dataset_package": ["#163"],
    "training_run": ["#164"],
    "evaluation": ["#165"],
    "efficiency": ["#165"],
    "model_package": ["#166"],
    "fixture_manifest": ["#166"],
    "demo": ["#167"],
    "paper": ["#101"],
    "hub_plan": ["#166", "#167"],
    "public_links": list(PUBLICATION_ISSUES),
    "public_artifacts": list(PUBLICATION_ISSUES),
    "publish": ["#166", "#167", "#101"],
    "clean_machine_demo": ["#167"],
    "publication_evidence": list(PUBLICATION_ISSUES),
}


def refs(name: str) -> list[str]:
    """Issue refs for readiness row or blocker ``name`` (all publication issues when unknown)."""
    return list(ISSUE_REFS.get(name, PUBLICATION_ISSUES))


def row(name: str, check: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
    """Run ``check`` and return a readiness row ``{name, ok, issue_refs, …}``; a typed error makes ``ok=false``.

    ``check`` returns extra fields for the row (evidence identities, counts) or None.
    """
    try:
        extra = check() or {}
    except GenoError as err:
        return {"name": name, "ok": False, "code": err.code, "message": err.message, "issue_refs": refs(name)}
    return {"name": name, "ok": True, **extra, "issue_refs": refs(name)}


def blockers_of(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Blockers derived from readiness rows: each row not ok, with its code, message and issue refs."""
    return [
        {"name": r["name"], "code": r.get("code", ""), "message": r.get("message", ""), "issue_refs": list(r.get("issue_refs", []))}
        for r in rows
        if not r.get("ok")
    ]
