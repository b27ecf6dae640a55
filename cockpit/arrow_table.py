"""An Arrow-backed table widget: renders only the visible rows of a ``pyarrow.Table`` (Line API).

Textual's ``DataTable`` stores every row as Python objects, so 100k ledger events via ``add_row``
cannot paint in well under a second. :class:`ArrowTable` keeps the ``pyarrow.Table`` as it came
from DuckDB (``Ledger.arrow``), converts only a page of rows around the viewport to Python when it
is painted, and draws a fixed header line plus a cursor row (marked with ``▸`` as well as colour,
so it stays visible under ``NO_COLOR``).
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

if TYPE_CHECKING:
    import pyarrow as pa
    from textual import events

#: Rows converted to Python per page fetch (only pages around the viewport are ever converted).
PAGE_ROWS = 256
#: Rows sampled (from each end) to size the columns.
WIDTH_SAMPLE = 64
#: Widest a column is measured (longer values are cut with an ellipsis); narrower when the widget is.
MAX_COL_WIDTH = 120


def format_cell(value: Any) -> str:
    """A one-line text form of an Arrow cell value (``None`` is empty, bytes are hex, lists comma-joined)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(format_cell(v) for v in value)
    text = str(value)
    if "\n" in text:
        text = text.replace("\r", "").replace("\n", " ⏎ ")
    return text


def _fit(text: str, width: int) -> str:
    if len(text) > width:
        return text[: max(width - 1, 0)] + "…"
    return text.ljust(width)


