"""SVG snapshots (pytest-textual-snapshot) of every screen at 80×24 and 140×45.

Stable by construction: fixed maintainer key, frozen clock and event ids (so every hash is
reproducible), a workdir named ``ws``, no clock in the UI, cursor blink off, fixed terminal size.
Update with ``pytest tests/cockpit --snapshot-update`` after an intended UI change.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from cockpit.app import CockpitApp


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


#: Every screen is drawn at the smallest supported terminal and at a roomy one.
SIZES = pytest.mark.parametrize("size", [(80, 24), (140, 45)], ids=["80x24", "140x45"])


@SIZES
def test_release_screen_fresh_workspace(fixed_workspace, snap_compare, size):
    """First screen of a fresh workspace: every gate pending/blocked, the rehearsal hint."""
    assert snap_compare(CockpitApp(fixed_workspace, poll_interval=None), terminal_size=size, run_before=_run_before())


@SIZES
def test_step_screen_never_run(fixed_workspace, snap_compare, size):
    """A step opened from its gate: description, exact command, its form with the rehearsal's values."""
    assert snap_compare(CockpitApp(fixed_workspace, poll_interval=None), terminal_size=size, run_before=_run_before("enter", "enter"))


@SIZES
def test_step_screen_with_unmet_prerequisites(fixed_workspace, snap_compare, size):
    """A later step of a gate: required flags marked, the earlier step named as a prerequisite."""
    assert snap_compare(CockpitApp(fixed_workspace, poll_interval=None), terminal_size=size, run_before=_run_before("enter", "down", "enter"))


@SIZES
def test_rehearse_screen_fresh_workspace(fixed_workspace, snap_compare, size):
    """The rehearsal plan before any run: every step pending."""
    assert snap_compare(CockpitApp(fixed_workspace, poll_interval=None), terminal_size=size, run_before=_run_before("5"))


@SIZES
def test_ledger_screen(noted_workspace, snap_compare, size):
    """The Arrow-backed events table."""
    assert snap_compare(CockpitApp(noted_workspace, poll_interval=None), terminal_size=size, run_before=_run_before("2", "down"))


@SIZES
def test_event_detail_with_inclusion_proof(noted_workspace, snap_compare, size):
    """An event opened from the ledger: hash, signature, body, inclusion proof."""
    assert snap_compare(CockpitApp(noted_workspace, poll_interval=None), terminal_size=size, run_before=_run_before("2", "down", "enter"))


@SIZES
def test_sql_console_example(noted_workspace, snap_compare, size):
    """The SQL console after the 'events by kind' example (F6)."""
    assert snap_compare(CockpitApp(noted_workspace, poll_interval=None), terminal_size=size, run_before=_run_before("3", "f6"))


@SIZES
def test_demo_screen_without_a_model(fixed_workspace, snap_compare, size):
    """The Demo screen of a fresh workspace: bundled examples, no model package yet (and why)."""
    assert snap_compare(CockpitApp(fixed_workspace, poll_interval=None), terminal_size=size, run_before=_run_before("4"))


@SIZES
def test_help_screen(fixed_workspace, snap_compare, size):
    """The keys screen (F1)."""
    assert snap_compare(CockpitApp(fixed_workspace, poll_interval=None), terminal_size=size, run_before=_run_before("f1"))
