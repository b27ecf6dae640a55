"""End-to-end scoring: outputs, determinism, shards, window cache, receipts, calibration, guard."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from geno_lewm.cli.score import main as score_main
from geno_lewm.cli.score import score_argv
from geno_lewm.cli.verify_receipts import main as verify_main
from geno_lewm.scoring.receipts import verify_receipts
from geno_lewm.scoring.run import score_vcf
from ledger.errors import ProvenanceError, ResourceError
from tests.scoring.conftest import chrm, dense_rows, write_vcf


def _score(model_dir, vcf, fasta, out: Path, **kw):
    out.mkdir(parents=True, exist_ok=True)
    summary = score_vcf(model_dir, vcf, fasta, output_scores=out / "s.jsonl", output_receipts=out / "r.jsonl", device="cpu", progress=False, **kw)
    return summary, out / "s.jsonl", out / "r.jsonl"


def _strip_ts(path: Path) -> list[bytes]:
    lines = []
    for line in path.read_bytes().splitlines():
        d = json.loads(line)
        d.pop("timestamp", None)
        lines.append(json.dumps(d, sort_keys=True).encode())
    return lines


def test_cli_scores_examples_with_error_rows_and_exit_0(tmp_path: Path, model_dir: Path, examples, capsys) -> None:
    bad = write_vcf(tmp_path / "mixed.vcf", [f"chrM\t263\t.\t{chrm(examples, 263, 263)}\tG,<DEL>\t.\tPASS\t.", "chrM\t20000\t.\tA\tG\t.\tPASS\t."])
    code = score_main(score_argv(model_dir, bad, examples["fasta"], tmp_path / "s.jsonl", tmp_path / "r.jsonl", device="cpu", json=True))
    out = capsys.readouterr()
    assert code == 0
    summary = json.loads(out.out)
    assert summary["counts"]["scored"] == 1 and summary["counts"]["errors_by_code"] == {"INPUT.OUTSIDE_CONTIG": 1, "INPUT.SYMBOLIC_ALT": 1}
    assert "INPUT.SYMBOLIC_ALT" in out.err
    rows = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert [r["error_code"] for r in rows] == [None, "INPUT.SYMBOLIC_ALT", "INPUT.OUTSIDE_CONTIG"]
    ok = rows[0]
    assert ok["generated_by"] == "geno-lewm-score" and ok["score"] > 0 and 0 <= ok["percentile"] <= 100 and 0 < ok["confidence"] < 1
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 1


def test_vcf_and_parquet_outputs_match_rows(tmp_path: Path, model_dir: Path, examples) -> None:
    import pyarrow.parquet as pq
    import pysam

    s, scores, _ = _score(model_dir, examples["vcf"], examples["fasta"], tmp_path, output_vcf=tmp_path / "o.vcf.gz", output_parquet=tmp_path / "o.parquet")
    rows = [json.loads(x) for x in scores.read_text().splitlines()]
    table = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert table == rows
    assert (tmp_path / "o.vcf.gz.tbi").is_file()
    with pysam.VariantFile(str(tmp_path / "o.vcf.gz")) as vf:
        assert {"GLEWM_SCORE", "GLEWM_PCT", "GLEWM_BUCKET", "GLEWM_CONF", "GLEWM_ERR"} <= set(vf.header.info)
        recs = list(vf.fetch("chrM", 3000, 4000))
    assert [r.pos for r in recs] == [r["pos"] for r in rows if 3000 < r["pos"] <= 4000]
    assert recs[0].info["GLEWM_SCORE"][0] == pytest.approx([r for r in rows if r["pos"] == recs[0].pos][0]["score"], rel=1e-5)


def test_rows_and_receipts_are_byte_identical_across_runs_and_threads(tmp_path: Path, model_dir: Path, examples) -> None:
    import torch

    from geno_lewm.scoring.run import ScoringSession

    before = torch.get_num_threads()
    try:
        outs = []
        for i, threads in enumerate((1, 2, 2)):
            sess = ScoringSession(model_dir, device="cpu", threads=threads)
            _, s, r = _score(model_dir, examples["vcf"], examples["fasta"], tmp_path / f"run{i}", session=sess)
            outs.append((s.read_bytes(), _strip_ts(r)))
    finally:
        torch.set_num_threads(before)
    assert outs[0] == outs[1] == outs[2]


def test_shards_concatenate_to_the_full_run(tmp_path: Path, model_dir: Path, examples, session) -> None:
    vcf = write_vcf(tmp_path / "dense.vcf", dense_rows(examples, 100, 40) + dense_rows(examples, 8000, 40) + dense_rows(examples, 16000, 40))
    _, full_s, full_r = _score(model_dir, vcf, examples["fasta"], tmp_path / "full", session=session)
    parts_s, parts_r, kept = b"", [], 0
    for i in (1, 2, 3):
        summ, s, r = _score(model_dir, vcf, examples["fasta"], tmp_path / f"shard{i}", shard=f"{i}/3", session=session)
        parts_s += s.read_bytes()
        parts_r += _strip_ts(r)
        kept += summ.alts
        assert summ.alts > 0
    assert parts_s == full_s.read_bytes()
    assert parts_r == _strip_ts(full_r)


def test_each_window_is_encoded_exactly_once(tmp_path: Path, model_dir: Path, examples, session) -> None:
    vcf = write_vcf(tmp_path / "dense.vcf", dense_rows(examples, 2000, 900))
    summary, _, _ = _score(model_dir, vcf, examples["fasta"], tmp_path, batch_size=2, session=session)
    work = summary.work
    assert summary.scored >= 8 * work["distinct_windows"]  # >= 8 variants per window
    assert work["windows_encoded"] == work["distinct_windows"] >= 2
    assert work["encoder_calls"] >= work["distinct_windows"] / 2  # batched by 2, never re-encoded


def test_scoring_runs_under_the_network_guard(tmp_path: Path, model_dir: Path, examples, session, monkeypatch) -> None:
    from geno_lewm.scoring import scorer

    original = scorer.Scorer.predict_scores

    def phoning_home(self, placed):
        socket.create_connection(("127.0.0.1", 9))
        return original(self, placed)

    monkeypatch.setattr(scorer.Scorer, "predict_scores", phoning_home)
    with pytest.raises(ResourceError) as exc:
        _score(model_dir, examples["vcf"], examples["fasta"], tmp_path, session=session)
    assert exc.value.code == "RESOURCE.NETWORK_FORBIDDEN"
    assert not (tmp_path / "s.jsonl").exists()  # nothing half-written


def test_verify_receipts_passes_then_names_the_first_tampered_line(tmp_path: Path, model_dir: Path, examples, session, capsys) -> None:
    _, s, r = _score(model_dir, examples["vcf"], examples["fasta"], tmp_path, session=session)
    res = verify_receipts(model_dir, r, s, fasta=examples["fasta"], vcf=examples["vcf"], sample=4, device="cpu")
    assert res.ok and res.receipts == 17 and res.windows_checked == 17 and res.rescored == 4
    lines = r.read_text().splitlines()
    doc = json.loads(lines[2])
    doc["output"]["score"] = "9.0"
    (tmp_path / "bad.jsonl").write_text("\n".join(lines[:2] + [json.dumps(doc)] + lines[3:]) + "\n")
    with pytest.raises(ProvenanceError) as exc:
        verify_receipts(model_dir, tmp_path / "bad.jsonl", s)
    assert "receipt line 3" in exc.value.message
    # a score row edited after the fact is caught too
    srows = s.read_text().splitlines()
    row = json.loads(srows[5])
    row["score"] = row["score"] + 0.5
    (tmp_path / "bad_s.jsonl").write_text("\n".join(srows[:5] + [json.dumps(row)] + srows[6:]) + "\n")
    code = verify_main(["--model-dir", str(model_dir), "--receipts", str(r), "--scores", str(tmp_path / "bad_s.jsonl")])
    assert code == 7 and "receipt line 6" in capsys.readouterr().err


def test_receipts_from_a_newer_minor_verify_and_unknown_required_fields_are_refused(tmp_path: Path, model_dir: Path, examples, session) -> None:
    from ledger.errors import SchemaCompatError

    _, s, r = _score(model_dir, examples["vcf"], examples["fasta"], tmp_path, session=session)
    docs = [json.loads(line) for line in r.read_text().splitlines()]
    newer = tmp_path / "newer.jsonl"
    newer.write_text("".join(json.dumps({**d, "schema_version": "1.4.2", "future_note": "a later MINOR's field"}) + "\n" for d in docs))
    assert verify_receipts(model_dir, newer, s).receipts == len(docs)
    required = tmp_path / "required.jsonl"
    required.write_text("".join(json.dumps({**d, "required_fields": ["quantum_seal"], "quantum_seal": "x"}) + "\n" for d in docs))
    with pytest.raises(SchemaCompatError, match="quantum_seal"):
        verify_receipts(model_dir, required, s)


def test_yanked_model_warns_but_still_verifies(tmp_path: Path, model_dir: Path, examples, session, capsys) -> None:
    _, s, r = _score(model_dir, examples["vcf"], examples["fasta"], tmp_path, session=session)
    rev = tmp_path / "revoked.json"
    rev.write_text(
        json.dumps(
            {
                "schema_version": "1.0.0",
                "yanked": [{"model_id": session.model_id, "reason": "bad calibration", "upgrade_to": "geno-lewm-v0.1.1-tiny-carbon-r1"}],
            }
        )
    )
    code = verify_main(["--model-dir", str(model_dir), "--receipts", str(r), "--scores", str(s), "--revocation-list", str(rev), "--json"])
    out = capsys.readouterr()
    assert code == 0
    assert "warning[model_yanked]" in out.err
    assert json.loads(out.out)["warnings"][0]["code"] == "model_yanked"


def test_calibration_table_is_resealed_into_the_manifest(tmp_path: Path, base_model: Path, examples) -> None:
    from geno_lewm.calibration import CalibrationTable
    from geno_lewm.package import model_id_of, verify_package
    from geno_lewm.scoring.calibrate import calibrate_package

    pkg = tmp_path / "m"
    shutil.copytree(base_model, pkg)
    before = model_id_of(pkg)
    doc = calibrate_package(pkg, examples["fasta"], n_null=60, seed=3, min_count=5, exclude_vcf=examples["vcf"], device="cpu")
    assert doc["model_id_before"] == before != doc["model_id"] == model_id_of(pkg)
    man = verify_package(pkg)
    assert [a["role"] for a in man["artifacts"] if a["path"] == "calibration.parquet"] == ["calibration"]
    table = CalibrationTable.read(pkg / "calibration.parquet")
    assert table.meta["null_set"]["scope"] == "training_heldout_blocks" and table.buckets["*"] == sorted(table.buckets["*"])
    (pkg / "calibration.parquet").write_bytes(b"tampered")
    with pytest.raises(ProvenanceError):
        verify_package(pkg)