class ArrowTable(ScrollView, can_focus=True):
    """A read-only, scrollable table over a ``pyarrow.Table`` with a row cursor.

    Posts :class:`ArrowTable.RowHighlighted` when the cursor moves and :class:`ArrowTable.RowSelected`
    on Enter (or a click on the current row).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("pageup", "page_up", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="table.page_down"),
        Binding("home", "first", "First row", show=False, id="table.first"),
        Binding("end", "last", "Last row", show=False, id="table.last"),
        Binding("left", "scroll_left", "Scroll left", show=False, id="table.left"),
        Binding("right", "scroll_right", "Scroll right", show=False, id="table.right"),
        Binding("enter", "select", "Open row", id="table.select"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "arrow-table--header",
        "arrow-table--cursor",
        "arrow-table--odd",
        "arrow-table--empty",
    }

    cursor_row: reactive[int] = reactive(0, always_update=True)

    class RowMessage(Message):
        """A message about ``row`` (an index into the current table) of ``table``."""

        def __init__(self, table: ArrowTable, row: int) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> ArrowTable:
            """The table that posted the message."""
            return self.table

    class RowHighlighted(RowMessage):
        """The cursor moved to ``row`` (an index into the current table)."""

    class RowSelected(RowMessage):
        """Enter was pressed on ``row`` (an index into the current table)."""

    def __init__(self, *, empty_text: str = "(no rows)", name: str | None = None, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002 - Textual API
        super().__init__(name=name, id=id, classes=classes)
        self.empty_text = empty_text
        self._table: pa.Table | None = None
        self._columns: list[str] = []
        self._widths: list[int] = []
        self._natural: list[int] = []
        self._page_start = -1
        self._page: list[tuple[str, ...]] = []
        self._line_width = 0

    # -- data ---------------------------------------------------------------------------------

    @property
    def table(self) -> pa.Table | None:
        """The ``pyarrow.Table`` shown (``None`` before :meth:`set_table`)."""
        return self._table

    @property
    def row_count(self) -> int:
        """Number of rows in the table."""
        return 0 if self._table is None else self._table.num_rows

    @property
    def columns(self) -> list[str]:
        """Names of the columns drawn, in order."""
        return list(self._columns)

    def set_table(self, table: pa.Table, *, columns: list[str] | None = None, keep_cursor: bool = False) -> None:
        """Show ``table`` (optionally only ``columns``). Costs O(visible rows), not O(rows)."""
        self._table = table
        self._columns = [c for c in (columns or table.column_names) if c in table.column_names]
        self._page_start = -1
        self._page = []
        self._natural = self._measure()
        self._fit()
        old = self.cursor_row
        self.cursor_row = min(old, max(self.row_count - 1, 0)) if keep_cursor else 0
        if not keep_cursor:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def _fit(self) -> None:
        """Size the columns to their content, cutting only the widest ones when the widget is too narrow."""
        from cockpit.base import fit_widths

        available = (self.size.width or 80) - 2 - 2 * len(self._natural)
        self._widths = fit_widths(self._natural, available)
        self._line_width = 2 + sum(w + 2 for w in self._widths)
        self.virtual_size = Size(self._line_width, self.row_count + 1)

    def on_resize(self) -> None:
        """Fit the columns to the new width."""
        if self._table is not None:
            self._fit()
            self.refresh()

    def row(self, index: int) -> dict[str, Any]:
        """Row ``index`` of the table as a dict of Python values (all columns, not only drawn ones)."""
        if self._table is None or not 0 <= index < self._table.num_rows:
            raise IndexError(index)
        return self._table.slice(index, 1).to_pylist()[0]

    def cell_text(self, index: int, column: str) -> str:
        """The drawn text of ``column`` in row ``index`` (uncut)."""
        return format_cell(self.row(index).get(column))

    def _measure(self) -> list[int]:
        assert self._table is not None
        n = self._table.num_rows
        samples = []
        if n:
            head = self._table.slice(0, min(n, WIDTH_SAMPLE)).select(self._columns).to_pylist()
            tail = self._table.slice(max(n - WIDTH_SAMPLE, 0), WIDTH_SAMPLE).select(self._columns).to_pylist() if n > WIDTH_SAMPLE else []
            samples = head + tail
        widths = []
        for col in self._columns:
            w = max([len(col)] + [len(format_cell(r[col])) for r in samples])
            widths.append(max(3, min(w, MAX_COL_WIDTH)))
        return widths

    def _row_cells(self, index: int) -> tuple[str, ...]:
        if not self._page_start <= index < self._page_start + len(self._page):
            assert self._table is not None
            start = max(0, index - PAGE_ROWS // 4)
            chunk = self._table.slice(start, PAGE_ROWS).select(self._columns)
            cols = [chunk.column(i).to_pylist() for i in range(chunk.num_columns)]
            self._page = [tuple(format_cell(v) for v in row) for row in zip(*cols, strict=True)] if cols else []
            self._page_start = start
        return self._page[index - self._page_start]

    # -- rendering ----------------------------------------------------------------------------

    def _line_text(self, cells: tuple[str, ...] | list[str], marker: str) -> str:
        parts = [marker, " "]
        for text, w in zip(cells, self._widths, strict=True):
            parts.append(_fit(text, w))
            parts.append("  ")
        return "".join(parts)

    def render_line(self, y: int) -> Strip:
        """Draw screen line ``y``: the header at 0, then the rows under the scroll offset."""
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if self._table is None:
            return Strip.blank(width, base)
        if y == 0:
            style = base + self.get_component_rich_style("arrow-table--header")
            text = self._line_text(self._columns, " ")
        else:
            index = scroll_y + y - 1
            if self.row_count == 0 and y == 1:
                style = base + self.get_component_rich_style("arrow-table--empty")
                return Strip([Segment(_fit(" " + self.empty_text, width), style)], width)
            if index >= self.row_count:
                return Strip.blank(width, base)
            style = base
            if index % 2:
                style = style + self.get_component_rich_style("arrow-table--odd")
            marker = " "
            if index == self.cursor_row:
                marker = "▸"
                style = style + self.get_component_rich_style("arrow-table--cursor")
            text = self._line_text(self._row_cells(index), marker)
        line_width = max(self._line_width, width + scroll_x)
        strip = Strip([Segment(text.ljust(line_width), style)], line_width)
        return strip.crop(scroll_x, scroll_x + width)

    def notify_style_update(self) -> None:
        """Repaint when the theme or CSS changes."""
        super().notify_style_update()
        self.refresh()

    # -- cursor -------------------------------------------------------------------------------

    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def validate_cursor_row(self, value: int) -> int:
        """Clamp the cursor into the table."""
        return max(0, min(value, max(self.row_count - 1, 0)))

    def watch_cursor_row(self, old: int, new: int) -> None:
        """Scroll the cursor into view, repaint and announce the highlight."""
        top = round(self.scroll_y)
        visible = self._visible_rows()
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + visible:
            self.scroll_to(y=new - visible + 1, animate=False, immediate=True)
        self.refresh()
        if self.row_count:
            self.post_message(self.RowHighlighted(self, new))

    def action_cursor_up(self) -> None:
        """Move the cursor one row up."""
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        """Move the cursor one row down."""
        self.cursor_row += 1

    def action_page_up(self) -> None:
        """Move the cursor one page up."""
        self.cursor_row -= self._visible_rows()

    def action_page_down(self) -> None:
        """Move the cursor one page down."""
        self.cursor_row += self._visible_rows()

    def action_first(self) -> None:
        """Move the cursor to the first row."""
        self.cursor_row = 0

    def action_last(self) -> None:
        """Move the cursor to the last row."""
        self.cursor_row = self.row_count - 1

    def action_select(self) -> None:
        """Announce that the current row was chosen."""
        if self.row_count:
            self.post_message(self.RowSelected(self, self.cursor_row))

    def on_click(self, event: events.Click) -> None:
        """Click moves the cursor; a click on the current row opens it."""
        y = event.get_content_offset(self)
        if y is None or y.y == 0:
            return
        index = round(self.scroll_y) + y.y - 1
        if 0 <= index < self.row_count:
            if index == self.cursor_row:
                self.action_select()
            self.cursor_row = index
