"""Issue 16 regressions for the ledger CLI: hostile --json bodies, damaged files, files that are not ledgers."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import duckdb
import pytest

from ledger import chain
from ledger.cli import main


def _cli(capsys, *argv: str) -> tuple[int, str]:
    rc = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err and rc != 70, err
    return rc, err


@pytest.fixture()
def cli_ledger(tmp_path, capsys) -> tuple[str, str]:
    key, led = str(tmp_path / "k.key"), str(tmp_path / "l.duckdb")
    assert main(["keygen", "--out", key]) == 0
    assert main(["init", "--ledger", led, "--key", key]) == 0
    assert main(["append", "--ledger", led, "--key", key, "--kind", "note", "--json", '{"text": "hello"}']) == 0
    capsys.readouterr()
    return led, key


HOSTILE_BODIES = {
    "5,000-digit integer": '{"text": "x", "n": ' + "1" * 5000 + "}",
    "60,000-deep nesting": "[" * 60000 + "]" * 60000,
    "5,000-deep tags": '{"text": "x", "tags": ' + "[" * 5000 + "]" * 5000 + "}",
    "lone surrogate": '{"text": "\\ud800"}',
    "duplicate keys": '{"text": "a", "text": "b"}',
    "NUL in text": '{"text": "a\\u0000b"}',
    "NUL in a key": '{"te\\u0000xt": "a"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_hostile_json_bodies_are_typed_input_errors_and_append_nothing(name, cli_ledger, capsys) -> None:
    led, key = cli_ledger
    rc, err = _cli(capsys, "append", "--ledger", led, "--key", key, "--kind", "note", "--json", HOSTILE_BODIES[name])
    assert rc == 2 and "error[INPUT.BAD_JSON]" in err, err
    _cli(capsys, "status", "--ledger", led, "--json")
    assert main(["status", "--ledger", led, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["events"] == 2


def test_a_body_that_is_not_utf8_names_its_seq(cli_ledger, capsys) -> None:
    led, _ = cli_ledger
    con = duckdb.connect(led)
    row = con.execute("SELECT seq, event_id, kind, ts, key_id, prev_hash FROM events WHERE seq = 1").fetchone()
    body = b'{"kind":"note","text":"\xff"}'
    con.execute("UPDATE events SET body = ?, hash = ? WHERE seq = 1", [body, chain.event_hash(*row, body)])
    con.close()
    rc, err = _cli(capsys, "verify", "--ledger", led)
    assert rc == 8 and "seq 1" in err and "UTF-8" in err


def test_flipped_bytes_are_ledger_corrupt_naming_the_file(cli_ledger, tmp_path, capsys) -> None:
    led, _ = cli_ledger
    data = Path(led).read_bytes()
    rng = random.Random(16)
    corrupt = 0
    for trial in range(40):
        copy = tmp_path / f"flip{trial}.duckdb"
        raw = bytearray(data)
        raw[rng.randrange(len(raw))] ^= 0xFF
        copy.write_bytes(bytes(raw))
        rc, err = _cli(capsys, "verify", "--ledger", str(copy))
        if rc != 0:
            assert rc == 8 and copy.name in err, err
            assert "LEDGER.IO" not in err and "again" not in err
            corrupt += "LEDGER.CORRUPT" in err
        copy.unlink()
    assert corrupt > 0  # some flips land in checksummed blocks; each of those is named as damage


def test_a_file_that_is_not_a_ledger(capsys) -> None:
    readme = Path(__file__).resolve().parents[2] / "README.md"
    rc, err = _cli(capsys, "verify", "--ledger", str(readme))
    assert rc == 8 and "LEDGER.NOT_A_LEDGER" in err and "not a ledger database" in err


def test_checkpoint_out_naming_a_folder_fails_before_appending(cli_ledger, tmp_path, capsys) -> None:
    led, key = cli_ledger
    rc, err = _cli(capsys, "checkpoint", "--ledger", led, "--key", key, "--out", str(tmp_path))
    assert rc == 4 and "RESOURCE.NOT_WRITABLE" in err
    assert main(["status", "--ledger", led, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["last_checkpoint"] is None


def test_keygen_under_a_file_is_a_resource_error(tmp_path, capsys) -> None:
    (tmp_path / "f").write_text("x")
    rc, err = _cli(capsys, "keygen", "--out", str(tmp_path / "f" / "k"))
    assert rc == 4 and "RESOURCE.NOT_WRITABLE" in err
    shutil.rmtree(tmp_path, ignore_errors=True)
