"""The error model: stable codes, documented exit codes, `error[CODE]` + hint, no traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.clikit import ArgumentParser, run_cli
from ledger.errors import EXIT_CODES, EXIT_INTERRUPTED, GenoError, InputError, LedgerError

ROOT = Path(__file__).resolve().parents[2]


def test_exit_codes_are_distinct_per_family_and_documented():
    codes = list(EXIT_CODES.values())
    assert len(set(codes)) == len(codes)
    assert 0 not in codes and EXIT_INTERRUPTED not in codes
    doc = (ROOT / "docs" / "errors.md").read_text()
    for family, code in EXIT_CODES.items():
        assert re.search(rf"\|\s*`{family}\.\*`\s*\|\s*{code}\s*\|", doc), f"{family} exit code {code} not in docs/errors.md"
    assert "130" in doc


def test_invalid_codes_are_refused():
    with pytest.raises(ValueError):
        GenoError("NOPE.X", "bad family")
    with pytest.raises(ValueError):
        GenoError("INPUT", "no name")


def _run(main, argv, capsys):
    code = run_cli(main, argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_typed_error_renders_code_message_hint_and_family_exit(capsys):
    def main(argv):
        raise LedgerError("BUSY", "held by pid 7", "wait and retry")

    code, out, err = _run(main, [], capsys)
    assert code == EXIT_CODES["LEDGER"]
    assert err.strip() == "error[LEDGER.BUSY]: held by pid 7\n\nhint: wait and retry"
    assert out == ""


def test_unexpected_exception_is_internal_without_traceback(capsys):
    def main(argv):
        raise RuntimeError("boom")

    code, _, err = _run(main, [], capsys)
    assert code == EXIT_CODES["INTERNAL"]
    assert err.startswith("error[INTERNAL.UNEXPECTED]: RuntimeError: boom")
    assert "Traceback" not in err


def test_debug_flag_shows_traceback(capsys):
    def main(argv):
        raise InputError("BAD", "x")

    code, _, err = _run(main, ["--debug"], capsys)
    assert code == EXIT_CODES["INPUT"]
    assert "Traceback" in err and "error[INPUT.BAD]" in err


def test_ctrl_c_exits_130(capsys):
    def main(argv):
        raise KeyboardInterrupt

    code, _, _ = _run(main, [], capsys)
    assert code == 130


def test_usage_errors_become_input_usage(capsys):
    def main(argv):
        parser = ArgumentParser(prog="demo")
        parser.add_argument("--n", type=int, required=True)
        parser.parse_args(argv)
        return 0

    code, _, err = _run(main, ["--n", "x"], capsys)
    assert code == EXIT_CODES["INPUT"]
    assert err.startswith("error[INPUT.USAGE]: demo:")
    assert "hint: run `demo --help`" in err


def test_console_script_reports_usage_error_without_traceback():
    exe = Path(sys.executable).parent / "geno-lewm"
    proc = subprocess.run([str(exe), "--no-such-flag"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == EXIT_CODES["INPUT"]
    assert proc.stderr.startswith("error[INPUT.USAGE]")
    assert "Traceback" not in proc.stderr
    ok = subprocess.run([str(exe), "version"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.strip()
