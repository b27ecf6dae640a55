"""The Step screen: one release step's identities, command, last runs, and a live run.

Shows the step's description and the exact command, the inputs and outputs its latest run
recorded (path, sha256 prefix, size, fresh/stale/missing against the bytes on disk now), and its
last runs from the ledger. ``r`` runs (or re-runs) the step through
``tools.release.runner.run_step`` in a background worker, streaming its log; a failure shows the
error code and hint from the returned ``StepOutcome``.
"""

from __future__ import annotations

import shlex
import time
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input, Log, ProgressBar, Static, TabbedContent, TabPane

from cockpit.arrow_table import ArrowTable
from cockpit.base import CockpitScreen, TopBar
from cockpit.messages import LogLine, StepFinished, StepViewLoaded

if TYPE_CHECKING:
    from cockpit.services import StepView


def human_size(n: int) -> str:
    """``n`` bytes as a short human string (B, KiB, MiB, GiB)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


STATE_WORDS = {"fresh": "✓ fresh", "stale": "~ stale", "missing": "✗ missing"}


class StepScreen(CockpitScreen):
    """One step: identities, command, last runs; run it with a live log."""

    AUTO_FOCUS = "#artifacts-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run step", id="step.run"),
        Binding("e", "edit_args", "Edit args", id="step.edit_args"),
        Binding("y", "copy", "Copy sha256/path", id="step.copy"),
        Binding("a", "tab('artifacts')", "Artifacts", id="step.tab_artifacts"),
        Binding("u", "tab('runs')", "Runs", id="step.tab_runs"),
        Binding("o", "tab('log')", "Log", id="step.tab_log"),
        Binding("escape", "back", "Back", id="step.back"),
    ]

    def __init__(self, step: str, argv: list[str] | None = None) -> None:
        super().__init__()
        self.step = step
        self.initial_argv = list(argv or [])
        self.view: StepView | None = None
        self.running = False
        self.outcome = None
        self._started = 0.0

    def compose(self) -> ComposeResult:
        """Top bar, step info, argv input, tabs (artifacts, runs, log), run status, footer."""
        yield TopBar(f"Step {self.step}")
        yield Static("", id="step-info", markup=False)
        with Horizontal(id="argv-row"):
            yield Static("args ", id="argv-label")
            yield Input(value=shlex.join(self.initial_argv), placeholder="arguments for the step, e.g. --spec-json spec.json", id="argv")
        with TabbedContent(initial="artifacts", id="step-tabs"):
            with TabPane("Artifacts", id="artifacts"):
                table: DataTable = DataTable(id="artifacts-table", cursor_type="row")
                table.add_column("role", key="role", width=6)
                table.add_column("state", key="state", width=9)
                table.add_column("sha256", key="sha", width=12)
                table.add_column("size", key="size", width=9)
                table.add_column("path", key="path")
                yield table
            with TabPane("Runs", id="runs"):
                yield ArrowTable(id="runs-table", empty_text="(never run)")
            with TabPane("Log", id="log"):
                yield Log(id="step-log", max_lines=5000)
        yield ProgressBar(total=None, show_eta=False, id="run-progress")
        yield Static("", id="run-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Hide the progress bar until a run starts; then load."""
        self.query_one("#run-progress", ProgressBar).display = False
        self.query_one("#run-status", Static).update(" r: run this step")
        super().on_mount()

    def reload(self) -> None:
        """Load the step's view from the registry and ledger (in a worker)."""
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="step-load")
    def _load(self) -> None:
        self.post_message(StepViewLoaded(self.services.step_view(self.step)))

    @on(StepViewLoaded)
    def _show(self, message: StepViewLoaded) -> None:
        view: StepView = message.view
        self.view = view
        argv = self.query_one("#argv", Input)
        if not argv.value and view.latest is not None and not self.initial_argv:
            argv.value = shlex.join(_user_argv(view))
        self._show_info()
        table = self.query_one("#artifacts-table", DataTable)
        table.clear()
        for a in view.artifacts:
            table.add_row(a.role, STATE_WORDS.get(a.state, a.state), a.sha256[:12], human_size(a.size), a.path, key=f"{a.role}:{a.path}")
        if view.runs is not None:
            self.query_one("#runs-table", ArrowTable).set_table(view.runs)

    def _show_info(self) -> None:
        view = self.view
        if view is None:
            return
        argv = self._argv(quiet=True) or []
        lines = [f"{view.description}" + ("" if view.available else "   [module not installed]"),
                 "$ " + shlex.join(view.command(argv))]
        if view.latest is not None:
            lr = view.latest
            word = "✓ passed" if lr.outcome == "passed" else "✗ failed"
            lines.append(f"latest: {word} {lr.code} seq {lr.seq} {lr.ts}".replace("  ", " "))
        else:
            lines.append("latest: · never run")
        self.query_one("#step-info", Static).update("\n".join(lines))

    @on(Input.Changed, "#argv")
    def _argv_changed(self) -> None:
        self._show_info()

    @on(Input.Submitted, "#argv")
    def _argv_submitted(self) -> None:
        self.action_run()

    def _argv(self, quiet: bool = False) -> list[str] | None:
        text = self.query_one("#argv", Input).value
        try:
            return shlex.split(text)
        except ValueError as exc:
            if not quiet:
                self.notify(f"cannot parse the arguments: {exc}", severity="error")
            return None

    # -- running ------------------------------------------------------------------------------

    def action_run(self) -> None:
        """Run (or re-run) the step in a background worker, streaming its log."""
        if self.running:
            self.notify(f"{self.step} is already running")
            return
        argv = self._argv()
        if argv is None:
            return
        self.running = True
        self.outcome = None
        self._started = time.monotonic()
        log = self.query_one("#step-log", Log)
        log.clear()
        log.write_line("$ " + shlex.join(self.view.command(argv) if self.view else [self.step, *argv]))
        self.query_one("#step-tabs", TabbedContent).active = "log"
        bar = self.query_one("#run-progress", ProgressBar)
        bar.display = True
        bar.update(total=None, progress=0)
        status = self.query_one("#run-status", Static)
        status.remove_class("error", "ok")
        status.update(f" ◌ running {self.step}…")
        self._tick_timer = self.set_interval(0.5, self._tick)
        self._run(argv)

    def _tick(self) -> None:
        if self.running:
            self.query_one("#run-status", Static).update(f" ◌ running {self.step}… {time.monotonic() - self._started:.0f} s")

    @work(thread=True, exclusive=True, exit_on_error=False, group="step-run")
    def _run(self, argv: list[str]) -> None:
        outcome = self.services.run_step(self.step, argv, log=lambda line: self.post_message(LogLine(str(line))))
        self.post_message(StepFinished(self.step, outcome))

    @on(LogLine)
    def _log_line(self, message: LogLine) -> None:
        self.query_one("#step-log", Log).write_lines(message.text.splitlines() or [""])

    @on(StepFinished)
    def _finished(self, message: StepFinished) -> None:
        self.running = False
        self.outcome = message.result
        self._tick_timer.stop()
        self.query_one("#run-progress", ProgressBar).display = False
        status = self.query_one("#run-status", Static)
        took = time.monotonic() - self._started
        out = message.result
        if out.ok:
            status.add_class("ok")
            status.update(f" ✓ {self.step} passed in {took:.1f} s")
        else:
            status.add_class("error")
            hint = f"  hint: {out.hint}" if getattr(out, "hint", "") else ""
            status.update(f" ✗ {self.step} failed: error[{out.code}] {out.message} (exit {out.exit_code}){hint}")
        self.cockpit.poll_now()
        self.reload()

    def run_failed(self, text: str) -> None:
        """Show a crashed run (called by the app's worker-error handler)."""
        self.running = False
        timer = getattr(self, "_tick_timer", None)
        if timer is not None:
            timer.stop()
        self.query_one("#run-progress", ProgressBar).display = False
        status = self.query_one("#run-status", Static)
        status.add_class("error")
        status.update(" ✗ " + text.replace("\n\n", "  ").replace("\n", " "))

    # -- other actions ------------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        """Show the ``artifacts``, ``runs`` or ``log`` tab."""
        self.query_one("#step-tabs", TabbedContent).active = tab

    def action_copy(self) -> None:
        """Copy the highlighted artifact's sha256 (or the command when no artifact is recorded)."""
        table = self.query_one("#artifacts-table", DataTable)
        if self.view and self.view.artifacts and 0 <= table.cursor_row < len(self.view.artifacts):
            a = self.view.artifacts[table.cursor_row]
            self.cockpit.copy_value(a.sha256, f"sha256 of {a.path}")
        elif self.view is not None:
            self.cockpit.copy_value(shlex.join(self.view.command(self._argv(quiet=True) or [])), "command")

    def action_edit_args(self) -> None:
        """Focus the arguments line (Enter runs, Esc leaves it)."""
        self.query_one("#argv", Input).focus()

    def action_back(self) -> None:
        """Leave the arguments line, else go back (a running step keeps running and is recorded)."""
        if self.focused is self.query_one("#argv", Input):
            self.query_one("#artifacts-table", DataTable).focus()
            return
        self.app.pop_screen()


def _user_argv(view: StepView) -> list[str]:
    """The user part of the latest run's recorded argv (drops the module prefix and workspace flags)."""
    assert view.latest is not None
    argv = list(view.latest.argv)
    if len(argv) >= 3 and argv[:2] == ["python", "-m"]:
        argv = argv[3:]
    for fixed in view.fixed_args:
        if fixed in argv:
            argv.remove(fixed)
    out: list[str] = []
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("--workdir", "--artifact-root", "--ledger", "--key"):
            skip = True
            continue
        if a == "--no-ledger" or a.split("=", 1)[0] in ("--workdir", "--artifact-root", "--ledger", "--key"):
            continue
        out.append(a)
    return out
