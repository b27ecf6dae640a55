"""The SQL screen: a read-only console for auditors over the ledger's tables and views.

Queries go through ``Ledger.arrow`` (write statements are refused by the ledger; external file
access is off), results land in an :class:`cockpit.arrow_table.ArrowTable`, and ``ctrl+e`` /
``ctrl+t`` export the result to CSV / Parquet under ``<workdir>/exports/``. The example queries
are one keystroke away (F2…F7).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Static

from cockpit.arrow_table import ArrowTable
from cockpit.base import CockpitScreen, TopBar
from cockpit.messages import QueryFinished
from cockpit.services import EXAMPLE_QUERIES
from ledger.errors import GenoError, InternalError

if TYPE_CHECKING:
    import pyarrow as pa

_EXAMPLE_KEYS = ["f2", "f3", "f4", "f5", "f6", "f7"]


class SqlScreen(CockpitScreen):
    """Read-only SQL over the ledger; results in a table; CSV/Parquet export."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *[
            Binding(key, f"example({i})", f"Ex: {name}", show=False, id=f"sql.example_{i + 1}")
            for i, (key, (name, _)) in enumerate(zip(_EXAMPLE_KEYS, EXAMPLE_QUERIES, strict=False))
        ],
        Binding("ctrl+e", "export('csv')", "CSV", priority=True, id="sql.export_csv"),
        Binding("ctrl+t", "export('parquet')", "Parquet", priority=True, id="sql.export_parquet"),
        Binding("slash", "focus_query", "Type SQL", id="sql.focus"),
        Binding("escape", "focus_results", "Results", show=False, id="sql.results"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.result: pa.Table | None = None
        self.last_export: Path | None = None

    def compose(self) -> ComposeResult:
        """Top bar, query line, example list, status line, results, footer."""
        yield TopBar("SQL (read-only)")
        yield Input(placeholder="/ to type SQL (Enter runs, Esc leaves); F2–F7 examples", id="query")
        examples = "  ".join(f"{k.upper()} {name}" for k, (name, _) in zip(_EXAMPLE_KEYS, EXAMPLE_QUERIES, strict=False))
        yield Static(" " + examples, id="sql-examples", markup=False)
        yield Static(" views: v_events v_steps v_artifacts v_gates v_blockers v_keys v_checkpoints v_bundles v_yanked", id="sql-status", markup=False)
        yield ArrowTable(id="sql-results", empty_text="(no rows)")
        yield Footer()

    AUTO_FOCUS = "#sql-results"

    def on_mount(self) -> None:
        """Focus the results (``/`` types a query; keys like ``q`` and ``1``–``5`` act until then)."""
        self.query_one("#sql-results", ArrowTable).focus()
        super().on_mount()

    def action_example(self, index: int) -> None:
        """Put example query ``index`` in the query line and run it."""
        name, sql = EXAMPLE_QUERIES[index]
        self.query_one("#query", Input).value = sql
        self.run_query(sql)

    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.run_query(event.value)
        self.query_one("#sql-results", ArrowTable).focus()

    def run_query(self, sql: str) -> None:
        """Run ``sql`` read-only in a worker; the result replaces the table."""
        self.query_one("#sql-status", Static).update(" running…")
        self._run(sql)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sql")
    def _run(self, sql: str) -> None:
        import time

        t0 = time.perf_counter()
        table = self.services.query(sql)
        self.post_message(QueryFinished(table, time.perf_counter() - t0))

    @on(QueryFinished)
    def _show(self, message: QueryFinished) -> None:
        table = message.table
        self.result = table
        status = self.query_one("#sql-status", Static)
        status.remove_class("error")
        status.update(f" ✓ {table.num_rows} rows × {table.num_columns} columns   ctrl+e CSV · ctrl+t Parquet")
        results = self.query_one("#sql-results", ArrowTable)
        results.set_table(table)

    def query_failed(self, text: str) -> None:
        """Show a refused or failed query (called by the app's worker-error handler)."""
        status = self.query_one("#sql-status", Static)
        status.add_class("error")
        status.update(" ✗ " + text.replace("\n\n", "  ").replace("\n", " "))

    def action_export(self, fmt: str) -> None:
        """Export the current result to ``exports/query-NNN.<fmt>`` in the workspace."""
        if self.result is None:
            self.notify("run a query first", severity="warning")
            return
        exports = self.services.workdir / "exports"
        n = 1
        while (exports / f"query-{n:03d}.{fmt}").exists():
            n += 1
        try:
            dest = self.services.export(self.result, exports / f"query-{n:03d}.{fmt}")
        except GenoError as err:
            self.query_failed(err.render())
            return
        except (OSError, ValueError, ArithmeticError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            self.query_failed(InternalError("UNEXPECTED", f"export failed: {type(exc).__name__}: {exc}").render())
            return
        self.last_export = dest
        status = self.query_one("#sql-status", Static)
        status.remove_class("error")
        rel = dest.relative_to(self.services.workdir).as_posix()
        status.update(f" ✓ exported {self.result.num_rows} rows to {rel}")
        self.notify(f"exported to {rel}")

    def action_focus_query(self) -> None:
        """Focus the query line."""
        self.query_one("#query", Input).focus()

    def action_focus_results(self) -> None:
        """Focus the results table."""
        self.query_one("#sql-results", ArrowTable).focus()
