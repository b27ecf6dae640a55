"""The command palette provider: every cockpit action, reachable with ctrl+p."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from cockpit.app import CockpitApp


def palette_commands(app: CockpitApp) -> list[tuple[str, str, Callable[[], object]]]:
    """``(title, help, callback)`` for every palette command: screens, actions, steps, example queries."""
    from cockpit.services import EXAMPLE_QUERIES

    cmds: list[tuple[str, str, Callable[[], object]]] = [
        ("Go to Release", "gates, states and blockers (1)", partial(app.switch_mode, "release")),
        ("Go to Ledger", "every event; filter, open, verify (2)", partial(app.switch_mode, "ledger")),
        ("Go to SQL console", "read-only auditor queries (3)", partial(app.switch_mode, "sql")),
        ("Go to Demo", "score the example VCF with the current model package (4)", partial(app.switch_mode, "demo")),
        ("Go to Rehearse", "the offline rehearsal (5)", partial(app.switch_mode, "rehearse")),
        ("Start the offline rehearsal", "run every step on the example data", app.action_start_rehearsal),
        ("Verify the ledger", "chain, signatures, checkpoints, artifacts (v)", app.action_verify),
        ("Refresh from the ledger", "re-read the ledger head now", app.poll_now),
        ("Show keys", "every binding with its id (F1)", app.action_help),
        ("Copy the ledger head hash", "to the clipboard (OSC 52)", app.action_copy_head),
        ("Copy the workspace path", "to the clipboard (OSC 52)", app.action_copy_workdir),
        ("Quit", "exit the cockpit (q)", app.action_quit),
    ]
    for i, (name, sql) in enumerate(EXAMPLE_QUERIES):
        cmds.append((f"SQL example: {name}", sql, partial(app.run_example_query, i)))
    for name, spec in app.services.steps().items():
        cmds.append((f"Open step {name}", spec.description, partial(app.open_step, name)))
    return cmds


class CockpitCommands(Provider):
    """Fuzzy-searchable cockpit actions for Textual's command palette."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        return palette_commands(self.app)  # type: ignore[arg-type]

    async def discover(self) -> Hits:
        """Every command, when the palette opens with no query."""
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """Commands whose title matches ``query`` (fuzzy)."""
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
