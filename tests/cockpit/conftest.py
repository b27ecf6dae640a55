"""Fixtures for the cockpit tests: deterministic workspaces, text screenshots, settling helpers."""

from __future__ import annotations

import io
import itertools
import os
import shutil
import uuid
from pathlib import Path

import pytest

from geno_lewm.resources import config_path


def _fixed_signer():
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from ledger.keys import Signer

    return Signer(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (pilot) run on asyncio, Textual's loop."""
    return "asyncio"


@pytest.fixture
def frozen_ledger(monkeypatch):
    """Fixed clock, event ids and run ids: every hash in a workspace built under it is reproducible."""
    from ledger import chain

    ticks = itertools.count(1)
    ids = itertools.count(1)

    def now_ts() -> str:
        n = next(ticks)
        return f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}Z"

    monkeypatch.setattr(chain, "now_ts", now_ts)
    monkeypatch.setattr(chain, "new_event_id", lambda: f"00000000-0000-4000-8000-{next(ids):012d}")
    # batched appends draw their ids together (when the ledger has that helper)
    monkeypatch.setattr(chain, "new_event_ids", lambda n: [f"00000000-0000-4000-8000-{next(ids):012d}" for _ in range(n)], raising=False)
    run_ids = itertools.count(1)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=next(run_ids)))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh (not yet created) release working directory named ``ws``."""
    return tmp_path / "ws"


@pytest.fixture
def fixed_workspace(workdir: Path, frozen_ledger) -> Path:
    """A workspace with a fixed maintainer key and a frozen clock (created, genesis only)."""
    from ledger.workspace import Workspace

    key = workdir / "keys" / "maintainer.key"
    key.parent.mkdir(parents=True)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(_fixed_signer().private_pem())
    Workspace(workdir).ensure()
    return workdir


@pytest.fixture
def noted_workspace(fixed_workspace: Path) -> Path:
    """The fixed workspace plus three notes, a checkpoint and one more note (all reproducible)."""
    from ledger.workspace import Workspace

    ws = Workspace(fixed_workspace)
    ledger, signer = ws.open_ledger(), ws.signer()
    for text in ("first note", "second note", "third note"):
        ledger.append("note", {"text": text}, signer)
    ledger.checkpoint(signer)
    ledger.append("note", {"text": "after the checkpoint"}, signer)
    ledger.close()
    return fixed_workspace


@pytest.fixture
def spec_in(workdir: Path):
    """Copy the committed dataset snapshot spec into the workdir; return its absolute path."""

    def stage() -> Path:
        dest = workdir / "specs" / "dataset-snapshot-snv.json"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(config_path("first_experiment", "dataset-snapshot-snv.json"), dest)
        return dest.absolute()

    return stage


@pytest.fixture
def screen_text():
    """Render the app's current screen as plain text (what a user sees, without colour)."""
    from rich.console import Console

    def render(app) -> str:
        width, height = app.size
        console = Console(
            width=width, height=height, file=io.StringIO(), force_terminal=True, color_system=None, record=True, legacy_windows=False, safe_box=False
        )
        console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens, simplify=True))  # noqa: SLF001
        return console.export_text()

    return render


@pytest.fixture
def settle():
    """Await until the app's workers are done and the screen has processed their messages."""

    from textual.worker import WorkerCancelled, WorkerFailed

    async def wait(pilot, rounds: int = 2) -> None:
        for _ in range(rounds):
            await pilot.pause()
            try:
                await pilot.app.workers.wait_for_complete()
            except (WorkerCancelled, WorkerFailed):
                pass  # the app shows failed workers itself; tests assert on what it shows
            await pilot.pause()

    return wait


@pytest.fixture
def goto(settle):
    """Press a key that opens a screen (1–5, F1 …), settle, and return the screen now shown."""

    async def press(pilot, key: str):
        await pilot.press(key)
        await settle(pilot)
        return pilot.app.screen

    return press


@pytest.fixture(scope="session")
def rehearsed_template(tmp_path_factory) -> Path:
    """A workspace where the whole offline rehearsal passed (built once per session; do not edit it)."""
    from tools.release.gate.rehearsal import rehearse

    wd = tmp_path_factory.mktemp("cockpit-rehearsed") / "ws"
    result = rehearse(wd)
    assert result.ok, result.render()
    return wd


@pytest.fixture
def rehearsed_workspace(rehearsed_template: Path, tmp_path: Path) -> Path:
    """A private copy of the rehearsed workspace (tests may change it)."""
    wd = tmp_path / "rehearsed" / "ws"
    shutil.copytree(rehearsed_template, wd)
    return wd


@pytest.fixture
def status_json():
    """``geno-lewm-release status --json --workdir DIR`` as a dict (the command itself, not a helper)."""
    import contextlib
    import json

    from tools.release.cli import main

    def run(workdir: Path) -> dict:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["status", "--json", "--workdir", str(workdir)]) == 0
        return json.loads(out.getvalue())

    return run
