"""The columnar verifier agrees with the row-by-row reference, in one process and over forked workers."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import duckdb
import pytest

from ledger import chain, keys, parallel
from ledger.keys import Signer
from ledger.store import Ledger
from ledger.verify import verify_columns, verify_rows
from tests.ledger.conftest import two_key_ledger

COLUMNS = ["event_id", "kind", "ts", "key_id", "prev_hash", "body", "hash", "sig"]


@pytest.fixture(scope="module")
def base(tmp_path_factory, signer: Signer) -> Path:
    """~40 events: steps, artifacts, checkpoints, a second key that is later revoked."""
    p = tmp_path_factory.mktemp("fast") / "base.duckdb"
    led, other = two_key_ledger(p, signer, label="b", notes=4)
    led.checkpoint(other)
    led.append("key_revoked", {"key_id": other.key_id, "reason": "rotation"}, signer)
    led.append_many([("note", {"text": f"tail {i}"}) for i in range(3)], signer)
    return p


def _both(p: Path, workers: int | None = None) -> tuple[tuple, tuple]:
    led = Ledger.open(p, read_only=True)
    fast, _ = verify_columns(led, workers=workers)
    ref, _ = verify_rows(led.raw_rows(), led.head_witness())
    return (fast.ok, fast.first_bad_seq, fast.code, fast.checked, fast.checkpoints, fast.signatures, fast.head_hash), (
        ref.ok,
        ref.first_bad_seq,
        ref.code,
        ref.checked,
        ref.checkpoints,
        ref.signatures,
        ref.head_hash,
    )


def test_sql_preimage_matches_event_hash(base) -> None:
    con = duckdb.connect(str(base), read_only=True)
    try:
        rows = con.execute(f"SELECT seq, event_id, kind, ts, key_id, prev_hash, body, hash, {chain.EVENT_HASH_PREIMAGE_SQL} FROM events").fetchall()
    finally:
        con.close()
    import hashlib

    for seq, eid, kind, ts, key_id, prev, body, h, pre in rows:
        assert hashlib.sha256(pre).hexdigest() == chain.event_hash(seq, eid, kind, ts, key_id, prev, bytes(body)) == h


@pytest.mark.parametrize("seed", range(24))
def test_fast_path_matches_reference_on_mutations(base, tmp_path, seed) -> None:
    rng = random.Random(1000 + seed)
    p = tmp_path / "t.duckdb"
    shutil.copy(base, p)
    con = duckdb.connect(str(p))
    try:
        n = con.execute("SELECT count(*) FROM events").fetchone()[0]
        k = rng.randrange(n)
        mode = rng.choice(COLUMNS + ["delete", "swap"])
        if mode == "delete":
            con.execute("DELETE FROM events WHERE seq = ?", [k])
        elif mode == "swap":  # two rows trade places in the table (seq stays with its row)
            rows = con.execute("SELECT * FROM events ORDER BY seq").fetchall()
            j = rng.randrange(n)
            rows[k], rows[j] = rows[j], rows[k]
            con.execute("DELETE FROM events")
            con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        else:
            value = con.execute(f"SELECT {mode} FROM events WHERE seq = ?", [k]).fetchone()[0]
            raw = bytearray(value if isinstance(value, bytes) else value.encode())
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(7)
            con.execute(f"UPDATE events SET {mode} = ? WHERE seq = ?", [bytes(raw) if isinstance(value, bytes) else raw.decode("latin-1"), k])
    finally:
        con.close()
    fast, ref = _both(p)
    assert fast == ref, (mode, k)


@pytest.mark.parametrize("workers, align_bits", [(2, 2), (3, 0), (2, 3)])
def test_forked_workers_give_the_same_report(base, tmp_path, monkeypatch, workers, align_bits) -> None:
    from ledger import verify

    monkeypatch.setattr(parallel, "MIN_PARALLEL", 4)
    monkeypatch.setattr(verify, "_ALIGN_BITS", align_bits)  # small ranges: Merkle levels merged across workers
    assert parallel.workers_for(40, workers) == workers
    fast, ref = _both(base, workers=workers)
    assert fast == ref and fast[0] is True and fast[4] == 3
    p = tmp_path / "t.duckdb"
    shutil.copy(base, p)
    con = duckdb.connect(str(p))
    con.execute("UPDATE events SET sig = ? WHERE seq = 30", ["00" * 64])
    con.close()
    fast, ref = _both(p, workers=workers)
    assert fast == ref and fast[1] == 30 and fast[2] == "LEDGER.BAD_SIGNATURE"
    con = duckdb.connect(str(p))
    con.execute("UPDATE events SET hash = ? WHERE seq = 25", ["f" * 64])
    con.close()
    fast, ref = _both(p, workers=workers)
    assert fast == ref and fast[1] == 25


def test_sign_many_over_workers_matches_one_process(signer, monkeypatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 4)
    msgs = [f"m{i}".encode() for i in range(40)]
    assert keys.sign_many(signer, msgs, workers=2) == keys.sign_many(signer, msgs, workers=1) == [signer.sign(m) for m in msgs]


def test_no_fork_while_other_threads_run():
    import threading

    from ledger.parallel import MIN_PARALLEL, workers_for

    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert workers_for(MIN_PARALLEL * 8, workers=2) == 1
    finally:
        stop.set()
        t.join()
    assert workers_for(MIN_PARALLEL * 8, workers=2) == 2
