"""INV-REL-2: the baseline model rebuilds bit for bit, re-scoring matches the committed baseline across
thread counts, and a one-digit scoring change fails the gate naming the variant and field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.release_gate.conftest import ROOT

BASELINE = ROOT / "tests" / "baselines" / "bit_match"


def _files(model: Path) -> dict[str, bytes]:
    return {p.relative_to(model).as_posix(): p.read_bytes() for p in sorted(model.rglob("*")) if p.is_file()}


def test_baseline_model_rebuilds_byte_identical_across_builds_and_thread_counts(baseline_model, tmp_path):
    import torch

    from geno_lewm.package import model_id_of

    other_threads = 1 if torch.get_num_threads() > 1 else 2
    out = tmp_path / "second"
    code = (
        "import sys, torch; torch.set_num_threads(int(sys.argv[2]));"
        "from tools.release.baseline_model import build_baseline_model;"
        "print(build_baseline_model(sys.argv[1]), torch.get_num_threads())"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(out), str(other_threads)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    second_id, threads_after = proc.stdout.split()
    assert int(threads_after) == other_threads  # the build restores the caller's thread count
    assert second_id == model_id_of(baseline_model)
    mine, theirs = _files(baseline_model), _files(out)
    listed = {a["path"] for a in json.loads((baseline_model / "manifest.json").read_text())["artifacts"]} | {"manifest.json"}
    for name in sorted(listed):
        assert mine[name] == theirs[name], f"{name} differs between the two builds"
    meta = json.loads((BASELINE / "baseline.json").read_text())
    assert meta["model"]["model_id"] == second_id, "the committed baseline's model does not rebuild here"


@pytest.mark.parametrize("threads", [1, 2])
def test_rescoring_matches_the_committed_baseline_with_1_and_2_threads(baseline_model, threads):
    code = (
        "import sys, torch; torch.set_num_threads(int(sys.argv[2]));"
        "from tools.release.bit_match_baseline import main;"
        "sys.exit(main(['--model-dir', sys.argv[1], '--threads', sys.argv[2], '--no-ledger', '--json']))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(baseline_model), str(threads)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout)
    assert res["ok"] and res["rows"] == len((BASELINE / "scores.jsonl").read_bytes().splitlines())


def _bump_last_digit(text: str) -> str:
    return text[:-1] + str((int(text[-1]) + 1) % 10)


def test_a_one_digit_score_change_fails_the_gate_naming_the_variant(baseline_model, tmp_path, monkeypatch):
    import geno_lewm.scoring.run as run_mod
    from ledger.store import Ledger
    from tools.release.context import ReleaseContext
    from tools.release.gate_check import gate_check

    rows = [json.loads(line) for line in (BASELINE / "scores.jsonl").read_text().splitlines()]
    target = next(r for r in rows[3:] if r["score"] is not None)
    original = run_mod.scored_row

    def changed(model_id, variant, score, *args, **kwargs):
        row = original(model_id, variant, score, *args, **kwargs)
        if (variant.pos, variant.ref, variant.alt) == (target["pos"], target["ref"], target["alt"]):
            import dataclasses

            row = dataclasses.replace(row, score=_bump_last_digit(row.score))
        return row

    monkeypatch.setattr(run_mod, "scored_row", changed)
    ctx = ReleaseContext.for_workdir(tmp_path / "w", log=lambda line: None)
    verdicts = gate_check(ctx, ROOT, model_dir=baseline_model, skip=("INV-REL-1", "INV-REL-3", "INV-REL-5", "INV-REL-6"))
    ctx.close()
    (v,) = verdicts
    assert v.invariant == "INV-REL-2" and not v.ok and v.code == "RELEASE.BIT_MATCH"
    assert f"chrM:{target['pos']}:{target['ref']}>{target['alt']}" in v.message
    assert "field score" in v.message
    led = Ledger.open(tmp_path / "w" / "ledger.duckdb", read_only=True)
    failed = [e.data for e in led.events(kinds=["step_failed"])]
    led.close()
    assert failed and failed[-1]["step"] == "inv_rel_2" and failed[-1]["code"] == "RELEASE.BIT_MATCH"


def test_update_baseline_is_its_own_recorded_step_and_then_matches(baseline_model, tmp_path):
    from ledger.store import Ledger
    from tools.release.bit_match_baseline import UPDATE_STEP, check_bit_match, main

    bdir = tmp_path / "w" / "baseline"
    rc = main(["--update-baseline", "--model-dir", str(baseline_model), "--baseline-dir", str(bdir), "--workdir", str(tmp_path / "w"), "--project-root", str(ROOT)])
    assert rc == 0
    led = Ledger.open(tmp_path / "w" / "ledger.duckdb", read_only=True)
    steps = [(e.kind, e.data.get("step"), e.data.get("path")) for e in led.events(kinds=["step_passed", "artifact_recorded"])]
    led.close()
    assert ("step_passed", UPDATE_STEP, None) in steps
    assert {p for k, s, p in steps if k == "artifact_recorded" and s == UPDATE_STEP} >= {"baseline/baseline.json", "baseline/scores.jsonl", "baseline/output_commitments.jsonl"}
    assert (bdir / "scores.jsonl").read_bytes() == (BASELINE / "scores.jsonl").read_bytes()
    assert check_bit_match(ROOT, model_dir=baseline_model, baseline_dir=bdir)["ok"]


def test_a_hand_edited_baseline_or_a_different_model_is_refused(baseline_model, tmp_path):
    import shutil

    from ledger.errors import ReleaseError
    from tools.release.bit_match_baseline import check_bit_match

    bdir = tmp_path / "b"
    shutil.copytree(BASELINE, bdir)
    text = (bdir / "scores.jsonl").read_text()
    (bdir / "scores.jsonl").write_text(text.replace('"stand_in":true', '"stand_in":false', 1))
    with pytest.raises(ReleaseError) as err:
        check_bit_match(ROOT, model_dir=baseline_model, baseline_dir=bdir)
    assert err.value.code == "RELEASE.BASELINE_CORRUPT"
    meta = json.loads((BASELINE / "baseline.json").read_text())
    meta["model"]["model_id"] = "0" * 64
    shutil.copyfile(BASELINE / "scores.jsonl", bdir / "scores.jsonl")
    (bdir / "baseline.json").write_text(json.dumps(meta))
    with pytest.raises(ReleaseError) as err:
        check_bit_match(ROOT, model_dir=baseline_model, baseline_dir=bdir)
    assert err.value.code == "RELEASE.BIT_MATCH_MODEL"


def test_first_difference_names_row_count_and_commitment_changes():
    from tools.release.bit_match_baseline import Rescored, first_difference

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
