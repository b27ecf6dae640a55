"""The Step screen: one release step's form, prerequisites, identities, last runs, and a live run.

Shows the step's description and the exact command, the prerequisites that have not passed yet
(earlier steps of its gate, gates it needs), and a form with one field per flag of the step
(``tools.release.engine.forms.form_flags``: required ones marked ``*``, defaults as placeholders,
prefilled from the latest run or, before any, with what the offline rehearsal passes in this
workspace; paths are relative to the workspace). Other tabs: the inputs and outputs its latest run
recorded (path, sha256 prefix, size, fresh/stale/missing against the bytes on disk now) and its
last runs from the ledger. ``r`` runs (or re-runs) the step through
``tools.release.engine.runner.run_step`` in a background worker, streaming its log; a failure shows the
error code, message and hint once, in the status line.
"""

from __future__ import annotations

import re
import shlex
import time
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.events import DescendantFocus
from textual.widgets import DataTable, Footer, Input, Log, ProgressBar, Static, TabbedContent, TabPane

from cockpit.arrow_table import ArrowTable
from cockpit.base import CockpitScreen, TopBar, load_in_worker
from cockpit.messages import LogLine, StepFinished, StepViewLoaded
from tools.release.engine.forms import flag_values, form_text

if TYPE_CHECKING:
    from cockpit.services import StepView
    from tools.release.engine.forms import StepFlag


