"""``tools.release.engine.forms.form_flags``: each step's flags from its own parser, with the rehearsal's values."""

from __future__ import annotations

import sys

from tools.release.engine.forms import flag_values, form_flags, step_parser
from tools.release.engine.registry import STEPS


def test_flags_come_from_the_parser_with_rehearsal_values(tmp_path):
    flags = {f.name: f for f in form_flags("dataset_package", tmp_path)}
    assert set(flags) == {"--dataset-dir", "--metadata-json"}  # workspace flags are the runner's
    assert flags["--dataset-dir"].required and flags["--dataset-dir"].is_path
    assert flags["--dataset-dir"].suggested == "dataset"
    assert flags["--metadata-json"].suggested == "dataset/dataset_metadata.json"
    assert flags["--dataset-dir"].help


def test_mode_flags_of_sibling_steps_are_left_out_and_types_kept(tmp_path):
    names = {f.name for f in form_flags("dataset_spec_check", tmp_path)}
    assert "--check-spec" not in names and "--check-inputs" not in names and "--spec-json" in names
    cal = {f.name: f for f in form_flags("calibrate", tmp_path)}
    assert cal["--n-null"].type == "int" and cal["--n-null"].default and cal["--n-null"].suggested == "300"
    # command steps keep their own --artifact-root; it is theirs, not the workspace's
    assert "--artifact-root" in {f.name for f in form_flags("eval_all", tmp_path)}


def test_repeated_flags_round_trip_to_argv(tmp_path):
    f = {f.name: f for f in form_flags("eval_all", tmp_path)}["--metrics-json"]
    assert f.kind == "multi" and f.repeat
    assert f.argv(["a.json", "b.json"]) == ["--metrics-json", "a.json", "--metrics-json", "b.json"]
    switch = {f.name: f for f in form_flags("eval_all", tmp_path)}["--stand-in"]
    assert switch.kind == "switch" and switch.suggested == "yes" and switch.argv(["yes"]) == ["--stand-in"] and switch.argv(["no"]) == []


def test_every_available_step_lists_its_flags_without_running_or_importing_torch(tmp_path):
    torch_before = "torch" in sys.modules
    for name, spec in STEPS.items():
        if spec.available():
            assert isinstance(form_flags(name, tmp_path), list), name
    assert not list(tmp_path.iterdir())  # nothing ran: no workspace, no output
    if not torch_before:
        assert "torch" not in sys.modules


def test_the_form_reads_the_declaration_the_step_parses_with():
    """Every declared flag is in the parser the form reads; the form invents none and shows every required one."""
    for name, spec in STEPS.items():
        if not spec.available():
            continue
        options = {o for a in step_parser(name)._actions for o in a.option_strings}  # noqa: SLF001
        declared = {row["name"] for row in spec.flag_rows()}
        assert declared <= options, (name, declared - options)
        form = {f.name for f in form_flags(name)}
        required = {row["name"] for row in spec.flag_rows() if row["required"]}
        assert form <= options and required <= form, name


def test_flag_values_makes_workspace_paths_relative(tmp_path):
    got = flag_values(["python", "-m", "x", "--a", str(tmp_path / "d"), "--b", "--c=rel", "--d", "/elsewhere"], tmp_path)
    assert got == {"--a": ["d"], "--b": [], "--c": ["rel"], "--d": ["/elsewhere"]}
