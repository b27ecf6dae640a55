"""Pieces every cockpit screen shares: the top bar, the "ledger moved" refresh hook and background loads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual.dom import DOMNode
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from cockpit.app import CockpitApp
    from cockpit.services import Services


class TopBar(Static):
    """One line: screen title on the left, workspace and ledger head on the right."""

    def __init__(self, title: str) -> None:
        super().__init__("", id="topbar", markup=False)
        self.screen_title = title

    def on_mount(self) -> None:
        """Draw once mounted."""
        self.update_head()

    def update_head(self) -> None:
        """Redraw with the app's current ledger head."""
        app: CockpitApp = self.app  # type: ignore[assignment]
        size, head = app.ledger_head
        right = f"{app.services.workdir.name} · {size} events · head {head[:8] or '—'}"
        self.update(f" {self.screen_title}  │  {right}")


def fit_widths(natural: list[int], available: int, *, minimum: int = 8) -> list[int]:
    """Column widths for ``natural`` content widths in ``available`` cells (separators already taken off).

    Every column gets its content width when they all fit; otherwise only the widest columns are
    cut, to one common cap, so short columns (states, names) are never truncated while long ones
    (gate lists, issue refs) use all the room there is. Never below ``minimum`` (or the natural
    width when that is smaller); the table then scrolls sideways.
    """
    if sum(natural) <= available:
        return list(natural)
    lo, hi = minimum, max(natural, default=minimum)
    while lo < hi:  # the largest cap whose total still fits
        mid = (lo + hi + 1) // 2
        if sum(min(n, mid) for n in natural) <= available:
            lo = mid
        else:
            hi = mid - 1
    return [min(n, lo) for n in natural]


def load_in_worker(node: DOMNode, group: str, fetch: Callable[[], Message]) -> Worker:
    """Build a message with ``fetch`` in a thread worker and post it to ``node``, which handles it on the UI thread.

    The cockpit's one way to load: ``fetch`` (ledger queries, registry reads) runs off the UI
    thread; a newer load in the same ``group`` cancels the older one (``exclusive``); a failure does
    not exit the app but reaches :meth:`cockpit.app.CockpitApp.worker_failed` (``exit_on_error=False``).
    """
    return node.run_worker(lambda: node.post_message(fetch()), name=group, group=group, exclusive=True, exit_on_error=False, thread=True)


class ReportsWorkerErrors:
    """Mixin for screens: hand a failed worker to the app's single error handler.

    ``Worker.StateChanged`` does not bubble, so every screen that starts workers forwards it.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Forward a worker that ended in error to :meth:`cockpit.app.CockpitApp.worker_failed`."""
        if event.state == WorkerState.ERROR:
            self.app.worker_failed(event.worker)  # type: ignore[attr-defined]


class CockpitScreen(ReportsWorkerErrors, Screen):
    """A cockpit screen: shows :class:`TopBar`, refreshes itself when the ledger head moves.

    Subclasses implement :meth:`reload` (start their background load); it runs on mount, when
    the ledger head changes while the screen is shown, and when the screen is shown again after
    the head changed while it was hidden.
    """

    TITLE: ClassVar[str] = "GenoLeWM cockpit"

    def __init__(self) -> None:
        super().__init__()
        self._seen_head: tuple[int, str] | None = None

    @property
    def cockpit(self) -> CockpitApp:
        """The running :class:`cockpit.app.CockpitApp`."""
        return self.app  # type: ignore[return-value]

    @property
    def services(self) -> Services:
        """The app's :class:`cockpit.services.Services`."""
        return self.cockpit.services

    def reload(self) -> None:
        """Start (re)loading what the screen shows; subclasses override."""

    def on_mount(self) -> None:
        """First load."""
        self._seen_head = self.cockpit.ledger_head
        self.reload()

    def on_screen_resume(self) -> None:
        """Reload when the ledger moved while the screen was hidden."""
        self._refresh_topbar()
        if self._seen_head is not None and self._seen_head != self.cockpit.ledger_head:
            self._seen_head = self.cockpit.ledger_head
            self.reload()

    def ledger_moved(self) -> None:
        """Called by the app when its poller saw a new ledger head."""
        self._refresh_topbar()
        if self._seen_head != self.cockpit.ledger_head:
            self._seen_head = self.cockpit.ledger_head
            self.reload()

    def _refresh_topbar(self) -> None:
        for bar in self.query(TopBar):
            bar.update_head()
