"""The Ledger screen: every event in an Arrow-backed table, filters, event detail and ``verify``.

The table is one DuckDB → Arrow query (:data:`cockpit.services.EVENTS_QUERY`) drawn by
:class:`cockpit.arrow_table.ArrowTable`, so 100k events paint as fast as a screenful. The filter
line takes ``kind=…``, ``step=…``, ``key=…`` terms (all must match; a bare word matches the kind);
filtering is a vectorised Arrow compute over the loaded table. Enter opens an event; ``v``
verifies the whole ledger.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from cockpit.arrow_table import ArrowTable
from cockpit.base import CockpitScreen, ReportsWorkerErrors, TopBar, load_in_worker
from cockpit.messages import EventLoaded, EventsLoaded
from cockpit.services import EVENT_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa

    from cockpit.services import EventDetail

#: Filter keys → Arrow column.
FILTER_COLUMNS = {"kind": "kind", "step": "step", "key": "key_id", "key_id": "key_id"}


def parse_filter(text: str) -> dict[str, str]:
    """``"kind=note step=x"`` → ``{"kind": "note", "step": "x"}`` (a bare word is a kind)."""
    terms: dict[str, str] = {}
    for word in text.split():
        if "=" in word:
            k, v = word.split("=", 1)
            if k.lower() in FILTER_COLUMNS and v:
                terms[FILTER_COLUMNS[k.lower()]] = v
        elif word:
            terms["kind"] = word
    return terms


def filter_table(table: pa.Table, terms: dict[str, str]) -> pa.Table:
    """Rows of ``table`` whose columns equal every term (Arrow compute, no Python loop over rows)."""
    import pyarrow.compute as pc

    if not terms:
        return table
    mask = None
    for col, value in terms.items():
        cond = pc.equal(table[col], value)
        if col == "key_id":
            cond = pc.or_(cond, pc.starts_with(table[col], value))
        mask = cond if mask is None else pc.and_(mask, cond)
    return table.filter(pc.fill_null(mask, False))


class LedgerScreen(CockpitScreen):
    """All events; filter, open, verify, copy."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus('#filter')", "Filter", id="ledger.filter"),
        Binding("v", "app.verify", "Verify", id="ledger.verify"),
        Binding("y", "copy_hash", "Copy", id="ledger.copy"),
        Binding("G", "last", "Newest", id="ledger.newest"),
        Binding("escape", "focus('#events')", "Table", show=False, id="ledger.table"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.all_events: pa.Table | None = None
        self.load_seconds = 0.0

    def compose(self) -> ComposeResult:
        """Top bar, filter line, status line, the events table, footer."""
        yield TopBar("Ledger")
        yield Input(placeholder="filter: kind=step_passed step=dataset_spec_check key=ed25519:…  (/ to focus)", id="filter")
        yield Static("", id="ledger-status", markup=False)
        yield ArrowTable(id="events", empty_text="(no matching events)")
        yield Footer()

    def on_mount(self) -> None:
        """Focus the table, then load."""
        self.query_one("#events", ArrowTable).focus()
        super().on_mount()

    def reload(self) -> None:
        """Query every event again (in a worker)."""
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="ledger-load")
    def _load(self) -> None:
        import time

        t0 = time.perf_counter()
        table = self.services.events_table()
        self.post_message(EventsLoaded(table, time.perf_counter() - t0))

    @on(EventsLoaded)
    def _loaded(self, message: EventsLoaded) -> None:
        table, seconds = message.table, message.seconds
        first = self.all_events is None
        self.all_events = table
        self.load_seconds = seconds
        self._apply_filter(keep_cursor=not first)

    def _apply_filter(self, keep_cursor: bool = False) -> None:
        if self.all_events is None:
            return
        terms = parse_filter(self.query_one("#filter", Input).value)
        shown = filter_table(self.all_events, terms)
        self.query_one("#events", ArrowTable).set_table(shown, columns=EVENT_COLUMNS, keep_cursor=keep_cursor)
        self._status()

    def _status(self, extra: str = "") -> None:
        assert self.all_events is not None
        shown = self.query_one("#events", ArrowTable).row_count
        verify = self.cockpit.last_verify_text
        text = f" {shown} of {self.all_events.num_rows} events   verify: {verify}"
        self.query_one("#ledger-status", Static).update(text + extra)

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._apply_filter()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.query_one("#events", ArrowTable).focus()

    @on(ArrowTable.RowSelected, "#events")
    def _open(self, event: ArrowTable.RowSelected) -> None:
        row = event.table.row(event.row)
        self.app.push_screen(EventScreen(int(row["seq"])))

    def verified(self) -> None:
        """Redraw the status line after the app ran ``verify``."""
        if self.all_events is not None:
            self._status()

    def action_last(self) -> None:
        """Jump to the newest event."""
        self.query_one("#events", ArrowTable).action_last()

    def action_copy_hash(self) -> None:
        """Copy the highlighted event's hash."""
        table = self.query_one("#events", ArrowTable)
        if table.row_count:
            row = table.row(table.cursor_row)
            self.cockpit.copy_value(str(row["hash"]), f"hash of event {row['seq']}")


