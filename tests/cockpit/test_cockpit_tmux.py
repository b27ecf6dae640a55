"""End to end in a real terminal: the cockpit in tmux runs a step; the pane and the ledger show it."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

from geno_lewm.resources import config_path
from ledger.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
TMUX = shutil.which("tmux") or "/usr/bin/tmux"


def _tmux(*args: str) -> str:
    return subprocess.run([TMUX, *args], check=True, capture_output=True, text=True, timeout=30).stdout


def _pane(session: str) -> str:
    return _tmux("capture-pane", "-p", "-t", session)


def _wait_for(session: str, needle: str, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = _pane(session)
        if needle in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; pane:\n{text}")


def test_run_a_step_in_tmux_and_see_it_in_pane_and_ledger(tmp_path):
    workdir = tmp_path / "ws"
    spec = workdir / "specs" / "dataset-snapshot-snv.json"
    spec.parent.mkdir(parents=True)
    shutil.copyfile(config_path("first_experiment", "dataset-snapshot-snv.json"), spec)
    exit_file = tmp_path / "exit-code"
    session = f"cockpit-{uuid.uuid4().hex[:8]}"
    cmd = (
        f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m cockpit.app --workdir {shlex.quote(str(workdir))} --poll 0.5; "
        f"echo $? > {shlex.quote(str(exit_file))}; sleep 60"
    )
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", "80", "-y", "24", cmd], check=True, env=env, timeout=30)
    try:
        text = _wait_for(session, "Press R to run the offline rehearsal")
        assert "pending" in text and "dataset" in text
        # open the step from the command palette, type its arguments, Enter runs it
        _tmux("send-keys", "-t", session, "C-p")
        _wait_for(session, "Search")
        _tmux("send-keys", "-t", session, "-l", "--", "Open step dataset_spec_check")
        time.sleep(0.5)
        _tmux("send-keys", "-t", session, "Enter")
        _wait_for(session, "never run")  # the step view has loaded
        _tmux("send-keys", "-t", session, "e")
        time.sleep(0.5)
        _tmux("send-keys", "-t", session, "-l", "--", f"--spec-json {spec}")
        _wait_for(session, "--check-spec --spec-json")  # typed: the command line shows it
        _tmux("send-keys", "-t", session, "Enter")
        text = _wait_for(session, "dataset_spec_check passed")
        assert "✓" in text and "spec ok" in text  # the streamed log is visible
        events = list(Workspace(workdir).open_ledger(read_only=True).events(kinds=["step_started", "artifact_recorded", "step_passed"]))
        assert [e.kind for e in events] == ["step_started", "artifact_recorded", "step_passed"]
        assert events[1].data["path"] == "specs/dataset-snapshot-snv.json"
        # the top bar follows the ledger head (the app polls it)
        _wait_for(session, f"{len(list(Workspace(workdir).open_ledger(read_only=True).events()))} events")
        # quit through the palette (a bare Esc followed quickly by q would read as alt+q)
        _tmux("send-keys", "-t", session, "C-p")
        _wait_for(session, "Search")
        _tmux("send-keys", "-t", session, "-l", "--", "Quit")
        _wait_for(session, "exit the cockpit")
        _tmux("send-keys", "-t", session, "Enter")
        deadline = time.monotonic() + 30
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert exit_file.read_text().strip() == "0"
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True, timeout=30)
