"""Typed messages that background workers post back to the UI thread."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class LedgerChanged(Message):
    """The ledger head moved: ``size`` events, last hash ``head_hash`` (seen by the app's poller)."""

    def __init__(self, size: int, head_hash: str) -> None:
        super().__init__()
        self.size = size
        self.head_hash = head_hash


class LogLine(Message):
    """One line of a running step's (or the rehearsal's) log, to append to the visible log."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class StepFinished(Message):
    """A step run ended; ``result`` is what ``tools.release.runner.run_step`` returned."""

    def __init__(self, step: str, result: Any) -> None:
        super().__init__()
        self.step = step
        self.result = result


class RehearsalProgress(Message):
    """One log line of the offline rehearsal (what it passed to its ``progress`` callback)."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class RehearsalStep(Message):
    """A rehearsal step started, passed or failed; ``event`` is a ``tools.release.rehearse.StepProgress``."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class RehearsalFinished(Message):
    """The offline rehearsal ended; ``result`` is what ``tools.release.rehearse.rehearse`` returned."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class ResultReady(Message):
    """A background query finished: ``payload`` for the screen that asked (``what`` says which query)."""

    def __init__(self, what: str, payload: Any) -> None:
        super().__init__()
        self.what = what
        self.payload = payload
