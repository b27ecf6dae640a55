"""Structured rehearsal progress, step-outcome hints, and gate states read through the ledger's SQL views."""

from __future__ import annotations

from tools.release.gate.states import _STEP_KINDS, latest_runs, latest_runs_from_views
from tools.release.gate.rehearsal import StepProgress, rehearse
from tools.release.engine.runner import run_step
from tools.release.gate.status import gate_states


def test_rehearsal_reports_each_step_as_structured_events(tmp_path):
    events: list[StepProgress] = []
    lines: list[str] = []
    result = rehearse(tmp_path / "wd", progress=lines.append, on_step=events.append, until="dataset_input_check")
    assert result.ok, result.render()
    assert [(e.step, e.index, e.total, e.outcome) for e in events] == [
        ("dataset_spec_check", 1, 2, "started"),
        ("dataset_spec_check", 1, 2, "passed"),
        ("dataset_input_check", 2, 2, "started"),
        ("dataset_input_check", 2, 2, "passed"),
    ]
    assert all(e.seconds > 0 for e in events if e.outcome == "passed")
    assert any(line.startswith("[dataset_spec_check]") for line in lines)  # log lines still stream


def test_failed_step_carries_code_and_hint_in_outcome_and_progress(tmp_path):
    wd = tmp_path / "wd"
    out = run_step("dataset_spec_check", ["--spec-json", str(wd / "missing.json")], wd, log=lambda line: None)
    assert not out.ok and out.code and out.hint and not out.hint.startswith("hint:")

    from tools.release.gate.rehearsal import PLAN, PlanEntry

    broken = [PlanEntry(PLAN[0].step, lambda l: ["--spec-json", str(l.workdir / "nope.json")]), PLAN[1]]
    events: list[StepProgress] = []
    result = rehearse(wd, on_step=events.append, plan=broken)
    assert not result.ok and result.stopped_at == "dataset_spec_check"
    last = events[-1]
    assert (last.step, last.outcome, last.total) == ("dataset_spec_check", "failed", 2)
    assert last.code == result.steps[0].code == out.code and last.hint == result.steps[0].hint != ""
    assert [e.step for e in events].count("dataset_input_check") == 0


def test_latest_runs_from_views_equal_the_python_derivation(dataset_workdir):
    from ledger.store import Ledger

    # a failed re-run of one step, so the views see passed, failed and superseded runs
    assert not run_step("dataset_integrity", ["--dataset-dir", str(dataset_workdir / "nope")], dataset_workdir, log=lambda line: None).ok
    ledger = Ledger.open(dataset_workdir / "ledger.duckdb", read_only=True)
    try:
        by_events = latest_runs(ledger.events(kinds=_STEP_KINDS))
        by_views = latest_runs_from_views(ledger)
    finally:
        ledger.close()
    assert by_views == by_events
    assert by_views["dataset_integrity"].outcome == "failed" and by_views["dataset_package"].outputs
    states = {g.name: g.state for g in gate_states(dataset_workdir)}
    assert states["dataset"] == "failed"
