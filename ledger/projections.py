"""Replay: fold the events in Python into the same projections the SQL views derive.

CI replays the ledger and checks that this independent fold agrees with the stored views
(``v_keys``, ``v_steps``, ``v_artifacts``, ``v_gates``, ``v_checkpoints``), so a bug or a tampered
view definition cannot silently change what auditors see.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ledger.errors import LedgerError
from ledger.events import (
    ArtifactRecorded,
    Checkpoint,
    GatesDefined,
    Genesis,
    KeyRegistered,
    KeyRevoked,
    StepFailed,
    StepPassed,
    StepStarted,
    decode_body,
)

if TYPE_CHECKING:
    from ledger.store import Ledger


@dataclass
class State:
    """Projections after replaying events: keys, step runs, artifacts, gates, checkpoints."""

    events: int = 0  # events folded
    kinds: dict[str, int] = field(default_factory=dict)  # count per kind
    keys: dict[str, str] = field(default_factory=dict)  # key_id -> "active" | "revoked"
    runs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (run_id, step) -> run
    latest_run: dict[str, tuple[str, str]] = field(default_factory=dict)  # step -> (run_id, step) of latest start
    artifacts: int = 0  # artifact_recorded events
    gates: list[dict[str, Any]] = field(default_factory=list)  # latest gates_defined
    checkpoints: list[tuple[int, int, str]] = field(default_factory=list)  # (seq, size, root)

    def apply(self, seq: int, ev: Any) -> None:
        """Fold one decoded event."""
        kind = ev.__struct_config__.tag
        self.events += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if isinstance(ev, (Genesis, KeyRegistered)):
            self.keys[ev.key_id] = "active"
        elif isinstance(ev, KeyRevoked):
            self.keys[ev.key_id] = "revoked"
        elif isinstance(ev, StepStarted):
            self.runs[(ev.run_id, ev.step)] = {"status": "running", "started_seq": seq}
            self.latest_run[ev.step] = (ev.run_id, ev.step)
        elif isinstance(ev, (StepPassed, StepFailed)):
            run = self.runs.get((ev.run_id, ev.step))
            if run is not None and run["status"] == "running":
                run["status"] = "passed" if isinstance(ev, StepPassed) else "failed"
        elif isinstance(ev, ArtifactRecorded):
            self.artifacts += 1
        elif isinstance(ev, GatesDefined):
            self.gates = [{"name": g.name, "needs": list(g.needs), "steps": list(g.steps)} for g in ev.gates]
        elif isinstance(ev, Checkpoint):
            self.checkpoints.append((seq, ev.size, ev.root))

    def gate_status(self) -> dict[str, str]:
        """Gate name -> passed | failed | pending | blocked (same rules as ``v_gates``)."""
        own: dict[str, str] = {}
        for g in self.gates:
            statuses = [self.runs[self.latest_run[s]]["status"] if s in self.latest_run else "pending" for s in g["steps"]]
            own[g["name"]] = "failed" if "failed" in statuses else ("pending" if any(s != "passed" for s in statuses) else "passed")
        needs = {g["name"]: g["needs"] for g in self.gates}

        def closure(n: str, seen: set[str]) -> set[str]:
            for m in needs[n]:
                if m not in seen:
                    seen.add(m)
                    closure(m, seen)
            return seen

        out = {}
        for g in self.gates:
            n = g["name"]
            if own[n] == "failed":
                out[n] = "failed"
            elif any(own[m] != "passed" for m in closure(n, set())):
                out[n] = "blocked"
            else:
                out[n] = own[n]
        return out

    def summary(self) -> dict[str, Any]:
        """JSON-friendly summary."""
        return {
            "events": self.events,
            "kinds": dict(sorted(self.kinds.items())),
            "keys": dict(sorted(self.keys.items())),
            "step_runs": len(self.runs),
            "artifacts": self.artifacts,
            "gates": self.gate_status(),
            "checkpoints": len(self.checkpoints),
        }


def replay(ledger: "Ledger") -> State:
    """Fold every event of ``ledger`` (decoding with upcasting) into a :class:`State`."""
    st = State()
    for ev in ledger.events():
        st.apply(ev.seq, decode_body(ev.body))
    return st


def compare_with_views(ledger: "Ledger", st: State) -> list[str]:
    """Differences between the Python fold and the SQL views (empty when they agree)."""
    diffs: list[str] = []
    _, keys = ledger.sql("SELECT key_id, status FROM v_keys")
    if dict(keys) != st.keys:
        diffs.append(f"v_keys {dict(keys)} != replay {st.keys}")
    _, steps = ledger.sql("SELECT run_id, step, status FROM v_steps")
    view_runs = {(r, s): status for r, s, status in steps}
    fold_runs = {k: v["status"] for k, v in st.runs.items()}
    if view_runs != fold_runs:
        diffs.append(f"v_steps disagrees with replay on {len(set(view_runs.items()) ^ set(fold_runs.items()))} runs")
    _, arts = ledger.sql("SELECT count(*) FROM v_artifacts")
    if arts[0][0] != st.artifacts:
        diffs.append(f"v_artifacts has {arts[0][0]} rows, replay {st.artifacts}")
    _, gates = ledger.sql("SELECT name, status FROM v_gates")
    if dict(gates) != st.gate_status():
        diffs.append(f"v_gates {dict(gates)} != replay {st.gate_status()}")
    _, cps = ledger.sql("SELECT seq, size, root FROM v_checkpoints ORDER BY seq")
    if [tuple(r) for r in cps] != st.checkpoints:
        diffs.append("v_checkpoints disagrees with replay")
    return diffs


def replay_and_check(ledger: "Ledger") -> dict[str, Any]:
    """Replay, compare with the views, raise ``LEDGER.REPLAY_MISMATCH`` on a difference; return the summary."""
    t0 = time.perf_counter()
    st = replay(ledger)
    diffs = compare_with_views(ledger, st)
    if diffs:
        raise LedgerError("REPLAY_MISMATCH", "; ".join(diffs), "the SQL views disagree with the events; rebuild views or report a bug")
    out = st.summary()
    out["seconds"] = round(time.perf_counter() - t0, 3)
    return out
