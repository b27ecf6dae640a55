"""The whole release, offline, on the example data: every gate up to the paper passes; drift is caught."""

from __future__ import annotations

import pytest

from tools.release import cli
from tools.release.rehearse import GATES_UP_TO_PAPER, rehearse
from tools.release.replay import replay
from tools.release.status import gate_states


@pytest.mark.slow
def test_full_rehearsal_passes_then_an_edit_turns_its_gate_stale(tmp_path):
    lines: list[str] = []
    result = rehearse(tmp_path / "wd", progress=lines.append)
    assert result.ok, result.render()
    states = {g.name: g.state for g in result.gates}
    assert all(states[g] == "passed" for g in GATES_UP_TO_PAPER), states
    assert states["hub_plan"] == "pending" and states["publication"] == "blocked"
    text = result.render()
    assert "FIXTURE REHEARSAL" in text and "stand-in" in text
    assert any(line.startswith("== paper_package") for line in lines)
    wd = tmp_path / "wd"
    assert replay(wd / "ledger.duckdb").ok

    report = wd / "model" / "eval_report.md"
    report.write_text(report.read_text() + "\nan unreviewed claim\n")
    states = {g.name: g for g in gate_states(wd)}
    assert states["evaluation"].state == "stale"
    assert any("model/eval_report.md" in a for a in states["evaluation"].stale_artifacts)
    assert states["paper"].state == "blocked"
    bad = replay(wd / "ledger.duckdb")
    assert not bad.ok and any("eval_report.md" in p["message"] for p in bad.problems)
    assert cli.main(["replay", "--ledger", str(wd / "ledger.duckdb")]) != 0
    assert cli.main(["run", "--workdir", str(wd), "paper_package", "--model-dir", str(wd / "model"), "--dataset-dir", str(wd / "dataset"),
                     "--demo-dir", str(wd / "demo"), "--paper-path", str(wd / "paper" / "paper_draft.md")]) == 7
