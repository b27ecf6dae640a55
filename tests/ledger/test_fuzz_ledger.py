"""Fuzz suite (issue 16), ledger side: generated JSON event bodies and CLI argument combinations.

Properties, for every generated input: the command ends with a documented exit code (never 70,
``INTERNAL.UNEXPECTED``), prints no traceback, and a refused append adds no event. Budgets are
fixed (``max_examples``, no deadline) so the module stays within a few seconds on 2 cores; run
with ``-k fuzz``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.cli import main

#: Multiplies every example budget (CI runs 1; `GENO_LEWM_FUZZ_SCALE=10` for a longer local campaign).
SCALE = max(1, int(os.environ.get("GENO_LEWM_FUZZ_SCALE", "1")))
FUZZ = settings(max_examples=50 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], derandomize=True)
DOCUMENTED = {0, 2, 3, 4, 7, 8, 9}


@pytest.fixture(scope="module")
def fuzz_ledger(tmp_path_factory) -> tuple[str, str]:
    d = tmp_path_factory.mktemp("fuzz-ledger")
    key, led = str(d / "k.key"), str(d / "l.duckdb")
    assert main(["keygen", "--out", key]) == 0
    assert main(["init", "--ledger", led, "--key", key]) == 0
    return led, key


def _events(capsys, led: str) -> int:
    capsys.readouterr()
    assert main(["status", "--ledger", led, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["events"]


# Text with the characters that broke parsers before: NUL, surrogates, quotes, backslashes, emoji.
_text = st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x1F600), max_size=20) | st.sampled_from(
    ["\x00", "\ud800", "a\udfffb", '"', "\\", ""]
)
_leaf = st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | _text | st.floats(allow_nan=True)
_json_value = st.recursive(_leaf, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_text, kids, max_size=4), max_leaves=12)


def _raw_json(value) -> str:
    return json.dumps(value, ensure_ascii=True, allow_nan=True)


_bodies = (
    st.builds(
        lambda text, extra: _raw_json({"text": text, **extra}),
        _text,
        st.dictionaries(st.sampled_from(["tags", "x", "schema_version", "kind"]), _json_value, max_size=2),
    )
    | _json_value.map(_raw_json)
    | st.builds(lambda d, tail: "[" * d + tail + "]" * d, st.integers(0, 3000), st.sampled_from(["", "1", '{"a":']))
    | st.builds(lambda a, b: '{"text": "%s", "text": "%s"}' % (a, b), st.sampled_from(["a", "b"]), st.sampled_from(["a", "c"]))
    | st.builds(lambda n: '{"text": "x", "n": ' + "9" * n + "}", st.integers(1, 6000))
    | st.text(max_size=40)
)


@FUZZ
@given(kind=st.sampled_from(["note", "step_started", "genesis", "checkpoint", "bogus", ""]), body=_bodies)
def test_fuzz_append_json_bodies(fuzz_ledger, capsys, kind: str, body: str) -> None:
    led, key = fuzz_ledger
    before = _events(capsys, led)
    rc = main(["append", "--ledger", led, "--key", key, "--kind", kind, "--json", body])
    event(f"exit {rc}")
    err = capsys.readouterr().err
    assert rc in DOCUMENTED and "Traceback" not in err, err
    after = _events(capsys, led)
    assert after == before + (1 if rc == 0 else 0)


_SUBCOMMANDS = ["init", "keygen", "append", "show", "tail", "status", "verify", "replay", "sql", "export", "checkpoint", "prove"]
_FLAGS = [
    "--ledger",
    "--key",
    "--seq",
    "--size",
    "-n",
    "--json",
    "--kind",
    "--out",
    "--parquet",
    "--trusted-keys",
    "--checkpoint",
    "--artifacts",
    "--no-signatures",
    "--busy-timeout",
    "--format",
    "--origin",
    "--event-id",
]


@FUZZ
@given(
    cmd=st.sampled_from(_SUBCOMMANDS),
    tokens=st.lists(
        st.sampled_from(_FLAGS)
        | st.sampled_from(
            [
                "LEDGER",
                "KEY",
                "PUB",
                "DIR",
                "FILE",
                "MISSING",
                "missing-dir/x",
                "-1",
                "0",
                "1",
                "99999999999999999999",
                "note",
                "{}",
                "SELECT 1",
                "nan",
                "",
                "\x00",
            ]
        ),
        max_size=6,
    ),
)
def test_fuzz_ledger_cli_arguments(fuzz_ledger, tmp_path_factory, capsys, cmd: str, tokens: list[str]) -> None:
    led, key = fuzz_ledger
    scratch = tmp_path_factory.mktemp("argv")
    (scratch / "file.txt").write_text("hello\n")
    subst = {"LEDGER": led, "KEY": key, "PUB": key + ".pub", "DIR": str(scratch), "FILE": str(scratch / "file.txt"), "MISSING": str(scratch / "nope")}
    argv = [cmd] + [subst.get(t, t if t != "missing-dir/x" else str(scratch / "missing-dir" / "x")) for t in tokens]
    cwd = os.getcwd()
    os.chdir(scratch)  # anything a command creates by default lands in the scratch folder
    try:
        rc = main(argv)
    finally:
        os.chdir(cwd)
    event(f"exit {rc}")
    err = capsys.readouterr().err
    assert rc in DOCUMENTED and "Traceback" not in err, (argv, err)
    leftovers = [p.name for p in Path(scratch).rglob("*") if ".tmp" in p.name or ".staged" in p.name]
    assert leftovers == []
