"""Crash safety (SIGKILL mid-append), multi-process concurrency, and the busy-writer contract."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ledger.errors import GenoError
from ledger.keys import Signer, keygen
from ledger.lockfile import writer_lock
from ledger.store import Ledger

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import sys, uuid
    from ledger.keys import Signer
    from ledger.store import Ledger
    led = Ledger.open(sys.argv[1], busy_timeout_s=30)
    signer = Signer.load(sys.argv[2])
    n = int(sys.argv[3])
    print("ready", flush=True)
    for i in range(n):
        if i % 3 == 2:
            ids = [str(uuid.uuid4()) for _ in range(5)]
            seqs = led.append_many([("note", {"text": f"batch {i} {j}"}) for j in range(5)], signer, event_ids=ids)
            for eid, seq in zip(ids, seqs):
                print(f"ack {seq} {eid}", flush=True)
        else:
            eid = str(uuid.uuid4())
            seq = led.append("note", {"text": f"single {i}"}, signer, event_id=eid)
            print(f"ack {seq} {eid}", flush=True)
""")


def _child(path: Path, key: Path, n: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(key), str(n)], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)


@pytest.fixture()
def keyed_ledger(tmp_path) -> tuple[Path, Path]:
    key = tmp_path / "k.key"
    keygen(key)
    path = tmp_path / "l.duckdb"
    Ledger.init(path, Signer.load(key))
    return path, key


def test_sigkill_never_loses_acknowledged_events(keyed_ledger) -> None:
    path, key = keyed_ledger
    rng = random.Random(1234)
    acked: dict[int, str] = {}
    for _ in range(10):
        proc = _child(path, key, 10_000)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.35))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        for line in out.splitlines():
            if line.startswith("ack "):
                _, seq, eid = line.split()
                acked[int(seq)] = eid
    led = Ledger.open(path)
    stored = {e.seq: e.event_id for e in led.events()}
    assert acked, "the children never acknowledged anything"
    assert all(stored.get(seq) == eid for seq, eid in acked.items())
    assert sorted(stored) == list(range(len(stored)))
    report = led.verify()
    assert report.ok, report


def test_concurrent_writers_make_one_contiguous_chain(keyed_ledger) -> None:
    path, key = keyed_ledger
    procs = [_child(path, key, 9) for _ in range(4)]
    acked = {}
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        for line in out.splitlines():
            if line.startswith("ack "):
                _, seq, eid = line.split()
                assert int(seq) not in acked
                acked[int(seq)] = eid
    led = Ledger.open(path)
    stored = {e.seq: e.event_id for e in led.events()}
    assert len(acked) == 4 * (6 + 3 * 5)
    assert sorted(stored) == list(range(1 + len(acked)))
    assert all(stored[s] == e for s, e in acked.items())
    assert led.verify().ok


def test_busy_writer_times_out_naming_holder_while_readers_proceed(keyed_ledger) -> None:
    path, key = keyed_ledger
    led = Ledger.open(path, busy_timeout_s=0.3)
    with writer_lock(path, 1.0):
        with pytest.raises(GenoError) as exc:
            led.append("note", {"text": "blocked"}, Signer.load(key))
        assert exc.value.code == "LEDGER.BUSY"
        assert f"pid={os.getpid()}" in exc.value.message
        assert led.head()[0] == 1  # readers are not locked out by a waiting writer
    assert led.append("note", {"text": "now"}, Signer.load(key)) == 1
