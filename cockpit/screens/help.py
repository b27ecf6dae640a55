"""The help screen: every key binding of the app and its screens, with ids and descriptions."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def _key_name(key: str) -> str:
    names = {"slash": "/", "question_mark": "?", "escape": "Esc", "enter": "Enter"}
    return ",".join(names.get(k, k) for k in key.split(","))


def binding_rows(owners: list[tuple[str, type]]) -> list[tuple[str, str, str, str]]:
    """``(section, keys, description, id)`` for every :class:`Binding` declared by ``owners``."""
    rows = []
    for section, owner in owners:
        for b in getattr(owner, "BINDINGS", []):
            if isinstance(b, Binding) and b.id:
                rows.append((section, _key_name(b.key), b.description or b.action, b.id))
    return rows


class HelpScreen(ModalScreen[None]):
    """Lists the keys of every screen (F1 or ? opens it, Esc closes it)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,f1,question_mark", "dismiss", "Close", id="help.close")]

    def compose(self) -> ComposeResult:
        """One section per screen."""
        from cockpit.arrow_table import ArrowTable
        from cockpit.screens.demo import DemoScreen
        from cockpit.screens.ledger import EventScreen, LedgerScreen
        from cockpit.screens.rehearse import RehearseScreen
        from cockpit.screens.release import ReleaseScreen, StepPicker
        from cockpit.screens.sql import SqlScreen
        from cockpit.screens.step import StepScreen

        owners = [
            ("everywhere", type(self.app)),
            ("Release", ReleaseScreen),
            ("Gate's steps", StepPicker),
            ("Step", StepScreen),
            ("Rehearse", RehearseScreen),
            ("Ledger", LedgerScreen),
            ("Event", EventScreen),
            ("SQL", SqlScreen),
            ("Demo", DemoScreen),
            ("tables", ArrowTable),
            ("this list", HelpScreen),
        ]
        lines = [
            "Keys (ctrl+p opens the command palette with every action)",
            "Screens open with a table focused, so single keys act. In a text field (/ or e) keys type,",
            "Enter submits (in the step form: next field; ctrl+r runs) and Esc leaves the field.",
            "",
        ]
        section = None
        for sec, keys, desc, bid in binding_rows(owners):
            if sec != section:
                if section is not None:
                    lines.append("")
                lines.append(sec)
                section = sec
            lines.append(f"  {keys:<14} {desc:<26} {bid}")
        with VerticalScroll(id="help-panel"):
            yield Static("\n".join(lines), id="help-text", markup=False)