class EventScreen(ReportsWorkerErrors, ModalScreen[None]):
    """One event: decoded body, hash, signature status, inclusion proof in the latest checkpoint."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="event.close"),
        Binding("y", "copy_hash", "Copy hash", id="event.copy"),
    ]

    def __init__(self, seq: int) -> None:
        super().__init__()
        self.seq = seq
        self.detail: EventDetail | None = None

    def compose(self) -> ComposeResult:
        """A scrollable panel with the event's text."""
        with VerticalScroll(id="event-panel"):
            yield Static(f"event {self.seq}: loading…", id="event-body", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        """Load the event (in a worker)."""
        load_in_worker(self, "event-load", lambda: EventLoaded(self.app.services.event_detail(self.seq)))  # type: ignore[attr-defined]

    def run_failed(self, text: str) -> None:
        """Show why the event could not be opened (called by the app's worker-error handler)."""
        self.query_one("#event-body", Static).update(f"event {self.seq}: could not be opened\n\n{text}")

    @on(EventLoaded)
    def _show(self, message: EventLoaded) -> None:
        d: EventDetail = message.detail
        self.detail = d
        ev = d.event
        lines = [
            f"event {ev.seq}  {ev.kind}",
            f"ts         {ev.ts}",
            f"event_id   {ev.event_id}",
            f"key        {ev.key_id}",
            f"hash       {ev.hash}  ({'✓ recomputed' if d.hash_ok else '✗ MISMATCH'})",
            f"prev_hash  {ev.prev_hash}",
            f"signature  {'✓' if d.signature == 'valid' else '✗'} {d.signature}",
            "",
            "body",
        ]
        lines += ["  " + ln for ln in json.dumps(d.body, indent=2, sort_keys=True, ensure_ascii=False).splitlines()]
        lines += ["", "inclusion proof"]
        if d.checkpoint_seq is not None:
            lines.append(f"  checkpoint seq {d.checkpoint_seq}: size {d.checkpoint_size}, root {d.checkpoint_root}")
        mark = "✓" if d.proof_status == "verified" else "·" if d.proof_status.startswith(("not covered", "no checkpoint")) else "✗"
        lines.append(f"  {mark} {d.proof_status}")
        for i, p in enumerate(d.proof):
            lines.append(f"  [{i}] {p}")
        self.query_one("#event-body", Static).update("\n".join(lines))

    def action_copy_hash(self) -> None:
        """Copy this event's hash."""
        if self.detail is not None:
            self.app.copy_value(self.detail.event.hash, f"hash of event {self.seq}")  # type: ignore[attr-defined]
