"""``geno-lewm-release replay``: the CI mode — verify the ledger, re-derive gates, check artifacts on disk.

:func:`replay` returns a :class:`ReplayReport`; any tamper (ledger verification failure), drift
(a recorded artifact whose bytes changed or vanished) or disagreement between the ledger's
``v_gates`` view and the Python derivation is a *problem*, named with its code. The CLI exits
non-zero (``PROVENANCE``/``LEDGER`` family) when there is one.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ledger.errors import InputError

from tools.release.gate.states import GateState, derive_states, gates_from_ledger_body, latest_gates_body, latest_runs, load_gates


@dataclass
class ReplayReport:
    """Outcome of a replay: ledger verification, derived gate states and every problem found."""

    ok: bool  # True when there is no tamper, drift or view disagreement
    events: int  # events in the ledger
    ledger_ok: bool  # the ledger's own verification passed
    gates: list[GateState] = field(default_factory=list)  # derived gate states
    problems: list[dict[str, str]] = field(default_factory=list)  # {code, message}
    gates_source: str = "ledger"  # "ledger" (latest gates_defined) or "file" (none recorded)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        d = asdict(self)
        d["gates"] = [g.to_dict() for g in self.gates]
        return d


def _view_states(ledger) -> dict[str, str] | None:
    try:
        cols, rows = ledger.sql("SELECT name, status FROM v_gates")
    except Exception:  # noqa: BLE001 - an old ledger without the view: nothing to compare
        return None
    return {r[0]: r[1] for r in rows}


def replay(
    ledger_path: str | os.PathLike[str],
    artifacts_root: str | os.PathLike[str] | None = None,
    *,
    trusted_keys: str | os.PathLike[str] | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
) -> ReplayReport:
    """Verify ``ledger_path`` and re-derive gate states against the bytes under ``artifacts_root``.

    ``artifacts_root`` defaults to the ledger file's directory (a release working directory).
    ``trusted_keys`` (a pinned public-key file) and ``checkpoint`` (an earlier C2SP checkpoint
    note) anchor trust outside the ledger (see :mod:`ledger.anchor`); their failures are problems.
    """
    from ledger.anchor import check_anchor
    from ledger.errors import GenoError

    from ledger.store import Ledger

    path = Path(ledger_path)
    if not path.is_file():
        raise InputError("MISSING_FILE", f"ledger not found: {path.name}", "pass --ledger FILE (a release working directory's ledger.duckdb)")
    root = Path(artifacts_root) if artifacts_root is not None else path.parent
    ledger = Ledger.open(path, read_only=True)
    try:
        vr = ledger.verify(artifacts_root=root)
        n, _ = ledger.head()
        problems: list[dict[str, str]] = []
        if not vr.ok:
            problems.append({"code": vr.code or "LEDGER.VERIFY_FAILED", "message": f"seq {vr.first_bad_seq}: {vr.reason}"})
        elif trusted_keys or checkpoint:
            try:
                check_anchor(ledger, trusted_keys=trusted_keys, checkpoint=checkpoint)
            except GenoError as err:
                if not err.code.startswith("LEDGER."):
                    raise
                problems.append({"code": err.code, "message": err.message})
        body = latest_gates_body(ledger)
        source = "ledger"
        if body is None:
            defs, source = load_gates(), "file"
        else:
            defs = gates_from_ledger_body(body)
            # artifacts lists are not in the ledger; take them from the file when the gate names agree
            file_defs = {g.name: g for g in load_gates()}
            defs = [file_defs[g.name] if g.name in file_defs and file_defs[g.name].ledger_form() == g.ledger_form() else g for g in defs]
        runs = latest_runs(ledger.events(kinds=["step_started", "step_passed", "step_failed", "artifact_recorded"]))
        states = derive_states(defs, runs, root)
        for s in states:
            for a in s.stale_artifacts:
                problems.append({"code": "PROVENANCE.STALE_ARTIFACT", "message": f"gate {s.name}: {a}"})
        view = _view_states(ledger) if source == "ledger" else None
        if view is not None:
            # the same derivation without the disk and without artifact lists must equal the view
            plain = derive_states([replace(g, artifacts=()) for g in defs], runs, None)
            for s in plain:
                if view.get(s.name) != s.state:
                    problems.append({"code": "LEDGER.VIEW_MISMATCH", "message": f"gate {s.name}: v_gates says {view.get(s.name)}, replay derives {s.state}"})
    finally:
        ledger.close()
    return ReplayReport(ok=not problems, events=n, ledger_ok=vr.ok, gates=states, problems=problems, gates_source=source)
