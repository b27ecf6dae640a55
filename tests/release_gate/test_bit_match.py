"""INV-REL-2: the gate re-scores the committed model package byte for byte, a one-digit change fails it
naming the variant and field, and training is bit-reproducible on one machine with one thread count
(a weaker property the gate never depends on)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.release_gate.conftest import ROOT

BASELINE = ROOT / "tests" / "baselines" / "bit_match"


def _files(model: Path) -> dict[str, bytes]:
    return {p.relative_to(model).as_posix(): p.read_bytes() for p in sorted(model.rglob("*")) if p.is_file()}


def test_training_rebuilds_the_same_package_twice_on_this_machine_with_the_same_thread_count(tmp_path):
    """Same machine, same thread count (the recipe pins one): two builds give the same bytes.

    Compares two builds made here, never a build with the committed package, so it cannot fail
    because of which machine committed a file.
    """
    import torch

    from tools.release.gate.bit_match_model import build_baseline_model

    first = tmp_path / "first"
    first_id = build_baseline_model(first)
    other_threads = 1 if torch.get_num_threads() > 1 else 2
    code = (
        "import sys, torch; torch.set_num_threads(int(sys.argv[2]));"
        "from tools.release.gate.bit_match_model import build_baseline_model;"
        "print(build_baseline_model(sys.argv[1]), torch.get_num_threads())"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "second"), str(other_threads)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    second_id, threads_after = proc.stdout.split()
    assert int(threads_after) == other_threads  # the build restores the caller's thread count
    assert second_id == first_id
    mine, theirs = _files(first), _files(tmp_path / "second")
    listed = {a["path"] for a in json.loads((first / "manifest.json").read_text())["artifacts"]} | {"manifest.json"}
    for name in sorted(listed):
        assert mine[name] == theirs[name], f"{name} differs between the two builds"


def test_the_committed_package_is_the_baselines_model_and_verifies():
    from geno_lewm.package import model_id_of, verify_package

    meta = json.loads((BASELINE / "baseline.json").read_text())
    verify_package(BASELINE / "model")
    assert model_id_of(BASELINE / "model") == meta["model"]["model_id"]
    assert meta["numerical_contract"]["numerics"] == "reproducible"


def _bump_last_digit(text: str) -> str:
    return text[:-1] + str((int(text[-1]) + 1) % 10)


def _project_copy(tmp_path: Path) -> Path:
    """A minimal project root: the fixed inputs and a copy of the baseline folder."""
    root = tmp_path / "proj"
    (root / "examples").mkdir(parents=True)
    for name in ("mt_known_variants.vcf", "rCRS_chrM.fa"):
        shutil.copyfile(ROOT / "examples" / name, root / "examples" / name)
    shutil.copytree(BASELINE, root / "tests" / "baselines" / "bit_match")
    return root


def test_a_one_digit_score_difference_fails_the_gate_naming_the_variant(tmp_path):
    """The baseline says one digit more than re-scoring gives: the gate fails, naming variant and field."""
    from ledger.canonical import sha256_hex
    from ledger.store import Ledger
    from tools.release.engine.context import ReleaseContext
    from tools.release.gate_check import gate_check

    root = _project_copy(tmp_path)
    bdir = root / "tests" / "baselines" / "bit_match"
    lines = (bdir / "scores.jsonl").read_text().splitlines(keepends=True)
    idx, target = next((i, json.loads(line)) for i, line in enumerate(lines) if i >= 3 and json.loads(line)["score"] is not None)
    token = json.dumps(target["score"])
    lines[idx] = lines[idx].replace(f'"score":{token}', f'"score":{_bump_last_digit(token)}')
    data = "".join(lines).encode()
    (bdir / "scores.jsonl").write_bytes(data)
    meta = json.loads((bdir / "baseline.json").read_text())
    meta["files"]["scores.jsonl"]["sha256"] = sha256_hex(data)
    (bdir / "baseline.json").write_text(json.dumps(meta))

    ctx = ReleaseContext.for_workdir(tmp_path / "w", log=lambda line: None)
    verdicts = gate_check(ctx, root, skip=("INV-REL-1", "INV-REL-3", "INV-REL-5", "INV-REL-6"))
    ctx.close()
    (v,) = verdicts
    assert v.invariant == "INV-REL-2" and not v.ok and v.code == "RELEASE.BIT_MATCH"
    assert f"chrM:{target['pos']}:{target['ref']}>{target['alt']}" in v.message
    assert "field score" in v.message
    led = Ledger.open(tmp_path / "w" / "ledger.duckdb", read_only=True)
    failed = [e.data for e in led.events(kinds=["step_failed"])]
    led.close()
    assert failed and failed[-1]["step"] == "inv_rel_2" and failed[-1]["code"] == "RELEASE.BIT_MATCH"


def test_update_baseline_is_its_own_recorded_step_and_reproduces_the_committed_bytes(baseline_model, tmp_path):
    from ledger.store import Ledger
    from tools.release.bit_match_baseline import main
    from tools.release.gate.bit_match import UPDATE_STEP

    bdir = tmp_path / "w" / "baseline"
    rc = main(
        ["--update-baseline", "--model-dir", str(baseline_model), "--baseline-dir", str(bdir), "--workdir", str(tmp_path / "w"), "--project-root", str(ROOT)]
    )
    assert rc == 0
    led = Ledger.open(tmp_path / "w" / "ledger.duckdb", read_only=True)
    steps = [(e.kind, e.data.get("step"), e.data.get("path")) for e in led.events(kinds=["step_passed", "artifact_recorded"])]
    led.close()
    assert ("step_passed", UPDATE_STEP, None) in steps
    assert {p for k, s, p in steps if k == "artifact_recorded" and s == UPDATE_STEP} >= {
        "baseline/baseline.json",
        "baseline/scores.jsonl",
        "baseline/output_commitments.jsonl",
        "baseline/model/manifest.json",
    }
    assert (bdir / "scores.jsonl").read_bytes() == (BASELINE / "scores.jsonl").read_bytes()
    assert (bdir / "output_commitments.jsonl").read_bytes() == (BASELINE / "output_commitments.jsonl").read_bytes()
    assert _files(bdir / "model") == _files(BASELINE / "model")


def test_a_hand_edited_baseline_or_a_different_model_is_refused(baseline_model, tmp_path):
    from ledger.errors import GenoError, ReleaseError
    from tools.release.gate.bit_match import check_bit_match

    bdir = tmp_path / "b"
    shutil.copytree(BASELINE, bdir)
    text = (bdir / "scores.jsonl").read_text()
    (bdir / "scores.jsonl").write_text(text.replace('"stand_in":true', '"stand_in":false', 1))
    with pytest.raises(ReleaseError) as err:
        check_bit_match(ROOT, baseline_dir=bdir)
    assert err.value.code == "RELEASE.BASELINE_CORRUPT"
    meta = json.loads((BASELINE / "baseline.json").read_text())
    meta["model"]["model_id"] = "0" * 64
    shutil.copyfile(BASELINE / "scores.jsonl", bdir / "scores.jsonl")
    (bdir / "baseline.json").write_text(json.dumps(meta))
    with pytest.raises(ReleaseError) as err:
        check_bit_match(ROOT, model_dir=baseline_model, baseline_dir=bdir)
    assert err.value.code == "RELEASE.BIT_MATCH_MODEL"
    shutil.copyfile(BASELINE / "baseline.json", bdir / "baseline.json")
    weights = bdir / "model" / "predictor.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[-1] ^= 1
    weights.write_bytes(bytes(blob))
    with pytest.raises(GenoError) as err:  # a changed weight byte is caught before any scoring
        check_bit_match(ROOT, baseline_dir=bdir)
    assert err.value.code.startswith("PROVENANCE.")


def test_first_difference_names_row_count_and_commitment_changes():
    from tools.release.gate.bit_match import Rescored, first_difference

    base = Rescored("m", (BASELINE / "scores.jsonl").read_bytes(), (BASELINE / "output_commitments.jsonl").read_bytes())
    assert first_difference(base, base) is None
    lines = base.scores.splitlines(keepends=True)
    shorter = Rescored("m", b"".join(lines[:-1]), base.commitments)
    d = first_difference(base, shorter)
    assert d.field == "(row count)" and d.line == len(lines)
    c = base.commitments.splitlines(keepends=True)
    doc = json.loads(c[2])
    doc["output_commitment"] = "f" * 64
    from ledger.canonical import canonical_json

    tampered = Rescored("m", base.scores, b"".join(c[:2] + [canonical_json(doc) + b"\n"] + c[3:]))
    d = first_difference(base, tampered)
    v = doc["variant"]
    assert (d.file, d.line, d.field, d.variant) == ("output_commitments.jsonl", 3, "output_commitment", f"{v['chrom']}:{v['pos']}:{v['ref']}>{v['alt']}")


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--threads", "0"], "--threads must be at least 1"), (["--rebuild-model"], "--rebuild-model needs --update-baseline")],
)
def test_bad_flag_combinations_are_refused_as_usage_errors_before_anything_runs(argv, message, tmp_path, capsys):
    from tools.release.bit_match_baseline import main

    assert main([*argv, "--workdir", str(tmp_path / "w")]) == 2
    err = capsys.readouterr().err
    assert "error[INPUT.USAGE]: python -m tools.release.bit_match_baseline: " + message in err
    assert "run `python -m tools.release.bit_match_baseline --help` for usage" in err
    assert not (tmp_path / "w").exists()
