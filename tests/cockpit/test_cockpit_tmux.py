"""End to end in a real terminal (tmux): a step run from its form, and the README's whole tour.

Every wait is a bounded poll on the pane's text (never a fixed sleep). Skipped only where tmux is
not installed.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from geno_lewm.resources import config_path
from ledger.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
TMUX = shutil.which("tmux")

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


def _tmux(*args: str) -> str:
    return subprocess.run([TMUX, *args], check=True, capture_output=True, text=True, timeout=30).stdout


def _pane(session: str) -> str:
    return _tmux("capture-pane", "-p", "-t", session)


def _wait_for(session: str, needle: str | tuple[str, ...], timeout_s: float = 60.0, *, absent: bool = False) -> str:
    """Poll the pane until ``needle`` (or every one of a tuple) shows (or, with ``absent``, is gone)."""
    needles = (needle,) if isinstance(needle, str) else needle
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = _pane(session)
        seen = all(n in text for n in needles)
        if seen != absent:
            return text
        time.sleep(0.2)  # poll interval, not a timing assumption
    raise AssertionError(f"{needles!r} never {'went away' if absent else 'appeared'}; pane:\n{text}")


def _wait_file(path: Path, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert path.exists(), f"{path.name} never appeared"


def _keys(session: str, *keys: str) -> None:
    _tmux("send-keys", "-t", session, *keys)


def _type(session: str, text: str) -> None:
    _tmux("send-keys", "-t", session, "-l", "--", text)


def _start(tmp_path: Path, workdir: Path, size: tuple[int, int]) -> tuple[str, Path]:
    exit_file = tmp_path / "exit-code"
    session = f"cockpit-{uuid.uuid4().hex[:8]}"
    cmd = (
        f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m cockpit.app --workdir {shlex.quote(str(workdir))} --poll 0.5; "
        f"echo $? > {shlex.quote(str(exit_file))}; sleep 60"
    )
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", str(size[0]), "-y", str(size[1]), cmd], check=True, env=env, timeout=30)
    return session, exit_file


def _events(workdir: Path, kinds: list[str] | None = None) -> list:
    led = Workspace(workdir).open_ledger(read_only=True)
    try:
        return list(led.events(kinds=kinds) if kinds else led.events())
    finally:
        led.close()


def _status(workdir: Path) -> dict[str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "tools.release.cli", "status", "--json", "--workdir", str(workdir)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return {g["name"]: g["state"] for g in json.loads(proc.stdout)["gates"]}


def test_run_a_step_in_tmux_and_see_it_in_pane_and_ledger(tmp_path):
    workdir = tmp_path / "ws"
    spec = workdir / "specs" / "dataset-snapshot-snv.json"
    spec.parent.mkdir(parents=True)
    shutil.copyfile(config_path("first_experiment", "dataset-snapshot-snv.json"), spec)
    session, exit_file = _start(tmp_path, workdir, (80, 24))
    try:
        text = _wait_for(session, "Press R to run the offline rehearsal")
        assert "pending" in text and "dataset" in text
        # open the step from the command palette; its form is filled with the workspace's spec
        _keys(session, "C-p")
        _wait_for(session, "Search")
        _type(session, "Open step dataset_spec_check")
        _wait_for(session, "validate the dataset snapshot spec")
        _keys(session, "Enter")
        text = _wait_for(session, ("never run", "*--spec-json"))  # the step view and its form have loaded
        assert "specs/dataset-snapshot-snv.json" in text
        _keys(session, "r")
        text = _wait_for(session, "dataset_spec_check passed")
        assert "✓" in text and "spec ok" in text  # the streamed log is visible
        events = _events(workdir, ["step_started", "artifact_recorded", "step_passed"])
        assert [e.kind for e in events] == ["step_started", "artifact_recorded", "step_passed"]
        assert events[1].data["path"] == "specs/dataset-snapshot-snv.json"
        # the top bar follows the ledger head (the app polls it)
        _wait_for(session, f"{len(_events(workdir))} events")
        # quit through the palette
        _keys(session, "C-p")
        _wait_for(session, "Search")
        _type(session, "Quit")
        _wait_for(session, "exit the cockpit")
        _keys(session, "Enter")
        _wait_file(exit_file)
        assert exit_file.read_text().strip() == "0"
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True, timeout=30)


def test_the_readme_tour_end_to_end(tmp_path):
    """R rehearses; the Demo screen scores with its model (gates unchanged); v_blockers exports to
    CSV; an event opened from the Ledger screen shows its verified inclusion proof."""
    workdir = tmp_path / "ws"
    session, exit_file = _start(tmp_path, workdir, (140, 45))
    try:
        _wait_for(session, "Press R to run the offline rehearsal")
        _keys(session, "R")
        _wait_for(session, "rehearsal passed", timeout_s=900)
        gates = _status(workdir)
        assert gates["paper"] == "passed" and gates["demo"] == "passed"
        # Demo: the rehearsal's model is found; scoring writes to tryout/ only
        _keys(session, "4")
        _wait_for(session, ("model model", "s Score"))
        _keys(session, "s")
        text = _wait_for(session, "receipts ✓ verified", timeout_s=300)
        assert "stand-in model" in text and "in tryout/" in text
        assert (workdir / "tryout" / "scores.jsonl").is_file()
        assert _status(workdir) == gates
        # SQL: the blockers example, exported to CSV
        _keys(session, "3")
        _wait_for(session, "F3 blockers")
        _keys(session, "F3")
        _wait_for(session, ("rows × 5 columns", "v_blockers"))
        _keys(session, "C-e")
        _wait_for(session, "exported")
        back = pacsv.read_csv(workdir / "exports" / "query-001.csv")
        assert "issue_refs" in back.column_names and back.num_rows > 0
        # Ledger: the first event's inclusion proof in the latest checkpoint
        if not _events(workdir, ["checkpoint"]):  # the maintainer's own command, where no step wrote one
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "ledger.cli",
                    "checkpoint",
                    "--ledger",
                    str(workdir / "ledger.duckdb"),
                    "--key",
                    str(workdir / "keys" / "maintainer.key"),
                ],
                cwd=ROOT,
                check=True,
                capture_output=True,
                timeout=120,
            )
        size = len(_events(workdir))
        _keys(session, "2")
        _wait_for(session, (f"{size} events", "genesis"))  # the top bar and the table have loaded
        _keys(session, "Home")
        _keys(session, "Enter")
        text = _wait_for(session, ("inclusion proof", "verified"))
        assert "event 0" in text and "✓ verified" in text
        proc = subprocess.run(
            [sys.executable, "-m", "ledger.cli", "prove", "--ledger", str(workdir / "ledger.duckdb"), "--seq", "1"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        _keys(session, "Escape")
        _wait_for(session, "inclusion proof", absent=True)
        _keys(session, "q")
        _wait_file(exit_file)
        assert exit_file.read_text().strip() == "0"
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True, timeout=30)
