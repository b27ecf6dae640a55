"""Release gates: load ``configs/release/gates.toml`` and derive gate states from the ledger.

A gate's state is a pure function of (gate definitions, ledger events, bytes on disk):

- ``blocked`` — a gate in ``needs`` is not ``passed``;
- ``failed``  — the latest finished run of one of its steps failed;
- ``pending`` — a step has no finished run yet, or a required artifact was never recorded;
- ``stale``   — every step passed, but an artifact one of those runs recorded (input or output)
  has different bytes on disk now, or is gone (the state names each one);
- ``passed``  — otherwise.

The ledger's ``v_gates`` view computes the same states except ``stale`` (which needs the disk).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import msgspec

from ledger.errors import ConfigError
from ledger.identity import Identity
from ledger.reports import decode

from ledger.artifacts import stale_identities

#: state -> (glyph, word). Words carry the meaning without colour (NO_COLOR friendly).
STATE_GLYPHS: dict[str, tuple[str, str]] = {
    "passed": ("✓", "passed"),
    "failed": ("✗", "failed"),
    "stale": ("~", "stale"),
    "pending": ("·", "pending"),
    "blocked": ("⊘", "blocked"),
}

_STEP_KINDS = ["step_started", "step_passed", "step_failed", "artifact_recorded"]


@dataclass(frozen=True)
class GateDef:
    """One gate as defined in ``gates.toml``."""

    name: str  # stable gate id
    title: str  # one line for humans
    needs: tuple[str, ...]  # prerequisite gates
    steps: tuple[str, ...]  # steps whose latest runs must pass
    artifacts: tuple[str, ...]  # package-local names the steps must have recorded as outputs
    issue_refs: tuple[str, ...]  # issues cited while the gate is not passed

    def ledger_form(self) -> dict[str, Any]:
        """The body the ledger's ``gates_defined`` event carries for this gate."""
        return {"name": self.name, "title": self.title, "needs": list(self.needs), "steps": list(self.steps), "issue_refs": list(self.issue_refs)}


@dataclass
class StepRunInfo:
    """The latest finished run of a step, as the ledger recorded it."""

    step: str  # step name
    run_id: str  # run id
    outcome: str  # "passed", "failed" or "running" (no outcome recorded yet)
    seq: int  # ledger seq of the outcome event
    ts: str  # timestamp of the outcome event (as stored)
    code: str = ""  # error code when failed
    message: str = ""  # error message when failed
    argv: list[str] = field(default_factory=list)  # public-safe argv
    inputs: list[Identity] = field(default_factory=list)  # recorded input identities
    outputs: list[Identity] = field(default_factory=list)  # recorded output identities


@dataclass
class GateState:
    """A gate's derived state (what ``status`` prints and the cockpit shows)."""

    name: str  # gate id
    title: str  # one line for humans
    state: str  # passed | failed | stale | pending | blocked
    glyph: str  # one-character symbol for the state
    word: str  # the state as a word
    needs: list[str]  # prerequisite gates
    steps: list[str]  # step names
    issue_refs: list[str]  # issues to cite while not passed
    stale_artifacts: list[str] = field(default_factory=list)  # "path (stale|missing)" entries
    missing_artifacts: list[str] = field(default_factory=list)  # required outputs never recorded
    blocked_by: list[str] = field(default_factory=list)  # prerequisite gates not passed
    step_states: dict[str, str] = field(default_factory=dict)  # step -> passed | failed | pending
    last_run: dict[str, Any] | None = None  # the most recent finished run among the gate's steps
    reason: str = ""  # one line explaining a non-passed state

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


class GateEntry(msgspec.Struct, forbid_unknown_fields=True):
    """One ``[[gate]]`` table of ``gates.toml``."""

    name: Annotated[str, msgspec.Meta(min_length=1)]  # stable gate id
    title: str = ""  # one line for humans
    needs: list[str] = []  # prerequisite gates
    steps: list[str] = []  # steps whose latest runs must pass
    artifacts: list[str] = []  # package-local names the steps must have recorded as outputs
    issue_refs: list[str] = []  # issues cited while the gate is not passed


class GatesFile(msgspec.Struct):
    """``configs/release/gates.toml``: the gates, in order."""

    gate: list[GateEntry] = []  # the [[gate]] tables


def default_gates_path() -> Path:
    """The committed ``configs/release/gates.toml`` (checkout or installed wheel)."""
    from geno_lewm.resources import config_path

    return config_path("release", "gates.toml")


def load_gates(path: str | os.PathLike[str] | None = None) -> list[GateDef]:
    """Parse and validate a gates file (unknown gates in ``needs``, duplicates, cycles → ``CONFIG.GATES``)."""
    p = Path(path) if path else default_gates_path()
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("GATES", f"gates file not found: {p.name}", "restore configs/release/gates.toml") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("GATES", f"{p.name} is not valid TOML: {exc}") from None
    doc = decode(
        data,
        GatesFile,
        what=p.name,
        error=lambda m, h: ConfigError("GATES", m, h),
        hint="compare with the keys documented at the top of configs/release/gates.toml",
    )
    gates = [GateDef(g.name, g.title, tuple(g.needs), tuple(g.steps), tuple(g.artifacts), tuple(g.issue_refs)) for g in doc.gate]
    _check_graph(gates)
    return gates


