"""The fast batched-append path: streamed signing in forked workers, batch hashing, caches.

Each test forces the parallel path on small batches (``MIN_PARALLEL`` lowered) so the forked
workers, the out-of-order chunk delivery and the chunked inserts are exercised in a few ms.
"""

from __future__ import annotations

import uuid

import pytest

from ledger import chain, keys, merkle, parallel
from ledger.errors import LedgerError
from ledger.events import CURRENT_VERSIONS, encode_body, make_event
from ledger.keys import Signer
from ledger.store import Ledger


@pytest.fixture()
def forking(monkeypatch):
    """Fork signing workers for batches of 8+ events, in chunks of 3 signatures, inserts of 5+ rows."""
    from ledger import store

    monkeypatch.setattr(parallel, "MIN_PARALLEL", 8)
    monkeypatch.setattr(keys, "SIGN_CHUNK", 3)
    monkeypatch.setattr(store, "_INSERT_ROWS", 5)
    forks = []
    real_fork = parallel.os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(parallel.os, "fork", fork)
    return forks


def test_event_hashes_match_the_one_event_definition() -> None:
    ids = chain.new_event_ids(20)
    kinds = ["note", "step_passed"] * 10
    bodies = [b'{"kind":"note","text":"%d"}' % i for i in range(20)]
    ts, key_id = chain.now_ts(), "ed25519:" + "a" * 32
    got = chain.event_hashes(7, "b" * 64, ids, kinds, ts, key_id, bodies)
    prev = "b" * 64
    for i in range(20):
        prev = chain.event_hash(7 + i, ids[i], kinds[i], ts, key_id, prev, bodies[i])
        assert got[i] == prev


def test_new_event_ids_are_distinct_v4_uuids() -> None:
    ids = chain.new_event_ids(2000)
    assert len(set(ids)) == 2000
    for text in ids[:200]:
        u = uuid.UUID(text)
        assert str(u) == text and u.version == 4 and u.variant == uuid.RFC_4122 and chain.is_valid_event_id(text)
    assert chain.new_event_ids(0) == []


def test_make_event_fast_path_equals_explicit_version() -> None:
    body = {"text": "x", "tags": ["a"]}
    implicit = make_event("note", body)
    explicit = make_event("note", {**body, "schema_version": CURRENT_VERSIONS["note"]})
    assert encode_body(implicit) == encode_body(explicit)
    assert body == {"text": "x", "tags": ["a"]}  # the caller's dict is not modified
    with pytest.raises(LedgerError) as exc:
        make_event("note", {"text": "x", "bogus": 1})
    assert exc.value.code == "LEDGER.BAD_BODY"


def test_chunk_stream_returns_chunks_in_order_from_workers(forking, signer) -> None:
    bodies = [b"body %d" % i for i in range(50)]
    want = keys.sign_events(signer, bodies, workers=1)
    with keys.stream_event_signatures(signer, bodies, chunk=4, workers=2) as stream:
        assert len(stream._children) == 2  # really forked
        got = []
        for a, b, text in stream:
            part = keys.split_signatures(text)
            assert len(part) == b - a and a == len(got)
            got.extend(part)
    assert got == want == [signer.sign(chain.event_pae(b)).hex() for b in bodies]


def _fail_on_odd(start: int, stop: int) -> int:
    if start % 2:
        raise ValueError(f"chunk {start} failed")
    return start


def test_chunk_stream_reraises_a_worker_error_and_reaps(forking) -> None:
    import os

    with parallel.stream_chunks(_fail_on_odd, None, 40, chunk=5, workers=2) as stream:
        pids = list(stream._children.values())
        assert pids
        with pytest.raises(ValueError, match="chunk 5 failed"):
            list(stream)
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped


def test_map_ranges_runs_a_share_in_the_caller(forking, signer) -> None:
    msgs = [f"m{i}".encode() for i in range(64)]
    assert keys.sign_many(signer, msgs, workers=2) == [signer.sign(m) for m in msgs]


