"""An accepted re-scope of a failed rollout-speed target: the scope report and its checks.

Declared as the release step ``python -m tools.release.rollout_speed_scope``.

When the RFC-0004 autoregressive rollout-speed target is not met by a direct ``bench.rollout`` report
and the project explicitly accepts a re-scope (#42 / #197), this step writes a scope report that:

- binds the failing ``bench.rollout`` report by path, SHA-256 and size and lists the failed K targets
  (measured speed-up below ``--target-speedup``); a report that meets the target is refused
  (``RELEASE.TARGET_MET``: nothing to re-scope);
- refuses a source report that lacks or weakens the direct rollout-speed claim boundary;
- records accepter, UTC generated/accepted timestamps, the HTTP(S) decision URL, rationale,
  replacement target and GitHub issue refs (which must include #42 and #197);
- stays ``state="rescoped"``, ``passed=false``: negative findings and a claim boundary say the failed
  target remains not-passing rollout-speed evidence.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ledger.errors import InputError, ProvenanceError, ReleaseError

from ledger.artifacts import identity, public_argv
from ledger.reports import load_json

GENERATED_BY = "tools.release.rollout_speed_scope"
SOURCE_GENERATOR = "bench.rollout"
REQUIRED_REFS = ("#42", "#197")
#: Phrases the source report's claim boundary must keep (it is timing evidence only).
CLAIM_TERMS = ("timing evidence", "not model-quality", "clinical", "release-readiness")
SCOPE_CLAIM = (
    "Accepted re-scope of a failed rollout-speed target: the failed target remains NOT passing rollout-speed evidence. "
    "This report is timing-scope bookkeeping only; it is not model-quality, clinical, privacy or release-readiness evidence."
)
_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_REF = re.compile(r"^#[1-9][0-9]*$")


def _decimal(v: Any, what: str) -> Decimal:
    try:
        d = Decimal(str(v))
    except InvalidOperation:
        raise InputError("ROLLOUT_SPEED", f"{what} {v!r} is not a number") from None
    if not d.is_finite():
        raise InputError("ROLLOUT_SPEED", f"{what} {v!r} is not finite")
    return d


def check_source(doc: dict[str, Any]) -> None:
    """Refuse a source that is not a direct ``bench.rollout`` report with its full claim boundary."""
    if doc.get("generated_by") != SOURCE_GENERATOR:
        raise ProvenanceError(
            "GENERATED_BY",
            f"rollout-speed report has generated_by={doc.get('generated_by')!r}; expected {SOURCE_GENERATOR}",
            "pass the direct python -m bench.rollout output",
        )
    claim = str(doc.get("claim_boundary", "")).lower()
    missing = [t for t in CLAIM_TERMS if t not in claim]
    if missing:
        raise ProvenanceError(
            "CLAIM_BOUNDARY",
            f"the rollout-speed report's claim boundary is missing or weakened (lacks {', '.join(missing)})",
            "regenerate it with python -m bench.rollout; do not edit its claim boundary",
        )
    if not isinstance(doc.get("results"), list) or not doc["results"]:
        raise ProvenanceError("ROLLOUT_SPEED", "the rollout-speed report has no results", "re-run python -m bench.rollout")


def failed_targets(doc: dict[str, Any], target: Decimal) -> list[dict[str, Any]]:
    """The K rows whose measured speed-up is below ``target`` (decimal strings, float-free)."""
    out = []
    for r in doc["results"]:
        got = _decimal(r.get("measured_speedup"), f"measured_speedup for K={r.get('k')}")
        if got < target:
            out.append({"k": int(r["k"]), "measured_speedup": str(got), "target_speedup": str(target)})
    return out


def _utc(value: str | None, flag: str) -> str:
    if value is None:
        return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not _UTC.match(value):
        raise InputError("USAGE", f"{flag} must be a UTC timestamp like 2026-01-31T12:00:00Z")
    return value


def build_scope(report: Path, root: Path, args_view: dict[str, Any], argv: list[str]) -> dict[str, Any]:
    """The scope document (raises on a met target, a weak source or a bad decision record)."""
    from geno_lewm.distribution.fetch import check_url

    doc = load_json(report)
    check_source(doc)
    target = _decimal(args_view["target_speedup"], "--target-speedup")
    failed = failed_targets(doc, target)
    if not failed:
        raise ReleaseError(
            "TARGET_MET", f"every K meets the {target}x target: there is nothing to re-scope", "publish the rollout-speed report as passing evidence instead"
        )
    refs = list(dict.fromkeys(args_view["issue_ref"] or []))
    bad = [r for r in refs if not _REF.match(r)]
    if bad or any(r not in refs for r in REQUIRED_REFS):
        raise InputError("ISSUE_REFS", f"--issue-ref must be GitHub refs (#N) including {' and '.join(REQUIRED_REFS)} (got {refs})")
    url = check_url(args_view["decision_url"], "--decision-url")
    for key in ("accepted_by", "rationale", "replacement_target"):
        if not str(args_view.get(key) or "").strip():
            raise InputError("USAGE", f"--{key.replace('_', '-')} must not be empty")
    src_argv = doc.get("command") if isinstance(doc.get("command"), list) else ["python", "-m", SOURCE_GENERATOR]
    return {
        "kind": "rollout_speed_scope",
        "state": "rescoped",
        "passed": False,
        "generated": _utc(args_view.get("generated"), "--generated"),
        "accepted_at": _utc(args_view.get("accepted_at"), "--accepted-at"),
        "accepted_by": args_view["accepted_by"],
        "decision_url": url,
        "rationale": args_view["rationale"],
        "replacement_target": args_view["replacement_target"],
        "issue_refs": refs,
        "rollout_speed_report": identity(report, root),
        "rollout_speed_summary": {
            "generated_by": doc["generated_by"],
            "model_id": doc.get("model_id", ""),
            "stand_in": bool(doc.get("stand_in", False)),
            "command": public_argv([str(a) for a in src_argv], root),
            "claim_boundary": doc["claim_boundary"],
        },
        "failed_targets": failed,
        "command": public_argv(["python", "-m", GENERATED_BY, *argv], root),
        "negative_findings": [f"K={f['k']}: measured speed-up {f['measured_speedup']}x is below the {f['target_speedup']}x RFC-0004 target" for f in failed],
        "claim_boundary": SCOPE_CLAIM,
    }
