"""``geno-lewm-release status``: gate states and blockers derived from the ledger (no torch import).

Python API (the cockpit calls these directly)::

    from tools.release.gate.status import gate_states, status_report
    states = gate_states("/path/to/workdir")          # list[GateState]
    report = status_report(states)                     # JSON-friendly dict
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tools.release.engine.context import ReleaseContext
from tools.release.gate.states import GateDef, GateState, blockers, derive_states, latest_runs_from_views, load_gates


def _context(workspace: str | os.PathLike[str] | ReleaseContext) -> ReleaseContext:
    if isinstance(workspace, ReleaseContext):
        return workspace
    return ReleaseContext.for_workdir(workspace)


def gate_states(
    workspace: str | os.PathLike[str] | ReleaseContext,
    *,
    artifact_root: str | os.PathLike[str] | None = None,
    gates: list[GateDef] | None = None,
) -> list[GateState]:
    """Derive every gate's state for a release working directory (or a :class:`ReleaseContext`).

    Reads the ledger read-only through its ``v_steps``/``v_artifacts`` views (a missing ledger
    means nothing ran: every gate is pending or blocked), takes gate definitions from ``configs/release/gates.toml`` unless ``gates`` is given,
    and checks recorded artifacts against the bytes under ``artifact_root`` (default: the
    context's artifact root) to find stale ones.
    """
    ctx = _context(workspace)
    defs = gates if gates is not None else load_gates()
    root = Path(artifact_root) if artifact_root is not None else ctx.artifact_root
    ledger_path = ctx.resolved_ledger_path
    runs = {}
    if Path(ledger_path).exists():
        from ledger.store import Ledger

        ledger = Ledger.open(ledger_path, read_only=True)
        try:
            runs = latest_runs_from_views(ledger)
        finally:
            ledger.close()
    return derive_states(defs, runs, root)


def status_report(states: list[GateState]) -> dict[str, Any]:
    """The ``status --json`` document: gates, blockers and a one-line summary."""
    counts: dict[str, int] = {}
    for s in states:
        counts[s.state] = counts.get(s.state, 0) + 1
    return {
        "schema_version": "1.0.0",
        "generated_by": "geno-lewm-release status",
        "gates": [s.to_dict() for s in states],
        "blockers": blockers(states),
        "summary": counts,
    }


def render_text(states: list[GateState]) -> str:
    """Human-readable status: one line per gate (glyph, word, title), then blockers with issue refs."""
    width = max((len(s.name) for s in states), default=4)
    lines = ["Release gates"]
    for s in states:
        line = f"  {s.glyph} {s.name:<{width}}  {s.word:<8}  {s.title}"
        lines.append(line)
        if s.state == "stale":
            for a in s.stale_artifacts:
                lines.append(f"      changed: {a}")
        elif s.reason and s.state != "passed":
            lines.append(f"      {s.reason}")
    bl = blockers(states)
    if bl:
        lines.append("")
        lines.append("Blockers")
        for b in bl:
            lines.append(f"  {b['gate']:<{width}}  {b['state']:<8}  {' '.join(b['issue_refs'])}")
    else:
        lines.append("")
        lines.append("No blockers: every gate passed.")
    return "\n".join(lines) + "\n"