def test_streamed_batch_verifies_and_keeps_every_guarantee(forking, tmp_path, signer) -> None:
    led = Ledger.init(tmp_path / "l.duckdb", signer)
    seqs = led.append_many([("note", {"text": f"n{i}"}) for i in range(40)], signer)
    assert seqs == list(range(1, 41))
    # Mixed batch: known ids (idempotent), a repeated id, fresh ones; chunk boundaries fall between them.
    old = led.get(5)
    ids = [str(uuid.uuid4()) for _ in range(30)]
    items = [("note", {"text": f"m{i}"}) for i in range(30)]
    eids: list[str | None] = list(ids)
    items[3], eids[3] = ("note", {"text": "n4"}), old.event_id  # same body as seq 5: returns 5
    items[17], eids[17] = items[16], ids[16]  # same id twice in the batch: one row
    eids[20] = None
    forking.clear()
    seqs = led.append_many(items, signer, event_ids=eids)
    assert len(forking) == 2  # the batch was signed by forked workers
    assert seqs[3] == 5 and seqs[17] == seqs[16]
    assert sorted(set(seqs) - {5}) == list(range(41, 41 + 28))
    assert led.head()[0] == 69
    rep = led.verify()
    assert rep.ok, rep
    for s in (41, 55, 68):  # signatures are over the exact stored bytes
        ev = led.get(s)
        assert signer._key.public_key().verify(bytes.fromhex(ev.sig), chain.event_pae(ev.body)) is None
    # A conflicting body for a stored id still fails the whole batch.
    with pytest.raises(LedgerError) as exc:
        led.append_many([("note", {"text": f"z{i}"}) for i in range(20)], signer, event_ids=[None] * 19 + [old.event_id])
    assert exc.value.code == "LEDGER.CONFLICT"
    assert led.head()[0] == 69


def test_incremental_checkpoint_root_equals_full_tree(forking, tmp_path, signer) -> None:
    p = tmp_path / "l.duckdb"
    led = Ledger.init(p, signer)
    for r in range(3):
        led.append_many([("note", {"text": f"{r}-{i}"}) for i in range(13)], signer)
        seq = led.checkpoint(signer)
        leaves = [merkle.leaf_hash(bytes.fromhex(h)) for (h,) in led.sql(f"SELECT hash FROM events WHERE seq < {seq} ORDER BY seq")[1]]
        assert led.get(seq).data["root"] == merkle.root(leaves).hex()
    # A different ledger at the same path (the cache must not be reused for it).
    p.unlink()
    led = Ledger.init(p, signer)
    led.append_many([("note", {"text": f"x{i}"}) for i in range(45)], signer)
    seq = led.checkpoint(signer)
    leaves = [merkle.leaf_hash(bytes.fromhex(h)) for (h,) in led.sql(f"SELECT hash FROM events WHERE seq < {seq} ORDER BY seq")[1]]
    assert led.get(seq).data["root"] == merkle.root(leaves).hex()
    assert led.verify().ok


def test_trust_cache_follows_revocation_and_ignores_rolled_back_batches(forking, tmp_path, signer) -> None:
    led = Ledger.init(tmp_path / "l.duckdb", signer)
    other = Signer.generate()
    led.append("key_registered", {"key_id": other.key_id, "public_key": other.public_key_b64, "label": "second"}, signer)
    led.append_many([("note", {"text": f"n{i}"}) for i in range(10)], other)
    # A batch that revokes the signer and then writes with it fails as a whole...
    with pytest.raises(LedgerError) as exc:
        led.append_many([("key_revoked", {"key_id": signer.key_id, "reason": "rotation"})] + [("note", {"text": "after"})] * 9, signer)
    assert exc.value.code == "LEDGER.KEY_REVOKED"
    # ...and leaves the cached trusted set as it was: the signer can still append.
    led.append_many([("note", {"text": f"p{i}"}) for i in range(10)], signer)
    led.append("key_revoked", {"key_id": signer.key_id, "reason": "rotation"}, other)
    with pytest.raises(LedgerError) as exc:
        led.append_many([("note", {"text": f"q{i}"}) for i in range(10)], signer)
    assert exc.value.code == "LEDGER.KEY_REVOKED"
    assert led.verify().ok
