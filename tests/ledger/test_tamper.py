"""Tampering with the DuckDB file is detected by verify, which names the first bad seq."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import duckdb
import pytest

from ledger.cli import main
from ledger.keys import Signer
from ledger.store import Ledger
from tests.ledger.conftest import two_key_ledger

N_MUTATIONS = 60


@pytest.fixture(scope="module")
def base(tmp_path_factory, signer: Signer) -> tuple[Path, int]:
    """A ledger of ~30 events with checkpoints and a key rotation; (path, size)."""
    p = tmp_path_factory.mktemp("tamper") / "base.duckdb"
    led, _ = two_key_ledger(p, signer, label="second", notes=5)
    assert led.verify().ok
    return p, led.head()[0]


def _rows(p: Path) -> list[tuple]:
    con = duckdb.connect(str(p))
    try:
        return con.execute("SELECT seq, event_id, kind, ts, key_id, prev_hash, body, hash, sig FROM events ORDER BY seq").fetchall()
    finally:
        con.close()


def _rewrite(p: Path, rows: list[tuple]) -> None:
    con = duckdb.connect(str(p))
    try:
        con.execute("BEGIN")
        con.execute("DELETE FROM events")
        con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("COMMIT")
    finally:
        con.close()


def _flip_byte(value, rng: random.Random):
    raw = bytearray(value if isinstance(value, bytes) else value.encode())
    i = rng.randrange(len(raw))
    old = raw[i]
    while raw[i] == old:
        raw[i] = rng.randrange(256) if isinstance(value, bytes) else ord(rng.choice("0123456789abcdef"))
    return bytes(raw) if isinstance(value, bytes) else raw.decode()


COLUMN = {"prev_hash": 5, "body": 6, "hash": 7, "sig": 8, "ts": 3, "key_id": 4, "kind": 2, "event_id": 1}


def _mutate(rows: list[tuple], rng: random.Random, mode: str) -> tuple[list[tuple], int]:
    rows = [list(r) for r in rows]
    n = len(rows)
    if mode in COLUMN:
        k = rng.randrange(n)
        rows[k][COLUMN[mode]] = _flip_byte(rows[k][COLUMN[mode]], rng)
        return [tuple(r) for r in rows], k
    if mode == "delete":
        k = rng.randrange(n)
        del rows[k]
        return [tuple(r) for r in rows], k
    if mode == "reorder":
        a, b = sorted(rng.sample(range(n), 2))
        rows[a][0], rows[b][0] = rows[b][0], rows[a][0]
        return [tuple(r) for r in rows], a
    if mode == "truncate":
        k = rng.randrange(1, n)
        return [tuple(r) for r in rows[:k]], k
    raise AssertionError(mode)


MODES = ["body", "hash", "sig", "prev_hash", "ts", "key_id", "kind", "event_id", "delete", "reorder", "truncate"]


@pytest.mark.parametrize("seed", range(N_MUTATIONS))
def test_single_mutation_is_detected_at_its_seq(base, tmp_path, seed: int) -> None:
    src, size = base
    rng = random.Random(seed)
    mode = MODES[seed % len(MODES)]
    p = tmp_path / "t.duckdb"
    shutil.copy(src, p)
    rows, bad = _mutate(_rows(p), rng, mode)
    _rewrite(p, rows)
    report = Ledger.open(p).verify()
    assert not report.ok, (mode, bad)
    assert report.first_bad_seq == bad, (mode, report)
    assert report.code and report.reason


def test_rewriting_history_before_a_checkpoint_needs_the_key(base, tmp_path) -> None:
    """Re-chaining after editing an early body (hashes recomputed, but no key) fails at that body's signature."""
    from ledger import chain

    src, _ = base
    p = tmp_path / "t.duckdb"
    shutil.copy(src, p)
    rows = [list(r) for r in _rows(p)]
    rows[2][6] = rows[2][6].replace(b"dataset_snapshot", b"dataset_snapshoX")
    prev = rows[1][7]
    for r in rows[2:]:
        r[5] = prev
        r[7] = chain.event_hash(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]))
        prev = r[7]
    _rewrite(p, [tuple(r) for r in rows])
    report = Ledger.open(p).verify()
    assert not report.ok and report.first_bad_seq == 2


def test_cli_verify_names_first_bad_seq(base, tmp_path, capsys) -> None:
    import json

    src, _ = base
    p = tmp_path / "t.duckdb"
    shutil.copy(src, p)
    rows = _rows(p)
    rows[4] = rows[4][:8] + ("00" * 64,)
    _rewrite(p, rows)
    assert main(["verify", "--ledger", str(p), "--json"]) == 8
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["first_bad_seq"] == 4 and out["code"] == "LEDGER.BAD_SIGNATURE"
    assert main(["verify", "--ledger", str(shutil.copy(src, tmp_path / "ok.duckdb"))]) == 0
