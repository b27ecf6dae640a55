"""SVG snapshots (pytest-textual-snapshot) of the main screens at 80×24.

Stable by construction: fixed maintainer key, frozen clock and event ids (so every hash is
reproducible), a workdir named ``ws``, no clock in the UI, cursor blink off, fixed terminal size.
Update with ``pytest tests/cockpit --snapshot-update`` after an intended UI change.
"""

from __future__ import annotations

from textual.widgets import Input

from cockpit.app import CockpitApp

SIZE = (80, 24)


async def _steady(pilot) -> None:
    from textual.worker import WorkerCancelled, WorkerFailed

    for _ in range(3):
        await pilot.pause()
        try:
            await pilot.app.workers.wait_for_complete()
        except (WorkerCancelled, WorkerFailed):
            pass
        await pilot.pause()
    for inp in pilot.app.screen.query(Input):
        inp.cursor_blink = False
    pilot.app.clear_notifications()
    await pilot.pause()


def _run_before(*keys: str):
    async def run(pilot) -> None:
        await _steady(pilot)
        for key in keys:
            await pilot.press(key)
            await _steady(pilot)

    return run


def test_release_screen_fresh_workspace(fixed_workspace, snap_compare):
    """First screen of a fresh workspace: every gate pending/blocked, the rehearsal hint."""
    assert snap_compare(CockpitApp(fixed_workspace, poll_interval=None), terminal_size=SIZE, run_before=_run_before())


def test_step_screen_never_run(fixed_workspace, snap_compare):
    """A step opened from its gate: description, exact command, no identities yet."""
    assert snap_compare(CockpitApp(fixed_workspace, poll_interval=None), terminal_size=SIZE, run_before=_run_before("enter", "enter"))


def test_ledger_screen(noted_workspace, snap_compare):
    """The Arrow-backed events table."""
    assert snap_compare(CockpitApp(noted_workspace, poll_interval=None), terminal_size=SIZE, run_before=_run_before("2", "down"))


def test_event_detail_with_inclusion_proof(noted_workspace, snap_compare):
    """An event opened from the ledger: hash, signature, body, inclusion proof."""
    assert snap_compare(CockpitApp(noted_workspace, poll_interval=None), terminal_size=SIZE, run_before=_run_before("2", "down", "enter"))


def test_sql_console_example(noted_workspace, snap_compare):
    """The SQL console after the 'events by kind' example (F6)."""
    assert snap_compare(CockpitApp(noted_workspace, poll_interval=None), terminal_size=SIZE, run_before=_run_before("3", "f6"))


def test_help_screen(fixed_workspace, snap_compare):
    """The keys screen (F1)."""
    assert snap_compare(CockpitApp(fixed_workspace, poll_interval=None), terminal_size=SIZE, run_before=_run_before("f1"))
