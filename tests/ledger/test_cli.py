"""`geno-lewm-ledger` end to end through its `main` (and one real subprocess for start-up)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import merkle
from ledger.cli import main


@pytest.fixture()
def cli_ledger(tmp_path, capsys) -> tuple[str, str]:
    key, led = str(tmp_path / "k.key"), str(tmp_path / "l.duckdb")
    assert main(["keygen", "--out", key]) == 0
    assert main(["init", "--ledger", led, "--key", key]) == 0
    capsys.readouterr()
    return led, key


def test_append_show_tail_checkpoint_prove(cli_ledger, capsys) -> None:
    led, key = cli_ledger
    for i in range(5):
        assert main(["append", "--ledger", led, "--key", key, "--kind", "note", "--json", json.dumps({"text": f"n{i}"})]) == 0
    assert capsys.readouterr().out.split() == ["1", "2", "3", "4", "5"]
    assert main(["checkpoint", "--ledger", led, "--key", key]) == 0
    cp = json.loads(capsys.readouterr().out)
    assert cp["size"] == 6 and cp["seq"] == 6
    assert main(["show", "--ledger", led, "--seq", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["body"]["text"] == "n2"
    assert main(["tail", "--ledger", led, "-n", "2", "--json"]) == 0
    assert [json.loads(x)["seq"] for x in capsys.readouterr().out.splitlines()] == [5, 6]
    assert main(["prove", "--ledger", led, "--seq", "2", "--size", "6"]) == 0
    proof = json.loads(capsys.readouterr().out)
    assert proof["root"] == cp["root"]
    merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), 2, 6, [bytes.fromhex(p) for p in proof["proof"]], bytes.fromhex(cp["root"]))
    assert main(["verify", "--ledger", led, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert main(["replay", "--ledger", led]) == 0
    assert json.loads(capsys.readouterr().out)["events"] == 7


@pytest.mark.parametrize(
    "argv, code, exit_code",
    [
        (["--kind", "note", "--json", "{not json"], "INPUT.BAD_JSON", 2),
        (["--kind", "note", "--json", "[1]"], "INPUT.BAD_JSON", 2),
        (["--kind", "note", "--json", '{"text": 1.5}'], "LEDGER.BAD_BODY", 8),
        (["--kind", "mystery", "--json", "{}"], "LEDGER.UNKNOWN_KIND", 8),
        (["--kind", "note", "--json", '{"text": "x", "schema_version": "3.0.0"}'], "INPUT.SCHEMA_COMPAT", 2),
    ],
)
def test_append_bad_input(cli_ledger, capsys, argv, code, exit_code) -> None:
    led, key = cli_ledger
    assert main(["append", "--ledger", led, "--key", key, *argv]) == exit_code
    assert f"error[{code}]" in capsys.readouterr().err
    assert main(["status", "--ledger", led, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["events"] == 1


def test_unknown_key_is_refused(cli_ledger, tmp_path, capsys) -> None:
    led, _ = cli_ledger
    other = str(tmp_path / "other.key")
    main(["keygen", "--out", other])
    assert main(["append", "--ledger", led, "--key", other, "--kind", "note", "--json", '{"text": "x"}']) == 8
    assert "error[LEDGER.UNKNOWN_KEY]" in capsys.readouterr().err


def test_sql_formats_and_refusal(cli_ledger, capsys) -> None:
    led, _ = cli_ledger
    assert main(["sql", "--ledger", led, "SELECT seq, kind FROM v_events", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"seq": 0, "kind": "genesis"}]
    assert main(["sql", "--ledger", led, "SELECT seq, kind FROM events", "--format", "csv"]) == 0
    assert capsys.readouterr().out == "seq,kind\n0,genesis\n"
    assert main(["sql", "--ledger", led, "DELETE FROM events"]) == 8
    assert "LEDGER.SQL_REFUSED" in capsys.readouterr().err


def test_default_ledger_is_the_workspace(tmp_path, monkeypatch, capsys) -> None:
    from ledger.workspace import Workspace

    monkeypatch.setenv("GENO_LEWM_WORKSPACE", str(tmp_path / "ws"))
    Workspace().ensure()
    assert main(["append", "--kind", "note", "--json", '{"text": "ws"}']) == 0
    assert main(["status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])["events"] == 2


def test_status_subprocess(cli_ledger) -> None:
    led, _ = cli_ledger
    out = subprocess.run(
        [sys.executable, "-m", "ledger.cli", "status", "--ledger", led], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2]
    )
    assert out.returncode == 0 and "events   1" in out.stdout
