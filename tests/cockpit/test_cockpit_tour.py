"""The README's tour, as a new user takes it (pilot): what broke for one must keep working.

A rehearsed workspace (the whole offline rehearsal passed, built once per session) backs the tests
that need a release: every example query exports to CSV, the Demo screen scores with the
rehearsal's model without touching a release artifact, and the Rehearse screen shows the last
rehearsal after a restart. Keys, the step form and the fitted columns are checked on fresh
workspaces.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.csv as pacsv
import pytest
from textual.widgets import Input

from cockpit.app import CockpitApp
from cockpit.arrow_table import ArrowTable
from cockpit.services import EXAMPLE_QUERIES
from ledger.workspace import Workspace

pytestmark = pytest.mark.anyio

SIZE = (80, 24)
WIDE = (140, 45)


def _tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _step_events(workdir: Path) -> list:
    led = Workspace(workdir).open_ledger(read_only=True)
    try:
        return list(led.events(kinds=["step_started"]))
    finally:
        led.close()


async def test_every_example_query_exports_to_csv(rehearsed_workspace, settle):
    """F2–F7 then ctrl+e: every example lands in a CSV (lists as JSON text), the cockpit keeps running."""
    app = CockpitApp(rehearsed_workspace, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        for i, (name, _) in enumerate(EXAMPLE_QUERIES):
            await app.run_example_query(i)
            await settle(pilot)
            screen = app.screen
            result = screen.result
            await pilot.press("ctrl+e")
            await settle(pilot)
            assert screen.last_export is not None, f"example {name!r} was not exported"
            back = pacsv.read_csv(screen.last_export, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
            assert back.num_rows == result.num_rows and back.column_names == result.column_names, name
            if name == "blockers":
                assert result.num_rows > 0  # the rehearsed release still has blocked gates
                refs = [json.loads(v) if v else v for v in back.column("issue_refs").to_pylist()]
                assert refs == result.column("issue_refs").to_pylist()
            assert "✓ exported" in str(screen.query_one("#sql-status").render())
        assert app.is_running and not app.crashed


async def test_demo_scores_with_the_rehearsal_model_and_leaves_the_release_alone(rehearsed_workspace, settle, screen_text, status_json, goto):
    """After a passing rehearsal the Demo screen finds the model; scoring writes to tryout/ only."""
    before_status = status_json(rehearsed_workspace)
    release_dirs = ("demo", "model", "dataset", "paper")
    before = {d: _tree_digest(rehearsed_workspace / d) for d in release_dirs}
    app = CockpitApp(rehearsed_workspace, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await goto(pilot, "4")
        assert screen.query_one("#demo-model", Input).value == "model"  # the model_package run's directory
        assert not isinstance(app.focused, Input)  # keys act; they do not type into the fields
        await pilot.press("s")
        await settle(pilot, rounds=4)
        status = str(screen.query_one("#demo-status").render())
        assert "receipts ✓ verified" in status and "stand-in model" in status, status
        assert screen.result is not None and screen.result.scored > 0 and screen.result.out_dir == rehearsed_workspace / "tryout"
    assert (rehearsed_workspace / "tryout" / "scores.jsonl").is_file()
    assert {d: _tree_digest(rehearsed_workspace / d) for d in release_dirs} == before
    after_status = status_json(rehearsed_workspace)
    assert [(g["name"], g["state"]) for g in after_status["gates"]] == [(g["name"], g["state"]) for g in before_status["gates"]]
    assert {g["name"] for g in after_status["gates"] if g["state"] == "passed"} >= {"model_package", "demo", "paper"}


async def test_rehearse_screen_shows_the_last_rehearsal_after_a_restart(rehearsed_workspace, settle, screen_text, goto):
    app = CockpitApp(rehearsed_workspace, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await goto(pilot, "5")
        assert set(screen.step_states.values()) == {"passed"}
        assert f"{len(screen.plan)}/{len(screen.plan)} steps passed" in screen_text(app)


async def test_capital_r_starts_the_rehearsal_on_the_rehearse_screen(workdir, settle, goto):
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await goto(pilot, "5")
        screen.until = "dataset_spec_check"
        await pilot.press("R")
        await settle(pilot, rounds=3)
        assert screen.result is not None and screen.result.ok
        assert screen.step_states["dataset_spec_check"] == "passed"


async def test_keys_never_type_into_fields_by_accident_and_escape_leaves_them(workdir, settle):
    """Screens open with a table focused, so q and 1–5 act; / or e enter a field; Esc leaves it."""
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, enter in (("3", "slash"), ("4", "e"), ("2", "slash")):
            await pilot.press(key)
            await settle(pilot)
            screen = app.screen
            assert not isinstance(app.focused, Input), f"screen {key} opened with a field focused"
            await pilot.press(enter)
            field = app.focused
            assert isinstance(field, Input)
            await pilot.press("1")  # typed: the user asked for the field
            assert field.value.endswith("1") and app.screen is screen
            await pilot.press("escape")
            assert not isinstance(app.focused, Input)
            field.value = ""
        await pilot.press("1")
        await settle(pilot)
        assert app.current_mode == "release"


async def test_help_lists_every_key_of_every_screen(workdir, goto):
    from cockpit.screens.help import HelpScreen

    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=WIDE) as pilot:
        screen = await goto(pilot, "f1")
        assert isinstance(screen, HelpScreen)
        text = str(screen.query_one("#help-text").render())
        for bid in (
            "rehearse.start",
            "demo.score",
            "demo.edit",
            "demo.leave",
            "sql.focus",
            "sql.export_csv",
            "step.run",
            "step.edit_args",
            "picker.back",
            "app.quit",
        ):
            assert bid in text, bid
        assert "R,r" in text  # the Rehearse screen takes R, as the Release screen does


async def test_step_form_is_built_from_the_step_parser(workdir, settle, screen_text):
    """Required flags marked, rehearsal values prefilled, prerequisites named; errors shown once."""
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.open_step("dataset_package")
        await settle(pilot)
        screen = app.screen
        text = screen_text(app)
        assert "*--dataset-dir" in text and "*--metadata-json" in text
        assert screen.query_one("#flag-dataset-dir", Input).value == "dataset"
        assert screen.query_one("#flag-metadata-json", Input).value == "dataset/dataset_metadata.json"
        assert "step dataset_snapshot is pending" in text  # named before anything runs
        assert screen.query_one("#argv", Input).value == ""
        # a required field left empty: refused before running, no ledger event
        screen.query_one("#flag-metadata-json", Input).value = ""
        n = len(_step_events(workdir))
        await pilot.press("r")
        await settle(pilot)
        assert "fill the required field first: --metadata-json" in str(screen.query_one("#run-status").render())
        assert len(_step_events(workdir)) == n
        # run with the prerequisites unmet: it fails, the error is shown once, the form is unchanged
        screen.query_one("#flag-metadata-json", Input).value = "dataset/dataset_metadata.json"
        await pilot.press("r")
        await settle(pilot, rounds=3)
        status = str(screen.query_one("#run-status").render())
        log = "\n".join(screen.query_one("#step-log").lines)
        assert "error[INPUT.MISSING_FILE]" in status
        assert "error[" not in log and "MISSING_FILE" not in log
        assert screen.query_one("#argv", Input).value == ""  # never refilled with the step's name
        assert screen.query_one("#flag-dataset-dir", Input).value == "dataset"


async def test_release_columns_fit_their_content_and_footers_fit(workdir, settle, screen_text):
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "#163 #164 #165 #166 #167 #101" in text  # publication's six refs, uncut at 140
        assert "training, evaluation, efficiency" in text
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("1", "2", "3", "4", "5"):
            await pilot.press(key)
            await settle(pilot)
            footer = screen_text(app).rstrip("\n").splitlines()[-1]
            assert "q Quit" in footer and "palette" in footer, footer


async def test_wide_tables_are_not_cut_while_space_is_empty(noted_workspace, settle):
    app = CockpitApp(noted_workspace, poll_interval=None)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#events", ArrowTable)
        line = str(table.render_line(1).text)
        assert table.row(0)["key_id"] in line  # only the widest column (the hash) gives up room
        assert table.row(0)["hash"][:40] in line


async def test_event_view_says_when_no_checkpoint_exists(fixed_workspace, settle, screen_text):
    app = CockpitApp(fixed_workspace, poll_interval=None)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "no checkpoint yet" in screen_text(app)


async def test_blockers_show_issue_titles_from_the_cache(workdir, settle, screen_text):
    from tools.release.gate.issues import CACHE_NAME, GENERATED_BY

    workdir.mkdir(parents=True)
    (workdir / CACHE_NAME).write_text(
        json.dumps(
            {
                "schema_version": "1.0.0",
                "generated_by": GENERATED_BY,
                "repo": "octo/geno",
                "fetched_at": "2026-01-01T00:00:00Z",
                "missing": [],
                "issues": {
                    "166": {"title": "Hub upload plan", "state": "open", "url": "", "pull_request": False},
                    "167": {"title": "Sdist assets", "state": "closed", "url": "", "pull_request": False},
                },
            }
        ),
        encoding="utf-8",
    )
    app = CockpitApp(workdir, poll_interval=None)
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        screen = app.screen
        row = [s.name for s in screen.states].index("hub_plan")
        screen.query_one("#gates").move_cursor(row=row)
        await settle(pilot)
        text = screen_text(app)
        assert "#166 open: Hub upload plan" in text and "#167 closed: Sdist assets" in text
        assert "octo/geno, fetched" in text and "ago" in text
        assert "#167(closed)" in text
