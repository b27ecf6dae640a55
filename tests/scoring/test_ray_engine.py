"""``geno-lewm-score --engine ray`` on a local Ray instance (2 CPUs): same bytes as one process.

One Ray instance for the module; one single-process reference run; the Ray runs must reproduce its
scores, receipts, annotated VCF and Parquet byte for byte — also when a worker dies mid-shard, and
when an interrupted run is resumed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from geno_lewm.cli.score import main as score_main
from geno_lewm.cli.score import score_argv
from geno_lewm.cli.verify_receipts import main as verify_main
from geno_lewm.scoring.ray_engine import CRASH_ENV, RayOptions, score_vcf_ray
from ledger.errors import GenoError
from tests.scoring.conftest import chrm, dense_rows, write_vcf

os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")  # workers use this interpreter, not `uv run`
ray = pytest.importorskip("ray")

EPOCH = "1767225600"  # receipts carry the run time: pin it so two runs can be compared byte for byte
OUT_FILES = ("s.jsonl", "r.jsonl", "o.vcf.gz", "o.vcf.gz.tbi", "o.parquet")


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray instance with 2 CPUs for this module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def cohort(tmp_path_factory, examples) -> Path:
    """~3,000 ALTs on chrM (a multi-allelic record and error rows included), bgzipped + tabix."""
    import pysam

    d = tmp_path_factory.mktemp("cohort")
    rows = dense_rows(examples, 1, 1200) + dense_rows(examples, 6001, 900)
    b = chrm(examples, 9000, 9000)
    rows.append(f"chrM\t9000\trs1\t{b}\t{'A' if b != 'A' else 'C'},<DEL>\t.\tPASS\t.")
    rows += dense_rows(examples, 9001, 900)
    rows.append("chrM\t16600\t.\tA\tG\t.\tPASS\t.")  # beyond the contig: an error row
    plain = write_vcf(d / "cohort.vcf", rows)
    return Path(pysam.tabix_index(str(plain), preset="vcf", force=True))


def _args(model_dir, vcf, fasta, out: Path, *extra: str) -> list[str]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"output_vcf": out / "o.vcf.gz", "output_parquet": out / "o.parquet", "output_report": out / "report.json"}
    return [*score_argv(model_dir, vcf, fasta, out / "s.jsonl", out / "r.jsonl", **files, device="cpu", threads=1), *extra]


@pytest.fixture(scope="module")
def single(tmp_path_factory, model_dir, cohort, examples) -> Path:
    """The single-process run of the cohort (the reference for every Ray run)."""
    out = tmp_path_factory.mktemp("single")
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
    try:
        assert score_main(_args(model_dir, cohort, examples["fasta"], out)) == 0
    finally:
        mp.undo()
    return out


def _score_ray(model_dir, vcf, fasta, out: Path, **options):
    """``score_vcf_ray`` writing the four outputs of :data:`OUT_FILES` into ``out``, on CPU, without progress."""
    files = {"output_vcf": out / "o.vcf.gz", "output_parquet": out / "o.parquet"}
    return score_vcf_ray(
        model_dir, vcf, fasta, output_scores=out / "s.jsonl", output_receipts=out / "r.jsonl", **files, device="cpu", progress=False, **options
    )


def _same_outputs(a: Path, b: Path) -> None:
    for name in OUT_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_ray_run_is_byte_identical_to_one_process_and_verifies(ray_local, single, tmp_path, model_dir, cohort, examples, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = tmp_path / "ray"
    assert score_main(_args(model_dir, cohort, examples["fasta"], out, "--engine", "ray", "--shards", "4")) == 0
    _same_outputs(single, out)
    assert len((single / "s.jsonl").read_text().splitlines()) >= 3000
    assert not (out / "s.jsonl.shards").exists()  # the work folder goes once merged

    report = json.loads((out / "report.json").read_text())
    ref = json.loads((single / "report.json").read_text())
    assert {k: v for k, v in report.items() if k != "engine"} == ref
    engine = report["engine"]
    assert engine["name"] == "ray" and engine["shard_count"] == 4
    assert [s["shard"] for s in engine["shards"]] == ["1/4", "2/4", "3/4", "4/4"]
    for s in engine["shards"]:
        assert s["node"]["node_id"] and s["node"]["hostname"]
        assert s["regions"] and all(r.startswith("chrM:") for r in s["regions"])
        assert s["inputs"]["vcf"]["sha256"] == report["engine"]["shards"][0]["inputs"]["vcf"]["sha256"]
    assert sum(s["counts"]["alts"] for s in engine["shards"]) == report["counts"]["alts"]

    capsys.readouterr()
    assert (
        verify_main(
            [
                "--model-dir",
                str(model_dir),
                "--receipts",
                str(out / "r.jsonl"),
                "--scores",
                str(out / "s.jsonl"),
                "--fasta",
                str(examples["fasta"]),
                "--vcf",
                str(cohort),
                "--sample",
                "4",
            ]
        )
        == 0
    )


def test_a_worker_killed_mid_shard_is_retried_and_the_result_is_unchanged(ray_local, single, tmp_path, model_dir, cohort, examples, monkeypatch) -> None:
    import gzip

    plain = tmp_path / "cohort.vcf"  # unindexed: every shard reads the file and keeps its part by the rule
    plain.write_bytes(gzip.decompress(cohort.read_bytes()))
    marker = tmp_path / "crashed"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setenv(CRASH_ENV, f"2:{marker}")
    out = tmp_path / "ray"
    assert score_main(_args(model_dir, plain, examples["fasta"], out, "--engine", "ray", "--shards", "3")) == 0
    assert marker.is_file()  # the worker really died once
    _same_outputs(single, out)
    assert json.loads((out / "report.json").read_text())["engine"]["shards"][0]["regions"] is None


def test_interrupted_run_fails_naming_the_shard_then_resumes(ray_local, single, tmp_path, model_dir, cohort, examples, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setenv(CRASH_ENV, f"4:{tmp_path / 'crashed'}")
    out = tmp_path / "ray"
    out.mkdir()
    with pytest.raises(GenoError) as exc:
        _score_ray(model_dir, cohort, examples["fasta"], out, threads=1, options=RayOptions(shards=4, workers=1, max_retries=0))
    assert exc.value.code == "RESOURCE.SHARD_FAILED" and "4/4" in exc.value.message
    assert sorted(p.name for p in out.iterdir()) == ["s.jsonl.shards"]  # no final output, half-written or not
    finished = sorted(p.name for p in (out / "s.jsonl.shards").iterdir())
    assert finished == ["shard-00001-of-00004", "shard-00002-of-00004", "shard-00003-of-00004"]
    # a tampered shard is not trusted: it is scored again
    (out / "s.jsonl.shards" / finished[0] / "receipts.jsonl").write_bytes(b"{}\n")

    monkeypatch.delenv(CRASH_ENV)
    assert score_main(_args(model_dir, cohort, examples["fasta"], out, "--engine", "ray", "--shards", "4", "--resume")) == 0
    _same_outputs(single, out)
    engine = json.loads((out / "report.json").read_text())["engine"]
    assert engine["resumed_shards"] == 2
    assert [s["resumed"] for s in engine["shards"]] == [False, True, True, False]


def test_plan_regions_hold_exactly_the_shard_rule(examples, cohort) -> None:
    from geno_lewm.scoring.batching import Shard, Sharder
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.shards import plan_shards

    with Reference(examples["fasta"]) as ref:
        contigs, lengths = tuple(ref.contigs), dict(ref.lengths)
    plans = plan_shards(cohort, contigs + ("chrX",), {**lengths, "chrX": 1000}, 600, 5)
    sharder = Sharder(Shard(1, 5), contigs + ("chrX",), {**lengths, "chrX": 1000}, 600)
    for pos in range(1, 16700, 13):
        owners = [p.index for p in plans for r in p.regions if r.contains("chrM", pos)]
        assert owners == [sharder.shard_of("chrM", pos - 1)]


def test_engine_flags_need_engine_ray(tmp_path, model_dir, cohort, examples, capsys) -> None:
    for extra in (["--shards", "2"], ["--resume"], ["--engine", "ray", "--shard", "1/2"], ["--engine", "ray", "--shards", "0"]):
        assert score_main(_args(model_dir, cohort, examples["fasta"], tmp_path, *extra)) == 2
        assert "INPUT.USAGE" in capsys.readouterr().err
    assert not (tmp_path / "s.jsonl").exists()
    shutil.rmtree(tmp_path)


def test_release_step_records_one_ledger_event_per_shard(ray_local, single, tmp_path, model_dir, cohort, examples, monkeypatch) -> None:
    from ledger.store import Ledger
    from tools.release.cluster_score import main as cluster_main
    from tools.release.engine.context import ReleaseContext

    work = tmp_path / "release"
    shutil.copytree(model_dir, work / "model")
    for f in (cohort, Path(str(cohort) + ".tbi"), examples["fasta"]):
        shutil.copyfile(f, work / f.name)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    args = _args(work / "model", work / cohort.name, work / examples["fasta"].name, work / "out", "--shards", "2")
    assert cluster_main([*args, "--workdir", str(work)]) == 0
    _same_outputs(single, work / "out")

    ledger = Ledger.open(ReleaseContext.for_workdir(work).resolved_ledger_path)
    kinds = [e.kind for e in ledger.events()]
    assert kinds.index("step_started") < kinds.index("shard_scored") < kinds.index("step_passed")
    shards = [json.loads(e.body) for e in ledger.events(kinds=["shard_scored"])]
    assert [s["shard"] for s in shards] == ["1/2", "2/2"]
    report = json.loads((work / "out" / "report.json").read_text())["engine"]["shards"]
    for event, ident in zip(shards, report, strict=True):
        assert event["step"] == "cluster_score" and event["node_id"] == ident["node"]["node_id"] and event["hostname"] == ident["node"]["hostname"]
        assert {f["role"]: f["sha256"] for f in event["inputs"]} == {"fasta": ident["inputs"]["fasta"]["sha256"], "vcf": ident["inputs"]["vcf"]["sha256"]}
        assert event["regions"] == ident["regions"] and event["alts"] == ident["counts"]["alts"]
    ledger.close()


def test_reproducible_numerics_ray_run_equals_one_process(ray_local, tmp_path, model_dir, cohort, examples, monkeypatch) -> None:
    """``--numerics reproducible`` (pinned CPU kernels) reaches every worker; the bytes still match."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    one = tmp_path / "one"
    assert score_main(_args(model_dir, cohort, examples["fasta"], one, "--numerics", "reproducible")) == 0  # re-runs itself pinned
    out = tmp_path / "ray"
    run = _score_ray(model_dir, cohort, examples["fasta"], out, options=RayOptions(shards=4), numerics="reproducible")
    _same_outputs(one, out)
    assert run.summary.runtime.get("numerics") == "reproducible"
    assert all(json.loads(line)["runtime"]["numerics"] == "reproducible" for line in (out / "r.jsonl").read_text().splitlines())