def gates_from_ledger_body(body: Mapping[str, Any]) -> list[GateDef]:
    """Gate definitions from a ``gates_defined`` event body (no ``artifacts``: the ledger omits them)."""
    return [
        GateDef(g["name"], g.get("title", ""), tuple(g.get("needs", [])), tuple(g.get("steps", [])), (), tuple(g.get("issue_refs", [])))
        for g in body.get("gates", [])
    ]


def _check_graph(gates: list[GateDef]) -> None:
    from ledger.events import check_gate_graph

    try:
        check_gate_graph({g.name: list(g.needs) for g in gates}, [g.name for g in gates])
    except ValueError as exc:
        raise ConfigError("GATES", f"{exc} in the gates file") from None


def latest_gates_body(ledger) -> dict[str, Any] | None:
    """The body of the ledger's latest ``gates_defined`` event, or None."""
    body = None
    for ev in ledger.events(kinds=["gates_defined"]):
        body = ev.data
    return body


def ensure_gates_recorded(ledger, signer, gates: list[GateDef] | None = None) -> bool:
    """Append a ``gates_defined`` event when the gate definitions differ from the latest recorded.

    Returns True when an event was appended.
    """
    gates = gates if gates is not None else load_gates()
    want = [g.ledger_form() for g in gates]
    have = latest_gates_body(ledger)
    if have is not None and [_norm(g) for g in have.get("gates", [])] == want:
        return False
    ledger.append("gates_defined", {"gates": want}, signer)
    return True


def _norm(g: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": g["name"],
        "title": g.get("title", ""),
        "needs": list(g.get("needs", [])),
        "steps": list(g.get("steps", [])),
        "issue_refs": list(g.get("issue_refs", [])),
    }


def latest_runs(events: Iterable[Any]) -> dict[str, StepRunInfo]:
    """Latest run per step (by ``step_started`` order, as the ledger's ``v_steps.is_latest``).

    ``events`` are ``StoredEvent`` objects with ``.kind``, ``.seq``, ``.ts`` and ``.data``. A run
    without an outcome yet has outcome ``running``.
    """
    started: dict[str, tuple[Any, dict[str, Any]]] = {}
    latest_run_of: dict[str, str] = {}
    finished: dict[str, tuple[Any, dict[str, Any]]] = {}
    artifacts: dict[str, list[dict[str, Any]]] = {}
    for ev in events:
        kind, data = ev.kind, ev.data
        if kind == "step_started":
            started[data["run_id"]] = (ev, data)
            latest_run_of[data["step"]] = data["run_id"]
        elif kind == "artifact_recorded":
            artifacts.setdefault(data["run_id"], []).append(data)
        elif kind in ("step_passed", "step_failed"):
            finished.setdefault(data["run_id"], (ev, data))
    latest: dict[str, StepRunInfo] = {}
    for step_name, run_id in latest_run_of.items():
        start_ev, start = started[run_id]
        end = finished.get(run_id)
        ev, data = end if end else (start_ev, start)
        arts = artifacts.get(run_id, [])
        latest[step_name] = StepRunInfo(
            step=step_name,
            run_id=run_id,
            outcome=("passed" if ev.kind == "step_passed" else "failed") if end else "running",
            seq=ev.seq,
            ts=str(ev.ts),
            code=data.get("code", "") if end else "",
            message=data.get("message", "") if end else "",
            argv=list(start.get("argv", [])),
            inputs=[Identity(path=a["path"], sha256=a["sha256"], size=a["size"]) for a in arts if a["role"] == "input"],
            outputs=[Identity(path=a["path"], sha256=a["sha256"], size=a["size"]) for a in arts if a["role"] == "output"],
        )
    return latest


#: The latest run of every step with its outcome event's raw timestamp and its recorded artifacts,
#: read from the ledger's views (``v_steps.is_latest`` and ``v_artifacts``), in one query.
LATEST_RUNS_SQL = """
WITH l AS (
    SELECT run_id, step, argv, status, coalesce(code, '') AS code, coalesce(message, '') AS message,
           coalesce(ended_seq, started_seq) AS seq
    FROM v_steps WHERE is_latest),
a AS (
    SELECT run_id, list(role ORDER BY seq) AS roles, list(path ORDER BY seq) AS paths,
           list(sha256 ORDER BY seq) AS shas, list(size ORDER BY seq) AS sizes
    FROM v_artifacts WHERE run_id IN (SELECT run_id FROM l) GROUP BY run_id)
SELECT l.step, l.run_id, l.status, l.seq, ev.ts, l.code, l.message, l.argv, a.roles, a.paths, a.shas, a.sizes
FROM l JOIN events ev ON ev.seq = l.seq LEFT JOIN a ON a.run_id = l.run_id
ORDER BY l.step"""


