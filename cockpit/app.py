"""``geno-lewm-cockpit``: the maintainer's Textual UI over the release ledger and steps.

The cockpit drives the same functions as ``geno-lewm-release`` and ``geno-lewm-ledger`` (through
:mod:`cockpit.services`) and adds only presentation. It opens on the Release screen of the
workspace given by ``--workdir`` (default ``$GENO_LEWM_WORKSPACE`` or ``./geno-lewm-workspace``,
created on first run), polls the ledger head so events appended by other processes show up, runs
long work in thread workers that post typed messages back, and turns worker errors into visible
``error[CODE]`` messages. Exit codes: 0 on quit, 130 on Ctrl-C, 70 when a worker crashed with an
unexpected error (a bug), 1 when the app itself failed. Ctrl-C while a step runs closes the UI at
once; the process exits when the step's in-flight work ends (its ledger writes are transactions,
so nothing is left half-written).

Importing this module (and painting the first frame) imports neither torch nor transformers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from cockpit.base import CockpitScreen, load_in_worker
from cockpit.commands import CockpitCommands
from cockpit.messages import LedgerChanged, LedgerVerified
from cockpit.screens.release import ReleaseScreen
from cockpit.services import Services, default_workdir
from ledger.clikit import ArgumentParser, command
from ledger.errors import EXIT_CODES, EXIT_INTERRUPTED, GenoError, InternalError

#: Seconds between ledger-head polls.
POLL_INTERVAL_S = 1.0


def _ledger_screen():
    from cockpit.screens.ledger import LedgerScreen

    return LedgerScreen()


def _sql_screen():
    from cockpit.screens.sql import SqlScreen

    return SqlScreen()


def _demo_screen():
    from cockpit.screens.demo import DemoScreen

    return DemoScreen()


def _rehearse_screen():
    from cockpit.screens.rehearse import RehearseScreen

    return RehearseScreen()


#: The cockpit's modes in the order of their number keys (1, 2, …): (mode, title in the key help, screen factory).
MODE_TABLE = (
    ("release", "Release", ReleaseScreen),
    ("ledger", "Ledger", _ledger_screen),
    ("sql", "SQL", _sql_screen),
    ("demo", "Demo", _demo_screen),
    ("rehearse", "Rehearse", _rehearse_screen),
)


class CockpitApp(App[int]):
    """The cockpit. ``workdir`` is the release working directory (workspace + artifact root)."""

    TITLE = "GenoLeWM cockpit"
    CSS_PATH = "cockpit.tcss"
    MODES: ClassVar = {mode: screen for mode, _title, screen in MODE_TABLE}
    DEFAULT_MODE = "release"
    COMMANDS = App.COMMANDS | {CockpitCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(str(key), f"switch_mode('{mode}')", title, show=False, id=f"app.{mode}") for key, (mode, title, _screen) in enumerate(MODE_TABLE, 1)),
        Binding("f1,question_mark", "help", "Keys", id="app.help"),
        Binding("v", "verify", "Verify ledger", show=False, id="app.verify"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("ctrl+c", "interrupt", "Interrupt (exit 130)", show=False, priority=True, id="app.interrupt"),
    ]

    def __init__(self, workdir: str | os.PathLike[str] | None = None, *, poll_interval: float | None = POLL_INTERVAL_S) -> None:
        super().__init__()
        self.services = Services(workdir if workdir is not None else default_workdir())
        self.services.ensure()
        self.poll_interval = poll_interval
        self.ledger_head: tuple[int, str] = self.services.head()
        self.last_verify_text = "not run (v)"
        self.last_verify = None
        self.crashed: list[str] = []
        self._polling = False
        self.copied: list[str] = []

    # -- lifecycle ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        """Start polling the ledger head."""
        self.sub_title = str(self.services.workdir)
        if self.poll_interval:
            self.set_interval(self.poll_interval, self.poll_now)

    def poll_now(self) -> None:
        """Re-read the ledger head now (in a worker); screens refresh when it moved.

        At most one poll is in flight: a tick that finds one still running is skipped.
        """
        if self._polling:
            return
        self._polling = True
        self._poll()

    @work(thread=True, exclusive=False, exit_on_error=False, group="poll")
    def _poll(self) -> None:
        try:
            size, head = self.services.head()
        finally:
            self._polling = False
        if (size, head) != self.ledger_head:
            self.post_message(LedgerChanged(size, head))

    @on(LedgerChanged)
    def _ledger_changed(self, message: LedgerChanged) -> None:
        self.ledger_head = (message.size, message.head_hash)
        for screen in self.screen_stack:
            if isinstance(screen, CockpitScreen):
                screen.ledger_moved()

    # -- errors -------------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Workers started by the app itself (poll, verify) report here."""
        if event.state == WorkerState.ERROR:
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker) -> None:
        """The one place worker errors become visible: ``error[CODE]`` + hint, routed to the screen.

        A typed error (:class:`ledger.errors.GenoError`) is a user-facing failure; anything else is
        a crash (``INTERNAL.UNEXPECTED``), recorded so the process exits non-zero (70) on quit.
        """
        err = worker.error
        if isinstance(err, GenoError):
            text = err.render()
        else:
            text = InternalError("UNEXPECTED", f"{type(err).__name__}: {err}").render()
            self.crashed.append(text)
        if worker.group == "poll" and isinstance(err, GenoError):
            return  # a busy ledger during a poll is retried at the next tick
        node = worker.node
        for hook in ("run_failed", "query_failed", "demo_failed"):
            if hasattr(node, hook):
                getattr(node, hook)(text)
                break
        self.notify(text, title="error", severity="error", timeout=12)

    # -- actions ------------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key binding."""
        from cockpit.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_interrupt(self) -> None:
        """Ctrl-C: leave with exit code 130."""
        self.exit(EXIT_INTERRUPTED, return_code=EXIT_INTERRUPTED)

    async def action_quit(self) -> None:
        """Quit (exit code 70 if a worker crashed with an unexpected error, else 0)."""
        code = EXIT_CODES["INTERNAL"] if self.crashed else 0
        self.exit(code, return_code=code)

    async def action_start_rehearsal(self) -> None:
        """Show the Rehearse screen and start the offline rehearsal."""
        await self.switch_mode("rehearse")
        self.screen.action_start()  # type: ignore[attr-defined]

    def action_verify(self) -> None:
        """Verify the whole ledger (in a worker) and show the result."""
        self.last_verify_text = "running…"
        self.notify("verifying the ledger…")
        load_in_worker(self, "verify", lambda: LedgerVerified(self.services.verify()))

    @on(LedgerVerified)
    def _verified(self, message: LedgerVerified) -> None:
        r = message.report
        self.last_verify = r
        if r.ok:
            self.last_verify_text = f"✓ ok ({r.checked} events, {r.signatures} signatures, {r.checkpoints} checkpoints, {r.artifacts} artifacts)"
            self.notify(f"ledger verified: {self.last_verify_text}")
        else:
            self.last_verify_text = f"✗ FAILED at seq {r.first_bad_seq}: {r.code}: {r.reason}"
            self.notify(self.last_verify_text, title="verify", severity="error", timeout=12)
        for screen in self.screen_stack:
            if hasattr(screen, "verified"):
                screen.verified()

    def copy_value(self, text: str, what: str) -> None:
        """Copy ``text`` to the clipboard (OSC 52: works over SSH) and say what was copied."""
        self.copy_to_clipboard(text)
        self.copied.append(text)
        self.notify(f"copied {what}: {text[:24]}{'…' if len(text) > 24 else ''}")

    def action_copy_head(self) -> None:
        """Copy the ledger head hash."""
        self.copy_value(self.ledger_head[1], "ledger head hash")

    def action_copy_workdir(self) -> None:
        """Copy the workspace path."""
        self.copy_value(str(self.services.workdir), "workspace path")

    async def open_step(self, name: str, argv: list[str] | None = None) -> None:
        """Show the Release screen with step ``name`` open (``argv`` prefilled)."""
        from cockpit.screens.step import StepScreen

        await self.switch_mode("release")
        await self.push_screen(StepScreen(name, argv))

    async def run_example_query(self, index: int) -> None:
        """Show the SQL screen and run example query ``index``."""
        await self.switch_mode("sql")
        self.screen.action_example(index)  # type: ignore[attr-defined]


def _main(argv: list[str] | None) -> int:
    parser = ArgumentParser(prog="geno-lewm-cockpit", description="The maintainer's cockpit: release gates, steps, rehearsal, ledger, SQL and demo.")
    parser.add_argument(
        "--workdir", metavar="DIR", help="release working directory (default: $GENO_LEWM_WORKSPACE or ./geno-lewm-workspace; created on first run)"
    )
    parser.add_argument("--poll", type=float, default=POLL_INTERVAL_S, metavar="SECONDS", help="how often to re-read the ledger head (default: %(default)s)")
    args = parser.parse_args(argv)
    from ledger.workspace import check_workdir

    check_workdir(args.workdir if args.workdir else default_workdir())  # a file named as the workspace is a typed error, before the UI starts
    app = CockpitApp(Path(args.workdir) if args.workdir else None, poll_interval=args.poll if args.poll > 0 else None)
    app.run()
    return app.return_code if app.return_code is not None else 0


main = command(_main, "Console entry point of ``geno-lewm-cockpit``.")


if __name__ == "__main__":
    sys.exit(main())