def human_size(n: int) -> str:
    """``n`` bytes as a short human string (B, KiB, MiB, GiB)."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


#: A rendered error line (``error[CODE]: message``), as ``ledger.clikit`` prints it.
_ERROR_LINE = re.compile(r"^error\[[A-Z0-9_]+\.[A-Z0-9_]+\]: ")

STATE_WORDS = {"fresh": "✓ fresh", "stale": "~ stale", "missing": "✗ missing"}


class StepScreen(CockpitScreen):
    """One step: a form of its flags, unmet prerequisites, identities, last runs; run it with a live log."""

    AUTO_FOCUS = "#step-tabs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run", "Run step", id="step.run"),
        Binding("ctrl+r", "run", "Run step", show=False, priority=True, id="step.run_anywhere"),
        Binding("e", "edit_args", "Edit form", id="step.edit_args"),
        Binding("y", "copy", "Copy", id="step.copy"),
        Binding("f", "tab('form')", "Form", show=False, id="step.tab_form"),
        Binding("a", "tab('artifacts')", "Artifacts", show=False, id="step.tab_artifacts"),
        Binding("u", "tab('runs')", "Runs", show=False, id="step.tab_runs"),
        Binding("o", "tab('log')", "Log", show=False, id="step.tab_log"),
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
        self._form_built = False
        self._after_error = False

    def compose(self) -> ComposeResult:
        """Top bar, step info, prerequisites, tabs (form, artifacts, runs, log), run status, footer."""
        yield TopBar(f"Step {self.step}")
        yield Static("", id="step-info", markup=False)
        yield Static("", id="step-prereqs", markup=False)
        with TabbedContent(initial="form", id="step-tabs"):
            with TabPane("Form", id="form"):
                yield VerticalScroll(Static(" loading the step's flags…", markup=False), id="step-form")
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
        self.query_one("#run-status", Static).update(" r: run · e: edit the form (* = required; paths relative to the workspace)")
        super().on_mount()

    def reload(self) -> None:
        """Load the step's view from the registry and ledger (in a worker)."""
        load_in_worker(self, "step-load", lambda: StepViewLoaded(self.services.step_view(self.step)))

    @on(StepViewLoaded)
    async def _show(self, message: StepViewLoaded) -> None:
        view: StepView = message.view
        self.view = view
        if not self._form_built:
            await self._build_form(view)
        self._show_info()
        prereqs = self.query_one("#step-prereqs", Static)
        if view.prerequisites:
            prereqs.update(
                "\n".join(f"⊘ first: {p}" for p in view.prerequisites[:3])
                + (f"\n  … and {len(view.prerequisites) - 3} more" if len(view.prerequisites) > 3 else "")
            )
            prereqs.display = True
        else:
            prereqs.display = False
        table = self.query_one("#artifacts-table", DataTable)
        table.clear()
        for a in view.artifacts:
            table.add_row(a.role, STATE_WORDS.get(a.state, a.state), a.sha256[:12], human_size(a.size), a.path, key=f"{a.role}:{a.path}")
        if view.runs is not None:
            self.query_one("#runs-table", ArrowTable).set_table(view.runs)

    async def _build_form(self, view: StepView) -> None:
        """One row per flag (name, * when required, value), its help under it, then an extra-arguments row."""
        self._form_built = True
        form = self.query_one("#step-form", VerticalScroll)
        await form.remove_children()
        rows: list = []
        if view.flags_error:
            rows.append(Static(f" {view.flags_error}: use the extra arguments line", classes="error", markup=False))
        if view.prefill_source:
            rows.append(Static(f" {view.prefill_source}", classes="form-note", markup=False))
        given = flag_values(self.initial_argv) if self.initial_argv else {}
        width = max([len(f.name) + 2 for f in view.flags] + [12])
        for f in view.flags:
            text = view.prefill.get(f.name, "")
            if given:
                text = form_text(f.kind, *(given[o] for o in (f.name, *f.aliases) if o in given)) or ""
            label = Static(f"{'*' if f.required else ' '}{f.name}", classes="form-label" + (" required" if f.required else ""), markup=False)
            label.styles.width = width + 1
            placeholder = _placeholder(f)
            field = Input(value=text, placeholder=placeholder, id=_field_id(f.name), classes="form-field")
            field.tooltip = f.help
            rows.append(Horizontal(label, field, classes="form-row"))
        extra = Static(" extra args", classes="form-label", markup=False)
        extra.styles.width = width + 1
        rows.append(Horizontal(extra, Input(value="", placeholder="anything else, as on a command line", id="argv", classes="form-field"), classes="form-row"))
        rows.append(Static("", id="form-help", markup=False))
        await form.mount(*rows)  # mounted before the command line reads the form's values

    def _form_values(self) -> dict[str, str]:
        if self.view is None:
            return {}
        values = {}
        for f in self.view.flags:
            found = self.query(f"#{_field_id(f.name)}")
            if found:
                values[f.name] = found.first(Input).value
        return values

    def _show_info(self) -> None:
        view = self.view
        if view is None:
            return
        argv = self._display_argv()
        lines = [f"{view.description}" + ("" if view.available else "   [module not installed]")]
        if view.latest is not None:
            lr = view.latest
            word = "✓ passed" if lr.outcome == "passed" else "✗ failed"
            lines.append(f"latest: {word} {lr.code} seq {lr.seq} {lr.ts}".replace("  ", " "))
        else:
            lines.append("latest: · never run")
        lines.append("$ " + shlex.join(view.command(argv)))
        self.query_one("#step-info", Static).update("\n".join(lines))

    def _display_argv(self) -> list[str]:
        """The argv as the form shows it (paths relative to the workspace) plus the extra arguments."""
        if self.view is None:
            return []
        values = self._form_values()
        argv: list[str] = []
        for f in self.view.flags:
            text = values.get(f.name, "").strip()
            if text:
                argv += f.argv([text] if f.kind in ("value", "switch") else _split(text))
        return argv + (self._argv(quiet=True) or [])

    @on(Input.Changed)
    def _argv_changed(self) -> None:
        self._show_info()

    @on(Input.Submitted)
    def _field_submitted(self) -> None:
        """Enter moves to the next field (ctrl+r runs from anywhere)."""
        self.focus_next()

    @on(DescendantFocus)
    def _field_focused(self, event: DescendantFocus) -> None:
        widget = event.widget
        if isinstance(widget, Input) and self.view is not None:
            helps = {_field_id(f.name): f for f in self.view.flags}
            f = helps.get(widget.id or "")
            text = f"{f.name}: {f.help}" + (f"  (default {f.default})" if f.default else "") if f else "extra arguments, passed as typed"
            for found in self.query("#form-help"):
                found.update(" " + text)

    def _argv(self, quiet: bool = False) -> list[str] | None:
        found = self.query("#argv")
        text = found.first(Input).value if found else ""
        try:
            return shlex.split(text)
        except ValueError as exc:
            if not quiet:
                self._say_error(f"cannot parse the extra arguments: {exc}")
            return None

    def _say_error(self, text: str) -> None:
        status = self.query_one("#run-status", Static)
        status.remove_class("ok")
        status.add_class("error")
        status.update(" ✗ " + text)

    # -- running ------------------------------------------------------------------------------

    def action_run(self) -> None:
        """Run (or re-run) the step in a background worker, streaming its log."""
        if self.running:
            self.notify(f"{self.step} is already running")
            return
        extra = self._argv()
        if extra is None or self.view is None:
            return
        values = self._form_values()
        missing = [f.name for f in self.view.flags if f.required and not values.get(f.name, "").strip()]
        if missing:
            self._say_error("fill the required field" + ("s" if len(missing) > 1 else "") + f" first: {', '.join(missing)} (e edits the form)")
            return
        argv = self.services.form_argv(self.view, values) + extra
        self.running = True
        self.outcome = None
        self._started = time.monotonic()
        log = self.query_one("#step-log", Log)
        log.clear()
        log.write_line("$ " + shlex.join(self.view.command(argv)))
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
        lines = [ln for ln in (message.text.splitlines() or [""]) if not self._is_error_echo(ln)]
        if lines:
            self.query_one("#step-log", Log).write_lines(lines)

    def _is_error_echo(self, line: str) -> bool:
        """True for the lines that only repeat the step's final error (the status line shows it once).

        Those are the step's ``[step] failed: CODE: …`` line and the ``error[CODE]: …`` / ``hint: …``
        block its command line prints; everything else the step writes stays in the log.
        """
        if line.startswith(f"[{self.step}] failed: ") or _ERROR_LINE.match(line):
            self._after_error = True
            return True
        if self._after_error and not line.strip():
            return True
        if self._after_error and line.startswith("hint: "):
            self._after_error = False
            return True
        self._after_error = False
        return False

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
            self.cockpit.copy_value(shlex.join(self.view.command(self._display_argv())), "command")

    def action_edit_args(self) -> None:
        """Show the form and focus its first field (Enter: next field, ctrl+r: run, Esc: leave it)."""
        self.query_one("#step-tabs", TabbedContent).active = "form"
        fields = self.query(".form-field")
        if fields:
            fields.first(Input).focus()

    def action_back(self) -> None:
        """Leave a form field, else go back (a running step keeps running and is recorded)."""
        if isinstance(self.focused, Input):
            self.query_one("#step-tabs", TabbedContent).focus()
            return
        self.app.pop_screen()


def _field_id(flag: str) -> str:
    """The form field id for ``flag`` (``--dataset-dir`` → ``flag-dataset-dir``)."""
    return "flag-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in flag.lstrip("-"))


def _placeholder(f: StepFlag) -> str:
    """What an empty field means: the parser's default, ``yes``/empty for a switch, or that it is required."""
    if f.kind == "switch":
        return "yes to set it"
    if f.choices:
        return " | ".join(f.choices) + (f" (default {f.default})" if f.default else "")
    if f.default:
        return f"default {f.default}"
    if f.required:
        return "required" + (" (path)" if f.is_path else "")
    return "unset" + (" (path)" if f.is_path else "") + (", several: space-separated" if f.kind == "multi" else "")


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()
