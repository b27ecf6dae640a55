"""The error model: stable codes, documented exit codes, `error[CODE]` + hint, no traceback."""

from __future__ import annotations

import os
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


_EXIT_SCRIPT = """
import atexit, sys, threading, time
from ledger.clikit import command, exit_at_once

out = sys.argv[1]


class Witness:
    def __init__(self, path):
        self.path = path

    def __del__(self, open=open):  # runs only when the interpreter tears down its modules
        with open(self.path, "w") as fh:
            fh.write("ran")


witness = Witness(out + ".teardown")


def _main(argv):
    atexit.register(lambda: open(out + ".atexit", "w").write("ran"))
    if "--thread" in argv:
        threading.Thread(target=lambda: (time.sleep(0.3), open(out + ".thread", "w").write("done"))).start()
    sys.stdout.write("no newline at the end")
    return 3


main = exit_at_once(command(_main, "a test command"))
sys.exit(main())
"""


@pytest.mark.parametrize("thread", [False, True])
def test_exit_at_once_keeps_code_output_and_exit_handlers_and_skips_teardown(tmp_path, thread):
    """A console run of an ``exit_at_once`` command leaves without interpreter teardown, losing nothing.

    Its code, its unflushed stdout and its ``atexit`` handlers survive; module teardown does not run.
    With a non-daemon thread still working it exits normally, so the thread finishes.
    """
    script = tmp_path / "cmd.py"
    script.write_text(_EXIT_SCRIPT)
    out = tmp_path / "o"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, str(script), str(out), *(["--thread"] if thread else [])], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "no newline at the end"
    assert Path(f"{out}.atexit").read_text() == "ran"
    assert Path(f"{out}.teardown").exists() is thread  # skipped, unless a thread made it exit normally
    assert Path(f"{out}.thread").exists() is thread


def test_exit_at_once_returns_when_given_argv():
    """Called with an argument list (tests, the release tools), the command returns its code."""
    from ledger.clikit import command, exit_at_once

    assert exit_at_once(command(lambda argv: 4, "doc"))(["x"]) == 4
