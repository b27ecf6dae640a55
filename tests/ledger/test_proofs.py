"""Reopened ledgers append; per-event checks (``check_event``) and inclusion proofs; view upgrades."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ledger import chain, merkle, schema
from ledger.errors import GenoError
from ledger.keys import Signer
from ledger.store import Ledger


def _exec(p: Path, sql: str, params: list | None = None) -> None:
    con = duckdb.connect(str(p))
    try:
        con.execute(sql, params or [])
    finally:
        con.close()


def test_reopened_ledger_appends_and_verifies(tmp_path, signer) -> None:
    """Regression: the first append on a handle from ``Ledger.open`` failed with LEDGER.BUSY."""
    p = tmp_path / "l.duckdb"
    Ledger.init(p, signer, origin="reopen-test")
    led = Ledger.open(p, busy_timeout_s=0.5)  # fresh handle: origin not cached
    assert led.append("note", {"text": "after reopen"}, signer) == 1
    assert led.append_many([("note", {"text": f"n{i}"}) for i in range(3)], signer) == [2, 3, 4]
    assert led.checkpoint(signer) == 5
    assert Ledger.open(p, busy_timeout_s=0.5).checkpoint(signer) == 6
    rep = led.verify()
    assert rep.ok and rep.checked == 7 and rep.checkpoints == 2
    assert led.head_witness()[0] == "reopen-test" and led.origin == "reopen-test"


def test_nested_reads_reuse_the_open_connection(tmp_path, signer) -> None:
    p = tmp_path / "l.duckdb"
    Ledger.init(p, signer)
    led = Ledger.open(p, busy_timeout_s=0.2)
    with led._connect(read_only=False):
        assert led.origin == "geno-lewm"  # would wait for itself (LEDGER.BUSY) with a second connection
        assert led.head()[0] == 1
    reader = Ledger.open(p, read_only=True, busy_timeout_s=0.2)
    with reader._connect(read_only=True), pytest.raises(GenoError) as exc:
        led.append("note", {"text": "inside a read"}, signer)
    assert exc.value.code == "LEDGER.NESTED"
    assert led.append("note", {"text": "after"}, signer) == 1 and led.verify().ok


def test_v_events_step_and_run_id_columns(populate, ledger, signer) -> None:
    populate(ledger, signer, n_notes=2)
    _, rows = ledger.sql("SELECT kind, step, run_id FROM v_events ORDER BY seq")
    for kind, step, run_id in rows:
        if kind in schema.STEP_KINDS:
            assert step and run_id
        else:
            assert step is None and run_id is None
    assert ("step_failed", "train", "r2") in rows


def test_stale_views_are_upgraded_by_a_writer(tmp_path, signer) -> None:
    p = tmp_path / "l.duckdb"
    Ledger.init(p, signer)
    _exec(p, "CREATE OR REPLACE VIEW v_events AS SELECT seq, kind FROM events")  # an older view definition
    _exec(p, "UPDATE ledger_meta SET value = '1' WHERE key = 'views_version'")
    ro = Ledger.open(p, read_only=True)
    assert ro.sql("SELECT * FROM v_events")[0] == ["seq", "kind"]  # a read-only handle changes nothing
    led = Ledger.open(p)
    assert "step" in led.sql("SELECT * FROM v_events")[0]
    assert led.sql("SELECT value FROM ledger_meta WHERE key = 'views_version'")[1] == [(schema.VIEWS_VERSION,)]
    assert led.upgrade_views() is False
    _exec(p, "CREATE OR REPLACE VIEW v_events AS SELECT seq, kind FROM events")
    _exec(p, "UPDATE ledger_meta SET value = '1' WHERE key = 'views_version'")
    Ledger(p).append("note", {"text": "a writer upgrades too"}, signer)  # no open(): the append itself upgrades
    assert "run_id" in ro.sql("SELECT * FROM v_events")[0]


def test_check_event_reports_hash_signature_and_key_status(populate, ledger, signer) -> None:
    populate(ledger, signer, n_notes=3)
    size = ledger.head()[0]
    for seq in (0, 1, size - 1):
        check = ledger.check_event(seq)
        assert check.ok and check.hash_ok and check.prev_ok and check.signature_ok and check.key_status == "trusted"
        assert check.key_id == signer.key_id and check.to_dict()["ok"] is True
    with pytest.raises(GenoError) as exc:
        ledger.check_event(size)
    assert exc.value.code == "LEDGER.NO_SUCH_SEQ"

    body = ledger.get(2).body
    assert b"dataset_snapshot" in body
    _exec(ledger.path, "UPDATE events SET body = ? WHERE seq = 2", [body.replace(b"dataset_snapshot", b"dataset_snapshoT")])
    bad = ledger.check_event(2)
    assert not bad.ok and not bad.hash_ok and bad.signature_ok is False and bad.key_status == "trusted"
    assert ledger.check_event(6).ok  # another event's own checks still pass

    sig = ledger.get(7).sig
    _exec(ledger.path, "UPDATE events SET sig = ? WHERE seq = 7", [("0" if sig[0] != "0" else "1") + sig[1:]])
    bad = ledger.check_event(7)
    assert bad.hash_ok and bad.signature_ok is False and not bad.ok

    _exec(ledger.path, "UPDATE events SET prev_hash = ? WHERE seq = 8", ["f" * 64])
    bad = ledger.check_event(8)
    assert not bad.prev_ok and not bad.hash_ok

    _exec(ledger.path, "UPDATE events SET key_id = ? WHERE seq = 9", ["ed25519:" + "a" * 32])
    bad = ledger.check_event(9)
    assert bad.key_status == "unknown" and bad.signature_ok is None and not bad.ok


def test_check_event_flags_a_revoked_signer(tmp_path, signer) -> None:
    led = Ledger.init(tmp_path / "l.duckdb", signer)
    other = Signer.generate()
    led.append("key_registered", {"key_id": other.key_id, "public_key": other.public_key_b64, "label": "b"}, signer)
    led.append("note", {"text": "by b"}, other)
    led.append("key_revoked", {"key_id": other.key_id, "reason": "rotation"}, signer)
    assert led.check_event(2).ok
    # forge a well-formed event by the revoked key straight into the file (the store refuses it)
    size, prev = led.head()
    body = b'{"kind":"note","schema_version":"1.1.0","tags":[],"text":"late"}'
    eid, ts = chain.new_event_id(), chain.now_ts()
    h = chain.event_hash(size, eid, "note", ts, other.key_id, prev, body)
    _exec(
        led.path,
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [size, eid, "note", ts, other.key_id, prev, body, h, other.sign(chain.event_pae(body)).hex()],
    )
    check = led.check_event(size)
    assert check.hash_ok and check.prev_ok and check.signature_ok is True
    assert check.key_status == "revoked" and check.revoked_seq == 3 and not check.ok
    rep = led.verify()
    assert not rep.ok and rep.first_bad_seq == size and rep.code == "LEDGER.KEY_REVOKED"


def test_inclusion_proof_against_checkpoints_and_head(populate, ledger, signer) -> None:
    populate(ledger, signer, n_notes=5)
    cps = ledger.sql("SELECT seq, size, root FROM v_checkpoints ORDER BY seq")[1]
    (cp1_seq, cp1_size, cp1_root), (cp2_seq, cp2_size, cp2_root) = cps
    for seq, (cp_seq, cp_size, cp_root) in ((0, cps[1]), (cp1_size - 1, cps[1]), (cp2_size - 1, cps[1])):
        proof = ledger.inclusion_proof(seq)
        assert (proof.checkpoint_seq, proof.tree_size, proof.root) == (cp_seq, cp_size, cp_root)
        assert proof.event_hash == ledger.get(seq).hash and proof.leaf_index == seq
        merkle.verify_inclusion(
            merkle.leaf_hash(bytes.fromhex(proof.event_hash)), seq, cp_size, [bytes.fromhex(p) for p in proof.proof], bytes.fromhex(cp_root)
        )
    explicit = ledger.inclusion_proof(1, cp1_size)
    assert explicit.checkpoint_seq == cp1_seq and explicit.root == cp1_root
    explicit.verify()
    # events after the last checkpoint are proved against the current head
    ledger.append("note", {"text": "after the checkpoint"}, signer)
    size = ledger.head()[0]
    head_proof = ledger.inclusion_proof(size - 1)
    assert head_proof.checkpoint_seq is None and head_proof.tree_size == size
    leaves = [merkle.leaf_hash(bytes.fromhex(e.hash)) for e in ledger.events()]
    merkle.verify_inclusion(leaves[size - 1], size - 1, size, [bytes.fromhex(p) for p in head_proof.proof], merkle.root(leaves))
    # a proof does not verify against another root
    with pytest.raises(GenoError) as exc:
        merkle.verify_inclusion(leaves[0], 0, cp2_size, [bytes.fromhex(p) for p in ledger.inclusion_proof(0).proof], bytes.fromhex(cp1_root))
    assert exc.value.code == "LEDGER.BAD_PROOF"
    for seq, sz in ((size, None), (3, 3), (0, size + 1)):
        with pytest.raises(GenoError) as exc:
            ledger.inclusion_proof(seq, sz)
        assert exc.value.code == "LEDGER.NO_SUCH_SEQ"


def test_inclusion_proof_refuses_a_rewritten_checkpoint(populate, ledger, signer) -> None:
    populate(ledger, signer, n_notes=2)
    cp_seq, cp_size, root = ledger.sql("SELECT seq, size, root FROM v_checkpoints ORDER BY seq DESC LIMIT 1")[1][0]
    body = ledger.get(cp_seq).body
    _exec(ledger.path, "UPDATE events SET body = ? WHERE seq = ?", [body.replace(root.encode(), b"0" * 64), cp_seq])
    with pytest.raises(GenoError) as exc:
        ledger.inclusion_proof(0)
    assert exc.value.code == "LEDGER.CHECKPOINT_MISMATCH"
    assert not ledger.check_event(cp_seq).hash_ok
