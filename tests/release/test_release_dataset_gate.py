"""The dataset gate end to end: snapshot → package → integrity → passed → edit a byte → stale → replay fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.errors import ConfigError, InputError, ProvenanceError
from tools.release import cli
from tools.release.dataset.packaging import verify_dataset
from tools.release.gate.replay import replay
from tools.release.gate.status import gate_states

ROOT = Path(__file__).resolve().parents[2]


def _state(wd: Path, name: str):
    return next(g for g in gate_states(wd) if g.name == name)


def test_dataset_gate_passes_and_everything_is_recorded(dataset_workdir):
    g = _state(dataset_workdir, "dataset")
    assert g.state == "passed", g
    assert g.glyph == "✓" and g.word == "passed"
    assert _state(dataset_workdir, "training").state == "pending"
    assert _state(dataset_workdir, "evaluation").state == "blocked"
    pkg = verify_dataset(dataset_workdir / "dataset")
    assert pkg["generated_by"] == "tools.release.dataset_package" and pkg["demo_snapshot"] is True
    report = replay(dataset_workdir / "ledger.duckdb")
    assert report.ok, report.problems


def test_split_integrity_has_leakage_evidence_and_class_balance(dataset_workdir):
    doc = json.loads((dataset_workdir / "dataset" / "split_integrity.json").read_text())
    assert doc["generated_by"] == "tools.release.dataset_integrity"
    assert doc["leakage"]["comparable_keys"] == "contig:pos:ref:alt" and doc["leakage"]["shared_key_count"] == 0
    vcf_labels = [
        line.split("LABEL=")[1].split(";")[0]
        for line in (ROOT / "examples" / "mt_known_variants.vcf").read_text().splitlines()
        if "LABEL=" in line and not line.startswith("#")
    ]
    total = {c: sum(s["class_balance"].get(c, 0) for s in doc["splits"].values()) for c in ("benign", "pathogenic")}
    assert total == {"benign": vcf_labels.count("benign"), "pathogenic": vcf_labels.count("pathogenic")}
    card = (dataset_workdir / "dataset" / "data_card.md").read_text()
    for name, s in doc["splits"].items():
        assert f"| {name} | {s['n_variants']} | {s['class_balance']['benign']} | {s['class_balance']['pathogenic']} |" in card


def test_edited_byte_turns_gate_stale_and_replay_fails(dataset_workdir):
    card = dataset_workdir / "dataset" / "data_card.md"
    card.write_text(card.read_text().replace("Demo", "Demx", 1))
    g = _state(dataset_workdir, "dataset")
    assert g.state == "stale"
    assert any("dataset/data_card.md" in a for a in g.stale_artifacts)
    assert _state(dataset_workdir, "training").state == "blocked"
    report = replay(dataset_workdir / "ledger.duckdb")
    assert not report.ok
    assert any("data_card.md" in p["message"] for p in report.problems)
    rc = cli.main(["replay", "--ledger", str(dataset_workdir / "ledger.duckdb")])
    assert rc == 7
    with pytest.raises(ProvenanceError) as exc:
        verify_dataset(dataset_workdir / "dataset")
    assert "data_card.md" in exc.value.message


def test_rerunning_package_reproduces_identical_bytes(dataset_workdir):
    d = dataset_workdir / "dataset"
    before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    rc = cli.main(["run", "--workdir", str(dataset_workdir), "dataset_package", "--dataset-dir", str(d), "--metadata-json", str(d / "dataset_metadata.json")])
    assert rc == 0
    after = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    assert before == after
    assert _state(dataset_workdir, "dataset").state == "passed"


def test_failed_step_is_recorded_with_its_code_and_gate_fails(dataset_workdir):
    d = dataset_workdir / "dataset"
    rc = cli.main(["run", "--workdir", str(dataset_workdir), "dataset_package", "--dataset-dir", str(d), "--metadata-json", str(d / "missing.json")])
    assert rc == 2
    g = _state(dataset_workdir, "dataset")
    assert g.state == "failed" and "INPUT.MISSING_FILE" in g.reason
    from ledger.store import Ledger

    ledger = Ledger.open(dataset_workdir / "ledger.duckdb", read_only=True)
    _, rows = ledger.sql("SELECT name, status FROM v_gates")
    assert dict(rows)["dataset"] == "failed"


def test_status_json_and_no_torch_import(dataset_workdir):
    code = (
        "import sys, json; from tools.release.cli import main; rc = main(['status', '--json', '--workdir', sys.argv[1]]); "
        "print(json.dumps({'rc': rc, 'heavy': [m for m in ('torch', 'transformers', 'textual') if m in sys.modules]}))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(dataset_workdir)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    lines = out.stdout.strip().splitlines()
    tail = json.loads(lines[-1])
    assert tail == {"rc": 0, "heavy": []}
    doc = json.loads("\n".join(lines[:-1]))
    states = {g["name"]: g["state"] for g in doc["gates"]}
    assert states["dataset"] == "passed"
    assert {"gate": "training", "state": "pending", "issue_refs": ["#164"]}.items() <= next(b for b in doc["blockers"] if b["gate"] == "training").items()


def test_snapshot_refuses_existing_dir_and_mismatched_inputs(dataset_workdir, tmp_path):
    from tools.release.dataset.snapshot import build_snapshot, check_inputs, load_spec

    spec = dataset_workdir / "specs" / "dataset-snapshot-snv.json"
    with pytest.raises(InputError) as exc:
        build_snapshot(spec, dataset_workdir / "upstream", dataset_workdir / "dataset")
    assert exc.value.code == "INPUT.OUTPUT_EXISTS"
    staged = tmp_path / "up" / "examples"
    staged.mkdir(parents=True)
    for f in (dataset_workdir / "upstream" / "examples").iterdir():
        staged.joinpath(f.name).write_bytes(f.read_bytes())
    vcf = staged / "mt_known_variants.vcf"
    vcf.write_text(vcf.read_text().replace("LABEL=benign;NOTE=common_rCRS_private_allele", "LABEL=pathogenic;NOTE=x", 1))
    s, ident = load_spec(spec)
    with pytest.raises(ProvenanceError) as exc:
        check_inputs(s, ident, tmp_path / "up")
    assert exc.value.code == "PROVENANCE.INPUT_MISMATCH"
    out = tmp_path / "ds"
    with pytest.raises(ProvenanceError):
        build_snapshot(spec, tmp_path / "up", out)
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".ds")]


def test_bad_spec_is_a_typed_config_error(tmp_path):
    from tools.release.dataset.spec import validate_spec

    spec = json.loads((ROOT / "configs" / "first_experiment" / "dataset-snapshot-snv.json").read_text())
    validate_spec(spec)
    for mutate in (
        lambda s: s["sources"][0].update(path="/home/me/rCRS.fa"),
        lambda s: s["sources"][0].update(sha256="xyz"),
        lambda s: s["split"]["regions"]["eval"][0].update(start=7000),
        lambda s: s.update(extra=1),
    ):
        bad = json.loads(json.dumps(spec))
        mutate(bad)
        with pytest.raises(ConfigError):
            validate_spec(bad)


def test_committed_spec_matches_the_bundled_examples():
    import hashlib

    spec = json.loads((ROOT / "configs" / "first_experiment" / "dataset-snapshot-snv.json").read_text())
    assert spec["demo_snapshot"] is True and "not a benchmark" in spec["claim_boundary"]
    for src in spec["sources"]:
        data = (ROOT / src["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == src["sha256"] and len(data) == src["size"]
    rc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.release.dataset_snapshot",
            "--spec-json",
            "configs/first_experiment/dataset-snapshot-snv.json",
            "--check-spec",
            "--no-ledger",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rc.returncode == 0, rc.stderr
