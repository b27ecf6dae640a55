"""Each release step is declared once; the registry, CLI, step list, docs table and cockpit form agree with it."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from ledger.store import Ledger
from tools import steps_doc
from tools.release import cli
from tools.release.engine.declare import Step
from tools.release.gate.states import load_gates
from tools.release.engine.registry import all_steps, step_flags

ROOT = Path(__file__).resolve().parents[2]


def _release_cli(argv, capsys) -> tuple[int, str, str]:
    rc = cli.main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_steps_json_lists_every_step_with_its_gate_and_typed_flags(capsys):
    rc, out, _ = _release_cli(["steps", "--json"], capsys)
    rows = {r["name"]: r for r in json.loads(out)}
    assert rc == 0 and len(rows) >= 25
    for r in rows.values():
        assert r["purpose"] and r["flags"], r["name"]
        for f in r["flags"]:
            assert set(f) >= {"name", "type", "required", "default", "help"} and f["name"].startswith("--")
    pkg = {f["name"]: f for f in rows["dataset_package"]["flags"]}
    assert pkg["--dataset-dir"]["required"] and pkg["--metadata-json"]["required"] and rows["dataset_package"]["gate"] == "dataset"
    # a derived default reads as what it is derived from; fixed arguments of an alias are not offered again
    assert {f["name"]: f for f in rows["efficiency_report"]["flags"]}["--output"]["default"] == "MODEL_DIR/efficiency_report.json"
    assert "--check-spec" not in {f["name"] for f in rows["dataset_spec_check"]["flags"]}
    assert {f["name"] for f in rows["train"]["flags"]} >= {"--dataset-dir", "--run-dir"}
    assert step_flags("dataset_package") == rows["dataset_package"]["flags"]


def test_declared_gates_match_the_gates_file():
    gate_of = {s: g.name for g in load_gates() for s in g.steps}
    for name, spec in all_steps().items():
        if name in gate_of or spec.gate:
            assert spec.gate == gate_of.get(name), f"{name} declares gate {spec.gate!r}, gates.toml says {gate_of.get(name)!r}"


def test_docs_table_is_generated_from_the_declarations():
    section = steps_doc.current_section(steps_doc.DOC.read_text(encoding="utf-8"))
    assert section is not None, "docs/release-steps.md lacks the generated step table"
    assert section == steps_doc.render(), "docs/release-steps.md is stale: run `python -m tools.steps_doc --write`"


def test_one_shared_entry_point_calls_run_cli():
    callers = []
    for path in sorted((ROOT / "tools" / "release").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", "")) == "run_cli" for n in ast.walk(tree)):
            callers.append(path.name)
    assert len(callers) <= 3, callers


def test_every_step_module_is_its_declaration():
    for name, spec in all_steps().items():
        if isinstance(spec, Step):
            assert spec.module.startswith("tools.release.") and Path(ROOT, *spec.module.split(".")).with_suffix(".py").is_file(), name


def test_eval_report_records_and_no_ledger_says_it_did_not(tmp_path, capsys):
    from tools.release import eval_report

    metrics = tmp_path / "metrics.json"
    metrics.write_text("{}")
    rc = eval_report.main(["--metrics-json", str(metrics), "--output", str(tmp_path / "r.md"), "--workdir", str(tmp_path)])
    assert rc != 0  # an empty metrics JSON is refused ...
    led = Ledger.open(tmp_path / "ledger.duckdb", read_only=True)
    try:
        kinds = [(e.kind, e.data.get("step")) for e in led.events(kinds=["step_started", "step_failed"])]
    finally:
        led.close()
    assert kinds == [("step_started", "eval_report"), ("step_failed", "eval_report")]  # ... and the refusal is recorded
    capsys.readouterr()
    rc = eval_report.main(["--metrics-json", str(metrics), "--output", str(tmp_path / "r.md"), "--workdir", str(tmp_path / "none"), "--no-ledger"])
    err = capsys.readouterr().err
    assert "not recorded" in err and "(run " not in err and not (tmp_path / "none" / "ledger.duckdb").exists()


def test_subcommands_are_the_same_declaration(capsys):
    rc, _, err = _release_cli(["yank", "--model-id", "0" * 64, "--reason", "x", "--no-ledger"], capsys)
    assert rc == 2 and "INPUT.NEEDS_LEDGER" in err
    rc, _, err = _release_cli(["run", "yank", "--model-id", "0" * 64, "--reason", "x", "--no-ledger"], capsys)
    assert rc == 2 and "INPUT.NEEDS_LEDGER" in err


def test_release_metadata_is_decoded_and_errors_name_the_field():
    import pytest

    from geno_lewm.release_metadata import validate_metadata
    from ledger.errors import ConfigError

    with pytest.raises(ConfigError) as exc:
        validate_metadata({"release_id": "geno-lewm-v0.1.0-x-r1", "commit": 7}, "model", "meta.json")
    assert exc.value.code == "CONFIG.MODEL_METADATA" and "$.commit" in exc.value.message and "meta.json" in exc.value.message
    with pytest.raises(ConfigError) as exc:
        validate_metadata({"extra_files": [], "bogus": 1}, "training")
    assert exc.value.code == "CONFIG.TRAINING_METADATA" and "bogus" in exc.value.message
    with pytest.raises(ConfigError) as exc:
        validate_metadata({"snapshot_id": "s"}, "dataset")
    assert exc.value.code == "CONFIG.DATASET_METADATA"


def test_every_declared_step_builds_its_parser_and_help():
    for name, spec in all_steps().items():
        if isinstance(spec, Step):
            text = spec.parser().format_help()
            assert all(f["name"] in text for f in spec.flag_rows()), name
