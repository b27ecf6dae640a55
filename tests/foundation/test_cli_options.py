"""The shared CLI vocabulary: a common flag reads the same in every command, and commands end by one output contract."""

from __future__ import annotations

import importlib
import json

import pytest

from geno_lewm.cli.options import FLAGS, add_flags
from ledger.clikit import ArgumentParser, finish

#: The two scoring commands (model and Carbon baseline): their common flags come from geno_lewm.cli.options unchanged.
COMMANDS = ("geno_lewm.cli.score", "geno_lewm.cli.carbon_baseline")


def test_add_flags_applies_overrides_and_states_the_default():
    p = ArgumentParser(prog="x")
    add_flags(p, "--model-dir", "--fasta", required=True)
    add_flags(p, "--batch-size", default=32)
    args = p.parse_args(["--model-dir", "m", "--fasta", "f.fa"])
    assert (args.model_dir, args.fasta, args.batch_size) == ("m", "f.fa", 32)
    with pytest.raises(Exception, match="--fasta"):
        p.parse_args(["--model-dir", "m"])
    helps = {a.dest: a.help for a in p._actions}
    assert helps["batch_size"] == f"{FLAGS['--batch-size']['help']} (default 32)"
    assert helps["fasta"] == FLAGS["--fasta"]["help"]


def test_an_unknown_common_flag_is_refused():
    with pytest.raises(KeyError, match="--nope"):
        add_flags(ArgumentParser(prog="x"), "--nope")


@pytest.mark.parametrize("name", ["--vcf", "--fasta", "--region", "--output-scores", "--json"])
def test_the_scoring_commands_describe_a_common_flag_the_same_way(name):
    helps = {module: {a.help for a in importlib.import_module(module).build_parser()._actions if name in a.option_strings} for module in COMMANDS}
    assert helps == {module: {FLAGS[name]["help"]} for module in COMMANDS}


def test_finish_prints_the_note_on_stderr_and_json_on_stdout(capsys):
    assert finish({"b": 1, "a": [2]}, as_json=True, note="done", code=9) == 9
    out = capsys.readouterr()
    assert out.err == "done\n"
    assert json.loads(out.out) == {"a": [2], "b": 1} and out.out.index('"a"') < out.out.index('"b"')
    assert finish({"a": 1}, as_json=False) == 0
    assert capsys.readouterr().out == ""
