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


def _screen_test(workspace: str, *keys: str, shows: str):
    """A snapshot test (at both :data:`SIZES`) of the screen the ``keys`` lead to on the ``workspace`` fixture; ``shows`` is its docstring.

    The test keeps the name it is bound to, so its snapshots keep their file names.
    """

    @SIZES
    def test(request, snap_compare, size):
        app = CockpitApp(request.getfixturevalue(workspace), poll_interval=None)
        assert snap_compare(app, terminal_size=size, run_before=_run_before(*keys))

    test.__doc__ = shows
    return test


# The screens, each reached from a fresh start by its keys.
test_release_screen_fresh_workspace = _screen_test(
    "fixed_workspace", shows="First screen of a fresh workspace: every gate pending/blocked, the rehearsal hint."
)
test_step_screen_never_run = _screen_test(
    "fixed_workspace", "enter", "enter", shows="A step opened from its gate: description, exact command, its form with the rehearsal's values."
)
test_step_screen_with_unmet_prerequisites = _screen_test(
    "fixed_workspace", "enter", "down", "enter", shows="A later step of a gate: required flags marked, the earlier step named as a prerequisite."
)
test_rehearse_screen_fresh_workspace = _screen_test("fixed_workspace", "5", shows="The rehearsal plan before any run: every step pending.")
test_ledger_screen = _screen_test("noted_workspace", "2", "down", shows="The Arrow-backed events table.")
test_event_detail_with_inclusion_proof = _screen_test(
    "noted_workspace", "2", "down", "enter", shows="An event opened from the ledger: hash, signature, body, inclusion proof."
)
test_sql_console_example = _screen_test("noted_workspace", "3", "f6", shows="The SQL console after the 'events by kind' example (F6).")
test_demo_screen_without_a_model = _screen_test(
    "fixed_workspace", "4", shows="The Demo screen of a fresh workspace: bundled examples, no model package yet (and why)."
)
test_help_screen = _screen_test("fixed_workspace", "f1", shows="The keys screen (F1).")
