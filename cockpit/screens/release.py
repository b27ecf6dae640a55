"""The Release screen (the first screen): every gate with its state as a word and a glyph.

Each row shows the gate's glyph and state word (never colour alone), its name, what it needs and
the issue refs cited while it blocks. The panel below describes the highlighted gate: title,
reason, stale artifacts, and its steps with their latest outcomes. Enter opens the gate's steps;
``R`` starts the offline rehearsal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, OptionList, Static
from textual.widgets.option_list import Option

from cockpit.base import CockpitScreen, TopBar, load_in_worker
from cockpit.messages import GatesLoaded

if TYPE_CHECKING:
    from tools.release.gate.states import GateState
    from tools.release.gate.issues import IssueCache


class ReleaseScreen(CockpitScreen):
    """Gates, their states and blockers; the way into steps and the rehearsal."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_gate", "Open steps", id="release.open_gate"),
        Binding("R", "rehearse", "Rehearse", id="release.rehearse"),
        Binding("y", "copy_refs", "Copy issue refs", id="release.copy"),
        Binding("g", "reload", "Refresh", id="release.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.states: list[GateState] = []
        self.issues: IssueCache | None = None

    def compose(self) -> ComposeResult:
        """Top bar, hint line, gates table, gate detail, footer."""
        yield TopBar("Release")
        yield Static("", id="release-hint", markup=False)
        yield DataTable(id="gates", cursor_type="row", zebra_stripes=False)
        yield Static("", id="gate-detail", markup=False)
        yield Footer()

    def reload(self) -> None:
        """Derive gate states again (in a worker)."""
        load_in_worker(self, "release-load", lambda: GatesLoaded(self.services.gate_states(), self.services.issue_cache()))

    @on(GatesLoaded)
    def _show(self, message: GatesLoaded) -> None:
        self.states = list(message.states)
        self.issues = message.issues
        table = self.query_one("#gates", DataTable)
        cursor = table.cursor_row
        self._fill(table)
        if self.states:
            table.move_cursor(row=min(max(cursor, 0), len(self.states) - 1))
        counts: dict[str, int] = {}
        for s in self.states:
            counts[s.word] = counts.get(s.word, 0) + 1
        summary = ", ".join(f"{n} {w}" for w, n in counts.items())
        hint = self.query_one("#release-hint", Static)
        if all(s.state != "passed" for s in self.states):
            hint.update(f" ▶ Press R to run the offline rehearsal.   {len(self.states)} gates: {summary}")
        else:
            hint.update(f" {len(self.states)} gates: {summary} · Enter: steps · R: rehearse")
        self._describe(table.cursor_row)

    def _rows(self) -> list[tuple[str, str, str, str]]:
        return [(f"{s.glyph} {s.word}", s.name, ", ".join(s.needs) or "—", self._refs(s) if s.state != "passed" else "") for s in self.states]

    def _refs(self, s: GateState) -> str:
        """The gate's issue refs; with the issue cache, closed ones are marked ``(closed)``."""
        from tools.release.gate.issues import ref_number

        out = []
        for ref in s.issue_refs:
            info = self.issues.issues.get(ref_number(ref) or -1) if self.issues is not None else None
            out.append(f"{ref}(closed)" if info is not None and info.state == "closed" else ref)
        return " ".join(out)

    def _fill(self, table: DataTable) -> None:
        """(Re)build the table with every column as wide as its content, cutting only what cannot fit."""
        from cockpit.base import fit_widths

        rows = self._rows()
        headers = ("state", "gate", "needs", "blockers")
        natural = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
        available = (table.size.width or self.app.size.width) - 2 * len(headers) - 1
        widths = fit_widths(natural, available)
        table.clear(columns=True)
        for h, w in zip(headers, widths, strict=True):
            table.add_column(h, key=h, width=w)
        for r, s in zip(rows, self.states, strict=True):
            table.add_row(*r, key=s.name)

    def on_resize(self) -> None:
        """Fit the table's columns to the new width."""
        if self.states:
            table = self.query_one("#gates", DataTable)
            cursor = table.cursor_row
            self._fill(table)
            table.move_cursor(row=min(max(cursor, 0), len(self.states) - 1))

    @on(DataTable.RowHighlighted, "#gates")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe(event.cursor_row)

    @on(DataTable.RowSelected, "#gates")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_open_gate()

    def _current(self) -> GateState | None:
        row = self.query_one("#gates", DataTable).cursor_row
        return self.states[row] if 0 <= row < len(self.states) else None

    def _describe(self, row: int) -> None:
        if not 0 <= row < len(self.states):
            return
        s = self.states[row]
        lines = [f"{s.glyph} {s.name} — {s.word}: {s.title}"]
        if s.reason:
            lines.append(f"  {s.reason}")
        steps = "  ".join(f"{step}:{state}" for step, state in s.step_states.items()) if s.step_states else ", ".join(s.steps)
        lines.append(f"  steps: {steps or '—'}")
        if s.stale_artifacts:
            lines.append("  stale: " + ", ".join(s.stale_artifacts))
        if s.state != "passed" and s.issue_refs:
            if self.issues is None:
                lines.append("  blockers: " + " ".join(s.issue_refs) + "   (titles: geno-lewm-release issues sync)")
            else:
                lines.append(f"  blockers ({self.issues.repo}, fetched {self.issues.age()}):")
                lines += [f"    {self.issues.describe(ref)}" for ref in s.issue_refs]
        if s.last_run:
            lr = s.last_run
            lines.append(f"  last run: {lr.get('step')} {lr.get('outcome')} {lr.get('code') or ''} (seq {lr.get('seq')})".rstrip())
        self.query_one("#gate-detail", Static).update("\n".join(lines))

    def action_open_gate(self) -> None:
        """Open the highlighted gate's steps (straight to the step when it has only one)."""
        from cockpit.screens.step import StepScreen

        gate = self._current()
        if gate is None:
            return
        if len(gate.steps) == 1:
            self.app.push_screen(StepScreen(gate.steps[0]))
        elif gate.steps:
            self.app.push_screen(StepPicker(gate))

    async def action_rehearse(self) -> None:
        """Switch to the Rehearse screen and start the offline rehearsal."""
        await self.cockpit.action_start_rehearsal()

    def action_copy_refs(self) -> None:
        """Copy the highlighted gate's issue refs."""
        gate = self._current()
        if gate is not None:
            self.cockpit.copy_value(" ".join(gate.issue_refs) or gate.name, f"issue refs of {gate.name}")

    def action_reload(self) -> None:
        """Derive the gate states again now."""
        self.reload()


class StepPicker(ModalScreen[None]):
    """Choose one of a gate's steps (with its latest outcome) to open."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Back", id="picker.back")]

    def __init__(self, gate: GateState) -> None:
        super().__init__()
        self.gate = gate

    def compose(self) -> ComposeResult:
        """A titled list of the gate's steps."""
        with Vertical(id="picker"):
            yield Static(f"{self.gate.glyph} {self.gate.name}: steps (Enter opens, Esc back)", markup=False)
            yield OptionList(
                *[Option(f"{self.gate.step_states.get(s, 'pending'):<8} {s}", id=s) for s in self.gate.steps],
                id="picker-steps",
            )

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        from cockpit.screens.step import StepScreen

        step = event.option.id
        self.dismiss()
        if step:
            self.app.push_screen(StepScreen(step))