def latest_runs_from_views(ledger) -> dict[str, StepRunInfo]:
    """Latest run per step read through the ledger's SQL views (``v_steps``, ``v_artifacts``).

    Gives the same :class:`StepRunInfo` values as :func:`latest_runs` over the ledger's step
    events, without decoding every event in Python (a 100k-event ledger: one DuckDB query).
    A ledger whose views cannot answer (an older file) falls back to :func:`latest_runs`.
    """
    from ledger.errors import GenoError

    try:
        cols, rows = ledger.sql(LATEST_RUNS_SQL)
    except GenoError:
        return latest_runs(ledger.events(kinds=_STEP_KINDS))
    out: dict[str, StepRunInfo] = {}
    for step, run_id, status, seq, ts, code, message, argv, roles, paths, shas, sizes in rows:
        arts = list(zip(roles or [], paths or [], shas or [], sizes or []))
        out[step] = StepRunInfo(
            step=step,
            run_id=run_id,
            outcome=status,
            seq=int(seq),
            ts=str(ts),
            code=code if status != "running" else "",
            message=message if status != "running" else "",
            argv=list(argv or []),
            inputs=[Identity(path=p, sha256=h, size=int(n)) for r, p, h, n in arts if r == "input"],
            outputs=[Identity(path=p, sha256=h, size=int(n)) for r, p, h, n in arts if r == "output"],
        )
    return out


def derive_states(gates: list[GateDef], runs: Mapping[str, StepRunInfo], artifact_root: str | os.PathLike[str] | None) -> list[GateState]:
    """Gate states from definitions and latest runs; ``artifact_root`` None skips the stale check."""
    by_name = {g.name: g for g in gates}
    out: dict[str, GateState] = {}

    def state_of(name: str) -> GateState:
        if name in out:
            return out[name]
        g = by_name[name]
        step_states = {s: runs[s].outcome if s in runs else "pending" for s in g.steps}
        finished = [runs[s] for s in g.steps if s in runs and runs[s].outcome != "running"]
        last = max(finished, key=lambda r: r.seq) if finished else None
        last_run = {"step": last.step, "run_id": last.run_id, "outcome": last.outcome, "seq": last.seq, "ts": last.ts, "code": last.code} if last else None
        blocked_by = [n for n in g.needs if state_of(n).state != "passed"]
        gs = GateState(
            name=g.name,
            title=g.title,
            state="pending",
            glyph="",
            word="",
            needs=list(g.needs),
            steps=list(g.steps),
            issue_refs=list(g.issue_refs),
            blocked_by=blocked_by,
            step_states=step_states,
            last_run=last_run,
        )
        failed = [runs[s] for s in g.steps if s in runs and runs[s].outcome == "failed"]
        recorded_names = {i["path"].rsplit("/", 1)[-1] for s in g.steps if s in runs for i in runs[s].outputs}
        gs.missing_artifacts = [a for a in g.artifacts if a not in recorded_names]
        if failed:  # failed wins over blocked, as in the ledger's v_gates view
            gs.state, gs.reason = "failed", "; ".join(f"{r.step}: {r.code}" for r in failed)
        elif blocked_by:
            gs.state, gs.reason = "blocked", "needs " + ", ".join(blocked_by)
        elif any(v in ("pending", "running") for v in step_states.values()) or not g.steps:
            todo = [s for s, v in step_states.items() if v in ("pending", "running")]
            gs.state, gs.reason = "pending", ("waiting for " + ", ".join(todo)) if todo else "no steps defined yet"
        elif gs.missing_artifacts:
            gs.state, gs.reason = "pending", "not recorded yet: " + ", ".join(gs.missing_artifacts)
        else:
            stale: list[str] = []
            if artifact_root is not None:
                # per path, the identity recorded by the gate's most recent run that recorded it
                seen: dict[str, Identity] = {}
                for run in sorted((runs[s] for s in g.steps), key=lambda r: r.seq):
                    for ident in run.inputs + run.outputs:
                        seen[ident["path"]] = ident
                stale = sorted({f"{p} ({why})" for p, why in stale_identities(seen.values(), artifact_root)})
            gs.stale_artifacts = stale
            if stale:
                gs.state, gs.reason = "stale", "changed since recorded: " + ", ".join(stale)
            else:
                gs.state = "passed"
        gs.glyph, gs.word = STATE_GLYPHS[gs.state]
        out[name] = gs
        return gs

    return [state_of(g.name) for g in gates]


def blockers(states: Iterable[GateState]) -> list[dict[str, Any]]:
    """Gates not passed, with their issue refs and reason (what ``status`` lists as blockers)."""
    return [{"gate": s.name, "state": s.state, "issue_refs": list(s.issue_refs), "reason": s.reason} for s in states if s.state != "passed"]
