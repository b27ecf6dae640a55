"""The Rehearse screen: run the whole offline rehearsal with per-step progress.

Lists the rehearsal plan (``tools.release.gate.rehearsal.PLAN``), then calls
``tools.release.gate.rehearsal.rehearse(workdir, progress=…, on_step=…)`` in a background worker.
Every log line goes to the log; each structured ``StepProgress`` event (started, passed, failed
with its code and hint) sets that step's row and the progress bar. When the rehearsal returns,
its result's step outcomes set the final word for each row (steps it never reached: ``not run``).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Log, ProgressBar, Static

from cockpit.base import CockpitScreen, TopBar, load_in_worker
from cockpit.messages import RehearsalFinished, RehearsalHistoryLoaded, RehearsalProgress, RehearsalStep

#: state -> glyph shown beside the word.
GLYPHS = {"pending": "·", "running": "◌", "passed": "✓", "failed": "✗", "not run": "-"}


class RehearseScreen(CockpitScreen):
    """The offline rehearsal, started from the UI, with per-step progress."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("R,r", "start", "Rehearse", id="rehearse.start"),
    ]

    def __init__(self, *, until: str | None = None) -> None:
        super().__init__()
        self.until = until
        self.running = False
        self.result: Any = None
        self.plan: list[str] = []
        self.step_states: dict[str, str] = {}
        self._started = 0.0

    def compose(self) -> ComposeResult:
        """Top bar, status, per-step table, progress bar, log, footer."""
        yield TopBar("Rehearse")
        yield Static(" R: run the whole release offline on the example data (fixture rehearsal)", id="rehearse-status", markup=False)
        table: DataTable = DataTable(id="rehearse-steps", cursor_type="row")
        table.add_column("state", key="state", width=10)
        table.add_column("step", key="step", width=20)
        table.add_column("detail", key="detail")
        yield table
        yield ProgressBar(total=1, show_eta=False, id="rehearse-progress")
        yield Log(id="rehearse-log", max_lines=5000)
        yield Footer()

    def on_mount(self) -> None:
        """List the plan (every step pending), then fill in the last runs the ledger holds."""
        self.plan = self.services.rehearsal_plan()
        self._reset_rows()
        super().on_mount()

    def reload(self) -> None:
        """Show each step's latest run from the ledger (unless a rehearsal is running here)."""
        if not self.running:
            load_in_worker(self, "rehearse-last", lambda: RehearsalHistoryLoaded(self.services.last_rehearsal()))

    @on(RehearsalHistoryLoaded)
    def _last_loaded(self, message: RehearsalHistoryLoaded) -> None:
        if self.running or self.result is not None:
            return
        runs = message.runs
        if not runs:
            return
        for step in self.plan:
            run = runs.get(step)
            if run is None:
                self._set(step, "pending")
            elif run.outcome == "passed":
                self._set(step, "passed", f"seq {run.seq} · {_short_ts(run.ts)}")
            elif run.outcome == "failed":
                self._set(step, "failed", _failure(run.code, run.message, "") + f" (seq {run.seq})")
            else:
                self._set(step, "pending", "started, no outcome recorded")
        passed = sum(1 for s in self.step_states.values() if s == "passed")
        latest = max(runs.values(), key=lambda r: r.seq)
        status = self.query_one("#rehearse-status", Static)
        status.remove_class("error", "ok")
        if passed == len(self.plan):
            status.add_class("ok")
        elif "failed" in self.step_states.values():
            status.add_class("error")
        status.update(f" ledger: {passed}/{len(self.plan)} steps passed (latest {_short_ts(latest.ts)}) · R: rehearse again")

    def _reset_rows(self) -> None:
        table = self.query_one("#rehearse-steps", DataTable)
        table.clear()
        self.step_states = {}
        for step in self.plan:
            table.add_row(f"{GLYPHS['pending']} pending", step, "", key=step)
            self.step_states[step] = "pending"
        self.query_one("#rehearse-progress", ProgressBar).update(total=max(len(self.plan), 1), progress=0)

    def _set(self, step: str, state: str, detail: str = "") -> None:
        if step not in self.step_states:
            return
        self.step_states[step] = state
        table = self.query_one("#rehearse-steps", DataTable)
        table.update_cell(step, "state", f"{GLYPHS.get(state, '·')} {state}")
        table.update_cell(step, "detail", detail)
        done = sum(1 for s in self.step_states.values() if s in ("passed", "failed"))
        self.query_one("#rehearse-progress", ProgressBar).update(progress=done)

    def action_start(self) -> None:
        """Start the rehearsal in a background worker (once at a time)."""
        if self.running:
            self.notify("the rehearsal is already running")
            return
        self.running = True
        self.result = None
        self._started = time.monotonic()
        self._reset_rows()
        self.query_one("#rehearse-log", Log).clear()
        status = self.query_one("#rehearse-status", Static)
        status.remove_class("error", "ok")
        status.update(" ◌ rehearsal running…")
        self._run(self.until)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rehearse")
    def _run(self, until: str | None) -> None:
        result = self.services.rehearse(
            lambda line: self.post_message(RehearsalProgress(str(line))),
            on_step=lambda event: self.post_message(RehearsalStep(event)),
            until=until,
        )
        self.post_message(RehearsalFinished(result))

    @on(RehearsalProgress)
    def _progress(self, message: RehearsalProgress) -> None:
        self.query_one("#rehearse-log", Log).write_lines(str(message.event).splitlines() or [""])

    @on(RehearsalStep)
    def _step(self, message: RehearsalStep) -> None:
        ev = message.event
        if ev.outcome == "started":
            self._set(ev.step, "running")
            self.query_one("#rehearse-status", Static).update(f" ◌ step {ev.index}/{ev.total}: {ev.step}   {time.monotonic() - self._started:.0f} s")
        elif ev.outcome == "passed":
            self._set(ev.step, "passed", f"{ev.seconds:.1f} s")
        else:
            self._set(ev.step, "failed", _failure(ev.code, ev.message, ev.hint))

    @on(RehearsalFinished)
    def _finished(self, message: RehearsalFinished) -> None:
        self.running = False
        self.result = result = message.result
        outcomes = {o.name: o for o in getattr(result, "steps", [])}
        for step in self.plan:
            o = outcomes.get(step)
            if o is None:
                self._set(step, "not run")
            elif o.ok:
                if self.step_states.get(step) != "passed":
                    self._set(step, "passed")
            else:
                self._set(step, "failed", _failure(o.code, o.message, getattr(o, "hint", "")))
        status = self.query_one("#rehearse-status", Static)
        took = time.monotonic() - self._started
        passed = sum(1 for o in outcomes.values() if o.ok)
        if result.ok:
            status.add_class("ok")
            status.update(f" ✓ rehearsal passed: {passed} steps in {took:.1f} s (fixture: stand-in encoder)")
        else:
            status.add_class("error")
            status.update(f" ✗ rehearsal stopped at {result.stopped_at} after {passed} passed steps ({took:.1f} s)")
        self.cockpit.poll_now()

    def run_failed(self, text: str) -> None:
        """Show a crashed rehearsal (called by the app's worker-error handler)."""
        self.running = False
        status = self.query_one("#rehearse-status", Static)
        status.add_class("error")
        status.update(" ✗ " + text.replace("\n\n", "  ").replace("\n", " "))


def _short_ts(ts: str) -> str:
    """``2026-01-01 00:00:07.123+00:00`` → ``2026-01-01 00:00:07`` (seconds are enough here)."""
    text = str(ts).replace("T", " ")
    return text[:19]


def _failure(code: str, message: str, hint: str) -> str:
    """A failed step's detail cell: ``error[CODE] message  hint: …``."""
    return f"error[{code}] {message}" + (f"  hint: {hint}" if hint else "")
