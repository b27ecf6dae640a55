"""Pilot tests (``App.run_test``, 80×24) for every cockpit screen and action."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cockpit.app import CockpitApp
from cockpit.arrow_table import ArrowTable
from ledger.workspace import Workspace

SIZE = (80, 24)
pytestmark = pytest.mark.anyio


def _events(workdir: Path) -> list:
    ledger = Workspace(workdir).open_ledger(read_only=True)
    try:
        return list(ledger.events())
    finally:
        ledger.close()


async def test_first_screen_lists_every_gate_pending_with_rehearsal_hint(workdir, settle, screen_text):
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert type(app.screen).__name__ == "ReleaseScreen"
        assert (workdir / "ledger.duckdb").is_file() and (workdir / "keys" / "maintainer.key").is_file()
        states = app.screen.states
        assert states and {s.state for s in states} <= {"pending", "blocked"}
        for s in states:
            assert s.name in text
        assert "· pending" in text and "⊘ blocked" in text  # glyph and word, not colour alone
        assert "Press R to run the offline rehearsal" in text
        assert "#163" in text  # blockers carry issue refs


async def test_gate_opens_its_steps(workdir, settle, screen_text):
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # first gate: dataset, several steps
        await settle(pilot)
        assert type(app.screen).__name__ == "StepPicker"
        assert "dataset_snapshot" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "StepScreen"
        assert app.screen.step == app.screen.view.name
        text = screen_text(app)
        assert "$ python -m tools.release." in text and "never run" in text


async def test_running_a_step_streams_its_log_records_events_and_shows_identities(workdir, spec_in, settle, screen_text):
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        spec = spec_in()
        before = len(_events(workdir))
        await settle(pilot)
        await app.open_step("dataset_spec_check", ["--spec-json", str(spec)])
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot, rounds=3)
        screen = app.screen
        assert screen.outcome is not None and screen.outcome.ok, screen.outcome
        log_text = "\n".join(screen.query_one("#step-log").lines)
        assert "spec ok" in log_text and "dataset_spec_check" in log_text
        assert "✓ dataset_spec_check passed" in screen_text(app)
        # the ledger got step_started, artifact_recorded and step_passed from the run
        kinds = [e.kind for e in _events(workdir)[before:]]
        assert "step_started" in kinds and "artifact_recorded" in kinds and kinds[-1] == "step_passed"
        # identities: path, sha256 prefix, size, fresh
        await pilot.press("a")
        await settle(pilot)
        text = screen_text(app)
        assert "specs/dataset-snapshot-snv.json" in text and "✓ fresh" in text
        # the file changes on disk: the step view marks it stale
        spec.write_text(spec.read_text() + "\n")
        screen.reload()
        await settle(pilot)
        assert "~ stale" in screen_text(app)
        # the app's poller sees the new head; the Ledger screen shows the run's events
        await pilot.press("escape", "2")
        await settle(pilot)
        table = app.screen.query_one("#events", ArrowTable)
        kinds_shown = table.table.column("kind").to_pylist()
        assert kinds_shown[-1] == "step_passed" and table.row_count == len(_events(workdir))


async def test_failed_step_shows_error_code_and_hint(workdir, settle, screen_text):
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.open_step("dataset_spec_check", ["--spec-json", str(workdir / "missing.json")])
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot, rounds=3)
        out = app.screen.outcome
        assert out is not None and not out.ok and out.code
        status = str(app.screen.query_one("#run-status").render())
        assert f"error[{out.code}]" in status and "hint:" in status


async def test_ledger_filters_opens_event_with_inclusion_proof_and_verifies(noted_workspace, settle, screen_text):
    app = CockpitApp(noted_workspace, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#events", ArrowTable)
        assert table.row_count == 6  # genesis, 3 notes, checkpoint, note
        await pilot.press("slash")
        await pilot.press(*"kind=note")
        await settle(pilot)
        assert table.row_count == 4 and set(table.table.column("kind").to_pylist()) == {"note"}
        await pilot.press("enter")  # back to the table
        await pilot.press("enter")  # open the first note (seq 1)
        await settle(pilot)
        detail = app.screen.detail
        assert detail.event.seq == 1 and detail.hash_ok and detail.signature == "valid"
        assert detail.proof_status == "verified" and detail.checkpoint_size == 4
        assert "first note" in screen_text(app)
        panel = str(app.screen.query_one("#event-body").render())
        assert "✓ verified" in panel and "signature  ✓ valid" in panel
        await pilot.press("y")
        assert app.copied[-1] == detail.event.hash
        await pilot.press("escape")
        # the note after the checkpoint is not covered by it
        table.cursor_row = 3
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.detail.proof_status.startswith("not covered")
        await pilot.press("escape", "v")
        await settle(pilot)
        assert app.last_verify is not None and app.last_verify.ok
        assert "verify: ✓ ok" in screen_text(app)


async def test_ledger_key_and_step_filters(noted_workspace, settle):
    app = CockpitApp(noted_workspace, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        key_id = Workspace(noted_workspace).signer().key_id
        screen = app.screen
        screen.query_one("#filter").value = f"key={key_id[:16]}"
        await settle(pilot)
        assert screen.query_one("#events", ArrowTable).row_count == 6
        screen.query_one("#filter").value = "step=dataset_snapshot"
        await settle(pilot)
        assert screen.query_one("#events", ArrowTable).row_count == 0
        assert "(no matching events)" in str(screen.query_one("#events", ArrowTable).render_line(1).text)


async def test_sql_console_examples_refusal_and_exports(noted_workspace, settle, screen_text):
    app = CockpitApp(noted_workspace, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("f6")  # events by kind
        await settle(pilot)
        screen = app.screen
        result = screen.result
        assert dict(zip(result.column("kind").to_pylist(), result.column("n").to_pylist())) == {"note": 4, "genesis": 1, "checkpoint": 1}
        await pilot.press("ctrl+e")
        await pilot.press("ctrl+t")
        csv_path = noted_workspace / "exports" / "query-001.csv"
        pq_path = noted_workspace / "exports" / "query-001.parquet"
        assert pacsv.read_csv(csv_path).num_rows == 3
        assert pq.read_table(pq_path).equals(result)
        # write statements are refused and shown with their error code
        await pilot.press("slash")  # the query line takes keys only once focused
        inp = screen.query_one("#query")
        assert app.focused is inp
        inp.value = "DELETE FROM events"
        await pilot.press("enter")
        await settle(pilot)
        assert "error[LEDGER.SQL_REFUSED]" in screen_text(app)
        assert len(_events(noted_workspace)) == 6


async def test_rehearsal_runs_from_the_ui_with_per_step_progress(workdir, settle, screen_text, goto):
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await goto(pilot, "5")
        assert list(screen.step_states) == screen.plan and set(screen.step_states.values()) == {"pending"}
        screen.until = "dataset_input_check"
        await pilot.press("r")
        await settle(pilot, rounds=4)
        assert screen.result is not None and screen.result.ok
        assert screen.step_states["dataset_spec_check"] == "passed"
        assert screen.step_states["dataset_input_check"] == "passed"
        assert screen.step_states["dataset_snapshot"] == "not run"
        text = screen_text(app)
        assert "✓ passed" in text and "rehearsal passed" in text


async def test_release_R_starts_the_rehearsal(workdir, settle, monkeypatch):
    from cockpit import services

    calls = []

    def fake(self, progress, *, on_step=None, until=None):
        from tools.release.gate.rehearsal import RehearsalResult, StepProgress
        from tools.release.engine.runner import StepOutcome

        calls.append(until)
        progress("a log line that names no step")
        on_step(StepProgress("dataset_spec_check", 1, 20, "started"))
        on_step(StepProgress("dataset_spec_check", 1, 20, "failed", "INPUT.MISSING_FILE", "no spec", "pass --spec-json", 0.1))
        out = StepOutcome("dataset_spec_check", False, 2, "INPUT.MISSING_FILE", "no spec", "pass --spec-json")
        return RehearsalResult(ok=False, steps=[out], stopped_at="dataset_spec_check")

    monkeypatch.setattr(services.Services, "rehearse", fake)
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert type(app.screen).__name__ == "RehearseScreen" and calls == [None]
        assert "stopped at dataset_spec_check" in str(app.screen.query_one("#rehearse-status").render())
        assert app.screen.step_states["dataset_spec_check"] == "failed"
        assert app.screen.step_states["dataset_input_check"] == "not run"


async def test_rehearsal_rows_follow_structured_step_events_not_log_text(workdir, settle, monkeypatch, goto):
    """Rows move on StepProgress events alone; a log line that looks like a step mark changes nothing."""
    import threading

    from cockpit import services

    release = threading.Event()

    def fake(self, progress, *, on_step=None, until=None):
        from tools.release.gate.rehearsal import RehearsalResult, StepProgress
        from tools.release.engine.runner import StepOutcome

        progress("== dataset_snapshot")  # log text only: must not move any row
        on_step(StepProgress("dataset_spec_check", 1, 2, "started"))
        on_step(StepProgress("dataset_spec_check", 1, 2, "passed", seconds=0.25))
        on_step(StepProgress("dataset_input_check", 2, 2, "started"))
        release.wait(10)
        return RehearsalResult(ok=True, steps=[StepOutcome("dataset_spec_check", True, 0), StepOutcome("dataset_input_check", True, 0)])

    monkeypatch.setattr(services.Services, "rehearse", fake)
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await goto(pilot, "5")
        await pilot.press("r")
        try:
            for _ in range(200):  # wait (bounded) for the worker's messages, while it is still running
                if screen.step_states["dataset_input_check"] == "running":
                    break
                await pilot.pause(0.02)
            assert screen.step_states["dataset_spec_check"] == "passed"
            assert screen.step_states["dataset_input_check"] == "running"
            assert screen.step_states["dataset_snapshot"] == "pending"
            assert "step 2/2: dataset_input_check" in str(screen.query_one("#rehearse-status").render())
        finally:
            release.set()
        await settle(pilot, rounds=3)
        assert screen.step_states["dataset_input_check"] == "passed" and screen.step_states["dataset_snapshot"] == "not run"


async def test_step_failure_hint_comes_from_the_outcome(workdir, settle, monkeypatch):
    from cockpit import services
    from tools.release.engine.runner import StepOutcome

    def fake(self, name, argv, log):
        log("error[INPUT.MISSING_FILE]: spec not found")  # no hint line in the log
        return StepOutcome(name, False, 2, "INPUT.MISSING_FILE", "spec not found", "pass --spec-json FILE")

    monkeypatch.setattr(services.Services, "run_step", fake)
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.open_step("dataset_spec_check", ["--spec-json", "x.json"])
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot, rounds=3)
        status = str(app.screen.query_one("#run-status").render())
        assert "error[INPUT.MISSING_FILE]" in status and "hint: pass --spec-json FILE" in status


async def test_demo_prefills_examples_and_explains_a_missing_model(workdir, settle, screen_text, goto):
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await goto(pilot, "4")
        # empty VCF/FASTA fields mean the bundled examples, and say so
        assert "mt_known_variants.vcf" in screen.query_one("#demo-vcf").placeholder
        assert "rCRS_chrM.fa" in screen.query_one("#demo-fasta").placeholder
        assert screen.query_one("#demo-model").value == ""  # nothing packaged in a fresh workspace
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "error[INPUT.USAGE]" in screen_text(app) and "rehearsal" in screen_text(app)


async def test_new_events_from_another_process_show_up(noted_workspace, settle):
    app = CockpitApp(noted_workspace, poll_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#events", ArrowTable)
        assert table.row_count == 6
        script = (
            "import sys; from ledger.workspace import Workspace; ws = Workspace(sys.argv[1]); "
            "led = ws.open_ledger(); s = ws.signer(); [led.append('note', {'text': f'from outside {i}'}, s) for i in range(5)]"
        )
        proc = subprocess.run([sys.executable, "-c", script, str(noted_workspace)], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        for _ in range(200):
            await pilot.pause(0.05)
            if table.row_count == 11:
                break
        assert table.row_count == 11
        assert table.table.column("kind").to_pylist()[-1] == "note"
        assert app.ledger_head[0] == 11


async def test_help_palette_and_copy(workdir, settle, screen_text, goto):
    from cockpit.commands import palette_commands

    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = str((await goto(pilot, "f1")).query_one("#help-text").render())  # the whole (scrollable) list
        assert "app.quit" in text and "release.rehearse" in text
        assert "Keys" in screen_text(app)
        await pilot.press("escape")
        titles = [t for t, _, _ in palette_commands(app)]
        for must in ("Start the offline rehearsal", "Verify the ledger", "Go to SQL console", "Open step dataset_spec_check", "SQL example: gates"):
            assert must in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"verify the")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.last_verify is not None and app.last_verify.ok
        app.action_copy_head()
        assert app.copied[-1] == app.ledger_head[1] and app.clipboard == app.ledger_head[1]


async def test_worker_crash_is_shown_and_exit_code_is_nonzero(workdir, settle, monkeypatch):
    from cockpit import services

    def boom(self, sql):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(services.Services, "query", boom)
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "f2")
        await settle(pilot)
        assert "INTERNAL.UNEXPECTED" in str(app.screen.query_one("#sql-status").render())
        await pilot.press("escape", "q")
        await pilot.pause()
    assert app.return_code == 70


async def test_ctrl_c_exits_130(workdir, settle):
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 130


async def test_no_color_is_respected(workdir, monkeypatch, settle, screen_text):
    monkeypatch.setenv("NO_COLOR", "1")
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.no_color
        assert "⊘ blocked" in screen_text(app)


def test_cli_rejects_bad_flags_with_usage_error(workdir, capsys):
    from cockpit.app import main

    assert main(["--no-such-flag"]) == 2
    assert "error[INPUT.USAGE]" in capsys.readouterr().err


async def test_example_query_from_palette_entry(noted_workspace, settle):
    app = CockpitApp(noted_workspace, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await app.run_example_query(0)
        await settle(pilot)
        assert app.screen.result is not None and "name" in app.screen.result.column_names
