"""Ledger store behaviour: append, idempotency, keys, views, SQL, export, workspace."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest


from ledger.errors import GenoError
from ledger.keys import Signer, keygen
from ledger.store import Ledger
from ledger.workspace import Workspace


def _rows(led: Ledger) -> list[tuple]:
    return led.raw_rows()


def test_append_is_contiguous_and_verifies(populate, ledger, signer) -> None:
    populate(ledger, signer)
    size, head = ledger.head()
    assert [e.seq for e in ledger.events()] == list(range(size))
    assert head == ledger.get(size - 1).hash
    report = ledger.verify()
    assert report.ok, report
    assert report.checked == size and report.checkpoints == 2 and report.signatures == size


def test_idempotent_append_and_conflict(populate, ledger, signer) -> None:
    eid = str(uuid.uuid4())
    seq = ledger.append("note", {"text": "once"}, signer, event_id=eid)
    assert ledger.append("note", {"text": "once"}, signer, event_id=eid) == seq
    before = _rows(ledger)
    with pytest.raises(GenoError) as exc:
        ledger.append("note", {"text": "different"}, signer, event_id=eid)
    assert exc.value.code == "LEDGER.CONFLICT"
    assert _rows(ledger) == before


@pytest.mark.parametrize(
    "kind, body, code",
    [
        ("nope", {"text": "x"}, "LEDGER.UNKNOWN_KIND"),
        ("note", {"text": "x", "schema_version": "2.0.0"}, "INPUT.SCHEMA_COMPAT"),
        ("note", {"text": "x" * 70_000}, "LEDGER.BAD_BODY"),
        ("step_failed", {"run_id": "r"}, "LEDGER.BAD_BODY"),
        ("checkpoint", {"origin": "o", "size": 0, "root": "0" * 64}, "LEDGER.RESERVED_KIND"),
    ],
)
def test_bad_input_leaves_ledger_unchanged(populate, ledger, signer, kind, body, code) -> None:
    before = _rows(ledger)
    with pytest.raises(GenoError) as exc:
        ledger.append(kind, body, signer)
    assert exc.value.code == code
    assert _rows(ledger) == before


def test_oversized_body_is_refused(populate, ledger, signer) -> None:
    before = _rows(ledger)
    with pytest.raises(GenoError) as exc:
        ledger.append("note", {"text": "x", "tags": ["y" * 200] * 2000}, signer)
    assert exc.value.code == "LEDGER.BODY_TOO_LARGE"
    assert _rows(ledger) == before


def test_batch_is_all_or_nothing(populate, ledger, signer) -> None:
    before = _rows(ledger)
    with pytest.raises(GenoError):
        ledger.append_many([("note", {"text": "ok"}), ("note", {"text": 1})], signer)
    assert _rows(ledger) == before


def test_key_rotation_and_revocation(populate, ledger, signer) -> None:
    new = Signer.generate()
    stranger = Signer.generate()
    before = _rows(ledger)
    with pytest.raises(GenoError) as exc:
        ledger.append("note", {"text": "who am i"}, stranger)
    assert exc.value.code == "LEDGER.UNKNOWN_KEY"
    assert _rows(ledger) == before
    ledger.append("key_registered", {"key_id": new.key_id, "public_key": new.public_key_b64, "label": "ci"}, signer)
    ledger.append("note", {"text": "from the new key"}, new)
    ledger.append("key_revoked", {"key_id": signer.key_id, "reason": "rotation"}, new)
    with pytest.raises(GenoError) as exc:
        ledger.append("note", {"text": "too late"}, signer)
    assert exc.value.code == "LEDGER.KEY_REVOKED"
    with pytest.raises(GenoError) as exc:
        ledger.append("key_revoked", {"key_id": new.key_id, "reason": "oops"}, new)
    assert exc.value.code == "LEDGER.LAST_KEY"
    assert ledger.verify().ok
    _, keys = ledger.sql("SELECT key_id, status, registered_by FROM v_keys ORDER BY registered_seq")
    assert keys == [(signer.key_id, "revoked", signer.key_id), (new.key_id, "active", signer.key_id)]


def test_views_derive_gates_and_blockers(populate, ledger, signer) -> None:
    populate(ledger, signer)
    _, gates = ledger.sql("SELECT name, status, blocked_by, failed_steps FROM v_gates")
    assert gates == [("data", "passed", [], []), ("train", "failed", [], ["train"]), ("release", "blocked", ["train"], [])]
    _, blockers = ledger.sql("SELECT name, issue_refs FROM v_blockers")
    assert blockers == [("train", ["#11"]), ("release", [])]
    ledger.append_many([("step_started", {"run_id": "r3", "step": "train"}), ("step_passed", {"run_id": "r3", "step": "train"})], signer)
    _, gates = ledger.sql("SELECT name, status FROM v_gates")
    assert gates == [("data", "passed"), ("train", "passed"), ("release", "passed")]
    _, arts = ledger.sql("SELECT path, role, size FROM v_artifacts")
    assert arts == [("data/a.txt", "output", 3)]
    _, cps = ledger.sql("SELECT count(*) FROM v_checkpoints")
    assert cps == [(2,)]
    from ledger.projections import replay_and_check

    assert replay_and_check(ledger)["gates"] == {"data": "passed", "train": "passed", "release": "passed"}


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM events",
        "UPDATE events SET kind = 'x'",
        "DROP VIEW v_gates",
        "INSERT INTO events SELECT * FROM events",
        "CREATE TABLE t AS SELECT 1",
        "ATTACH 'other.duckdb'",
        "COPY events TO 'x.csv'",
        "SELECT 1; DELETE FROM events",
    ],
)
def test_sql_refuses_writes(ledger, query) -> None:
    before = _rows(ledger)
    with pytest.raises(GenoError) as exc:
        ledger.sql(query)
    assert exc.value.code == "LEDGER.SQL_REFUSED"
    assert _rows(ledger) == before


def test_sql_cannot_read_files(ledger) -> None:
    with pytest.raises(GenoError) as exc:
        ledger.sql("SELECT * FROM read_csv('/etc/passwd')")
    assert exc.value.code == "INPUT.BAD_SQL"


def test_export_parquet_one_file_per_table_and_view(populate, ledger, signer, tmp_path) -> None:
    from ledger.cli import main

    populate(ledger, signer)
    out = tmp_path / "pq"
    assert main(["export", "--ledger", str(ledger.path), "--parquet", str(out)]) == 0
    names = sorted(p.stem for p in out.glob("*.parquet"))
    for required in ("events", "v_events", "v_steps", "v_artifacts", "v_gates", "v_blockers", "v_keys", "v_checkpoints"):
        assert required in names
    assert pq.read_table(out / "events.parquet").num_rows == ledger.head()[0]


def test_keygen_mode_and_no_overwrite(tmp_path) -> None:
    key = tmp_path / "k" / "m.key"
    kid = keygen(key)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert Signer.load(key).key_id == kid and kid.startswith("ed25519:") and len(kid) == 8 + 32
    with pytest.raises(GenoError) as exc:
        keygen(key)
    assert exc.value.code == "LEDGER.KEY_EXISTS"


def test_workspace_ensure(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GENO_LEWM_WORKSPACE", str(tmp_path / "ws"))
    ws = Workspace().ensure()
    assert ws.ledger_path == tmp_path / "ws" / "ledger.duckdb" and ws.key_path.exists()
    led = ws.open_ledger()
    led.append("note", {"text": "hello"}, ws.signer())
    assert Workspace().ensure().open_ledger().head()[0] == 2  # idempotent


def test_open_errors(tmp_path, signer) -> None:
    with pytest.raises(GenoError) as exc:
        Ledger.open(tmp_path / "missing.duckdb")
    assert exc.value.code == "LEDGER.NOT_FOUND"
    p = tmp_path / "l.duckdb"
    Ledger.init(p, signer)
    with pytest.raises(GenoError) as exc:
        Ledger.init(p, signer)
    assert exc.value.code == "LEDGER.EXISTS"
    with pytest.raises(GenoError) as exc:
        Ledger.open(p, read_only=True).append("note", {"text": "x"}, signer)
    assert exc.value.code == "LEDGER.READ_ONLY"


def test_merkle_checkpoint_matches_proofs(populate, ledger, signer) -> None:
    from ledger import merkle

    populate(ledger, signer)
    cp = list(ledger.events(kinds=["checkpoint"]))[-1].data
    leaves = [merkle.leaf_hash(bytes.fromhex(e.hash)) for e in ledger.events(until_seq=cp["size"])]
    for i in (0, 3, cp["size"] - 1):
        merkle.verify_inclusion(leaves[i], i, cp["size"], merkle.inclusion_proof(leaves, i), bytes.fromhex(cp["root"]))
    first = list(ledger.events(kinds=["checkpoint"]))[0].data
    merkle.verify_consistency(
        first["size"], cp["size"], merkle.consistency_proof(leaves, first["size"]), bytes.fromhex(first["root"]), bytes.fromhex(cp["root"])
    )


def test_artifact_bytes_checked(populate, ledger, signer, tmp_path) -> None:
    import hashlib

    root = tmp_path / "pkg"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.txt").write_bytes(b"abc")
    ledger.append(
        "artifact_recorded",
        {"run_id": "r", "step": "s", "role": "output", "path": "data/a.txt", "sha256": hashlib.sha256(b"abc").hexdigest(), "size": 3},
        signer,
    )
    assert ledger.verify(artifacts_root=root).ok
    (root / "data" / "a.txt").write_bytes(b"abd")
    rep = ledger.verify(artifacts_root=root)
    assert not rep.ok and rep.first_bad_seq == 1 and rep.code == "PROVENANCE.STALE_ARTIFACT"
