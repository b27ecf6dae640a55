"""Typed messages that background workers post back to the UI thread: one class per event.

Each message is a dataclass (Textual initialises dataclass messages itself); a screen handles the
messages it cares about with ``@on(MessageClass)``, so no handler filters by a string.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class LedgerChanged(Message):
    """The ledger head moved (seen by the app's poller)."""

    size: int  # events in the ledger
    head_hash: str  # hash of the last event


@dataclass
class LogLine(Message):
    """One line of a running step's (or the rehearsal's, or the demo's) log, to append to the visible log."""

    text: str  # the line, without its newline


@dataclass
class StepFinished(Message):
    """A step run ended."""

    step: str  # step name
    result: Any  # tools.release.engine.runner.StepOutcome


@dataclass
class RehearsalProgress(Message):
    """One log line of the offline rehearsal (what it passed to its ``progress`` callback)."""

    event: Any  # the line


@dataclass
class RehearsalStep(Message):
    """A rehearsal step started, passed or failed."""

    event: Any  # tools.release.gate.rehearsal.StepProgress


@dataclass
class RehearsalFinished(Message):
    """The offline rehearsal ended."""

    result: Any  # tools.release.gate.rehearsal.RehearsalResult


@dataclass
class RehearsalHistoryLoaded(Message):
    """Each rehearsal step's latest recorded run was read from the ledger (Rehearse screen)."""

    runs: Any  # {step name: its latest run}, empty when nothing was rehearsed yet


@dataclass
class LedgerVerified(Message):
    """The whole-ledger verification finished."""

    report: Any  # ledger.verify.VerifyReport


@dataclass
class GatesLoaded(Message):
    """Gate states were derived again (Release screen)."""

    states: list[Any]  # tools.release.gate.states.GateState, in gates.toml order
    issues: Any = None  # the offline issues cache (tools.release.gate.issues), or None when never synced


@dataclass
class StepViewLoaded(Message):
    """A step's registry entry, latest run and artifacts were read (Step screen)."""

    view: Any  # cockpit.services.StepView


@dataclass
class EventsLoaded(Message):
    """The ledger's events were read as an Arrow table (Ledger screen)."""

    table: Any  # pyarrow.Table of events
    seconds: float  # how long the read took


@dataclass
class EventLoaded(Message):
    """One event and its evidence were read (Event screen)."""

    detail: Any  # cockpit.services.EventDetail


@dataclass
class QueryFinished(Message):
    """A read-only SQL query returned (SQL screen)."""

    table: Any  # pyarrow.Table result
    seconds: float  # how long the query took


@dataclass
class DemoModelFound(Message):
    """The current model package was looked up in the ledger (Demo screen)."""

    model_dir: Any  # its directory, or None when none is recorded yet


@dataclass
class DemoScored(Message):
    """The demo scoring run (score + receipt verification) ended (Demo screen)."""

    result: Any  # cockpit.services.DemoResult
