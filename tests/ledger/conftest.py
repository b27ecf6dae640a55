"""Shared fixtures for the ledger tests: a key, a fresh ledger file, a populated ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.keys import Signer
from ledger.store import Ledger


@pytest.fixture(scope="session")
def signer() -> Signer:
    """One in-memory maintainer key for the session."""
    return Signer.generate()


@pytest.fixture()
def ledger(tmp_path: Path, signer: Signer) -> Ledger:
    """A fresh ledger holding only its genesis event."""
    return Ledger.init(tmp_path / "ledger.duckdb", signer)


def populate(led: Ledger, signer: Signer, n_notes: int = 10) -> None:
    """Append a realistic mix: steps, artifacts, gates, notes, a rotated key and checkpoints."""
    led.append(
        "gates_defined",
        {
            "gates": [
                {"name": "data", "title": "Dataset", "steps": ["dataset_snapshot"], "issue_refs": ["#10"]},
                {"name": "train", "needs": ["data"], "steps": ["train"], "issue_refs": ["#11"]},
                {"name": "release", "needs": ["train"], "steps": [], "issue_refs": []},
            ]
        },
        signer,
    )
    led.append_many(
        [
            ("step_started", {"run_id": "r1", "step": "dataset_snapshot", "argv": ["python", "-m", "tools.release.dataset_snapshot"]}),
            ("artifact_recorded", {"run_id": "r1", "step": "dataset_snapshot", "role": "output", "path": "data/a.txt", "sha256": "0" * 64, "size": 3}),
            ("step_passed", {"run_id": "r1", "step": "dataset_snapshot"}),
        ],
        signer,
    )
    led.checkpoint(signer)
    led.append_many([("note", {"text": f"note {i}", "tags": ["t"]}) for i in range(n_notes)], signer)
    led.append("step_started", {"run_id": "r2", "step": "train"}, signer)
    led.append("step_failed", {"run_id": "r2", "step": "train", "code": "TRAINING.DIVERGED", "message": "loss is NaN"}, signer)
    led.checkpoint(signer)


def two_key_ledger(path: Path, signer: Signer, *, label: str, notes: int) -> tuple[Ledger, Signer]:
    """A populated ledger at ``path`` with a second key registered by ``signer`` that signed ``notes`` notes; (ledger, second key)."""
    led = Ledger.init(path, signer)
    populate(led, signer, n_notes=12)
    other = Signer.generate()
    led.append("key_registered", {"key_id": other.key_id, "public_key": other.public_key_b64, "label": label}, signer)
    led.append_many([("note", {"text": f"by {label} {i}"}) for i in range(notes)], other)
    return led, other


@pytest.fixture(name="populate", scope="session")
def populate_fixture():
    """The :func:`populate` helper, as a fixture."""
    return populate
