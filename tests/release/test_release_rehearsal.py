"""The whole release, offline, on the example data: every gate up to the paper passes; drift is caught."""

from __future__ import annotations

import pytest

from tools.release import cli
from tools.release.gate.rehearsal import GATES_UP_TO_PAPER, rehearse
from tools.release.gate.replay import replay
from tools.release.gate.status import gate_states


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
    _every_event_is_anchored(wd)
    # both rollout tracks reach the eval report beside the source-state baseline; synthetic phasing is said
    report_text = (wd / "model" / "eval_report.md").read_text()
    for track in ("rollout_phased_haplotype", "rollout_synthetic_edit_chain"):
        assert f"{track} split eval: cosine" in report_text and "vs source_state" in report_text
    assert "SYNTHESIZED phased genotypes" in result.notice
    # world-model fidelity on held-out edits reaches the report beside the source state (RFC-0014)
    for track in ("world_model_fidelity_snv", "world_model_fidelity_indel"):
        assert f"{track} split heldout-rCRS_chrM: mse" in report_text and f"{track} split heldout-rCRS_chrM: spearman_rho" in report_text
    # the rehearsal model uses the learning recipe and beats the source state on its held-out split
    import json

    record = json.loads((wd / "run" / "training_run.json").read_text())
    assert float(record["heldout"]["heldout_mse"]) < float(record["heldout"]["heldout_source_baseline_mse"])
    # the trainer read the dataset manifest (no --fasta/--vcf) and left no symlink in the run
    train_argv = next(a for a in _argvs(wd) if "--carbon-train" in a)
    assert "--fasta" not in train_argv and "--vcf" not in train_argv
    assert not [p for p in (wd / "run").rglob("*") if p.is_symlink()]

    report = wd / "model" / "eval_report.md"
    report.write_text(report.read_text() + "\nan unreviewed claim\n")
    states = {g.name: g for g in gate_states(wd)}
    assert states["evaluation"].state == "stale"
    assert any("model/eval_report.md" in a for a in states["evaluation"].stale_artifacts)
    assert states["paper"].state == "blocked"
    bad = replay(wd / "ledger.duckdb")
    assert not bad.ok and any("eval_report.md" in p["message"] for p in bad.problems)
    assert cli.main(["replay", "--ledger", str(wd / "ledger.duckdb")]) != 0
    assert (
        cli.main(
            [
                "run",
                "--workdir",
                str(wd),
                "paper_package",
                "--model-dir",
                str(wd / "model"),
                "--dataset-dir",
                str(wd / "dataset"),
                "--demo-dir",
                str(wd / "demo"),
                "--paper-path",
                str(wd / "paper" / "paper_draft.md"),
            ]
        )
        == 7
    )


def _argvs(wd):
    from ledger.store import Ledger

    ledger = Ledger.open(wd / "ledger.duckdb", read_only=True)
    try:
        return [list(argv) for (argv,) in ledger.sql("SELECT argv FROM v_steps ORDER BY started_seq")[1]]
    finally:
        ledger.close()


def _every_event_is_anchored(wd) -> None:
    """Issue 16: passed gates and the rehearsal's end write checkpoints; every event has an inclusion proof."""
    from ledger.cli import main as ledger_main
    from ledger.store import Ledger

    cps = sorted(p.name for p in (wd / "checkpoints").iterdir())
    assert "latest.txt" in cps and len(cps) >= 3  # one per passed gate at least, plus latest
    anchored = replay(wd / "ledger.duckdb", trusted_keys=wd / "keys" / "maintainer.key.pub", checkpoint=wd / "checkpoints" / "latest.txt")
    assert anchored.ok, anchored.problems
    ledger = Ledger.open(wd / "ledger.duckdb", read_only=True)
    n, _ = ledger.head()
    for seq in range(n):
        proof = ledger.inclusion_proof(seq)
        proof.verify()
        assert proof.checkpoint_seq is not None or seq == n - 1  # only the final checkpoint itself lies after every checkpoint
    assert ledger_main(["prove", "--ledger", str(wd / "ledger.duckdb"), "--seq", str(n - 2)]) == 0
