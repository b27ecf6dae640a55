"""Genome-scale scoring path: per-window memo, canonical checks, baseline cache, verified digests, benchmarks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.errors import GenoError, InputError
from tests.scoring.conftest import run_inference_bench


def test_canonical_json_still_refuses_floats_and_names_where(tmp_path: Path) -> None:
    from ledger.canonical import canonical_json

    assert canonical_json({"b": [1, "x", None, True], "a": {"c": "1.5"}}) == b'{"a":{"c":"1.5"},"b":[1,"x",null,true]}'
    with pytest.raises(InputError) as err:
        canonical_json({"a": {"b": [1, {"c": 0.5}]}})
    assert err.value.code == "INPUT.FLOAT_IN_CANONICAL" and "$.a.b[1].c" in err.value.message
    with pytest.raises(InputError) as err:
        canonical_json({"a": {1: "x"}})
    assert err.value.code == "INPUT.NON_STRING_KEY" and "$.a" in err.value.message


def test_rows_match_per_variant_receipt_and_features(tmp_path: Path, model_dir: Path, examples) -> None:
    """The per-window memo gives exactly what the per-variant computation gives, for every row."""
    from bench.inference import saturation_variants
    from geno_lewm.calibration import features_of
    from geno_lewm.scoring.receipts import build_receipt
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.rows import scored_row
    from geno_lewm.scoring.run import ScoringSession

    sess = ScoringSession(model_dir, device="cpu")
    with Reference(examples["fasta"]) as ref:
        variants = saturation_variants(ref, "chrM:1-40") + saturation_variants(ref, "chrM:5001-5030")  # window changes mid-stream
        results = sess.scorer(ref).score(variants)
        rows = list(sess.rows(results, timestamp="t"))
    assert len(rows) == len(variants)
    for r, (row, receipt) in zip(results, rows, strict=True):
        p = r.placed
        f = features_of(p.window.seq, sess.window_bp, p.edit.offset, p.edit.ref, pad_left=p.window.pad_left, pad_right=p.window.pad_right)
        look = sess.calibration.lookup(r.score, f)
        want_row = scored_row(sess.model_id, p.variant, r.score, look.percentile, look.bucket, look.confidence, stand_in=sess.stand_in)
        want = build_receipt(
            want_row, p.window, p.edit, state_contract_hash=sess.contract_hash, calibration_hash=sess.calibration_hash, runtime=sess.runtime, timestamp="t"
        )
        assert row == want_row and receipt.to_json() == want.to_json()


def test_baseline_encodes_each_distinct_sequence_once(model_dir: Path, examples) -> None:
    from geno_lewm.baseline import BaselineScorer
    from geno_lewm.encoder.carbon import CarbonEncoder
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.variants import Variant

    enc = CarbonEncoder.load(model_dir / "encoder", device="cpu")
    with Reference(examples["fasta"]) as ref:
        v = Variant("chrM", 2001, ref.fetch("chrM", 2000, 2001).upper(), "A" if ref.fetch("chrM", 2000, 2001).upper() != "A" else "C")
        bs = BaselineScorer(enc, ref, 600, batch_size=8)
        out = bs.score([v] * 50)  # 50 copies: one REF window and one ALT window
    assert len({o.score for o in out}) == 1
    assert bs.stats.sequences_encoded == 2


def test_package_load_still_rejects_a_changed_encoder_file(tmp_path: Path, model_dir: Path) -> None:
    import shutil

    from geno_lewm.package import ModelPackage

    pkg_dir = tmp_path / "pkg"
    shutil.copytree(model_dir, pkg_dir)
    assert ModelPackage.load(pkg_dir, device="cpu").encoder.identity.hash == json.loads((pkg_dir / "manifest.json").read_text())["encoder"]["hash"]
    cfg = pkg_dir / "encoder" / "config.json"
    cfg.write_text(cfg.read_text().replace('"rms_norm_eps"', '"rms_norm_eps" ', 1))
    with pytest.raises(GenoError) as err:
        ModelPackage.load(pkg_dir, device="cpu")
    assert err.value.code.startswith("PROVENANCE.")


def test_synthetic_inputs_are_seeded_and_sorted(tmp_path: Path) -> None:
    from bench.synth import write_density_vcf, write_reference

    a = write_reference(tmp_path / "a.fa", total_bp=60_000, seed=3)
    b = write_reference(tmp_path / "b.fa", total_bp=60_000, seed=3)
    assert a.read_bytes() == b.read_bytes()
    for density in ("sparse", "clustered", "uniform"):
        p1, n1 = write_density_vcf(tmp_path / f"{density}1.vcf", a, density, seed=3, rate=0.1)
        p2, n2 = write_density_vcf(tmp_path / f"{density}2.vcf", a, density, seed=3, rate=0.1)
        assert p1.read_bytes() == p2.read_bytes() and n1 == n2 > 0
        keys = [(ln.split("\t")[0], int(ln.split("\t")[1])) for ln in p1.read_text().splitlines() if not ln.startswith("#")]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
    sparse = sum(1 for ln in (tmp_path / "sparse1.vcf").read_text().splitlines() if not ln.startswith("#"))
    assert 20 <= sparse <= 120  # about one per kb over 60 kb
    _, n = write_density_vcf(tmp_path / "sat.vcf", a, "saturation", region=("syn1", 100, 110))
    assert n == 30


def test_inference_benchmark_end_to_end_by_density(tmp_path: Path, model_dir: Path, examples) -> None:
    """The real commands run as children; the JSON carries the per-density figures and the start-up."""
    out = tmp_path / "inference.json"
    flags = ("--densities", "sparse", "--reference-mb", "0.03", "--whole-contig-max-bp", "0", "--repeats", "1", "--numerics-ab", "sparse")
    assert run_inference_bench(model_dir, examples["fasta"], out, *flags) == 0
    doc = json.loads(out.read_text())
    d = doc["densities"]["sparse"]
    for key in ("world_model_vps", "baseline_vps", "end_to_end_ratio", "encoder_passes", "predictor_calls", "peak_rss_mb"):
        assert d[key] > 0, key
    assert d["baseline_encoder_passes"] >= d["variants"]  # one pass per ALT at least
    assert d["encoder_passes"] == d["distinct_windows"] <= d["variants"]
    pinned = d["numerics_reproducible"]  # the same command with --numerics reproducible, in the same rotation
    assert pinned["world_model_vps"] > 0 and pinned["vps_ratio_reproducible_over_default"] > 0
    assert doc["startup"]["startup_s"] > 0 and doc["startup"]["torch_import_s"] > 0 and doc["load"]["before"]["cpu_count"]
    assert "kernel only" in doc["kernel_only_note"] and doc["stand_in"] is True
    assert {t["name"] for t in doc["targets"]} >= {"sparse variants/s (scoring time)"}


def test_sparse_input_encodes_each_window_once(tmp_path: Path, model_dir: Path) -> None:
    """More distinct windows in a chunk than the LRU holds: still one encoder pass per window."""
    from bench.synth import write_density_vcf, write_reference
    from geno_lewm.scoring.run import score_vcf

    fasta = write_reference(tmp_path / "ref.fa", total_bp=700_000, contigs=1, seed=5)
    vcf, n = write_density_vcf(tmp_path / "sparse.vcf", fasta, "sparse", seed=5)
    s = score_vcf(model_dir, vcf, fasta, output_scores=tmp_path / "s.jsonl", output_receipts=tmp_path / "r.jsonl", progress=False, device="cpu")
    assert s.alts == n > 400
    assert s.work["distinct_windows"] > 256  # more than the window LRU's capacity within one chunk
    assert s.work["windows_encoded"] == s.work["distinct_windows"]


def test_hidden_states_held_at_once_stay_within_one_encoder_batch(tmp_path: Path, model_dir: Path) -> None:
    """A chunk over far more windows than the LRU holds keeps at most one encoder batch of windows (64) resident, with the same scores.

    At a real model's size a window's hidden states are megabytes (8 kb, 1,280 wide: 6.8 MB), so
    holding every window of a sparse chunk at once would not be bounded memory.
    """
    from bench.synth import write_density_vcf, write_reference
    from geno_lewm.package import ModelPackage
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.scorer import PREDICTOR_BATCH, Scorer
    from geno_lewm.scoring.variants import read_variants

    fasta = write_reference(tmp_path / "ref.fa", total_bp=400_000, contigs=1, seed=5)
    vcf, _ = write_density_vcf(tmp_path / "sparse.vcf", fasta, "sparse", seed=5)
    pkg = ModelPackage.load(model_dir, device="cpu")
    with Reference(fasta) as ref:
        items = list(read_variants(vcf, ref, max_allele_bp=64))
        small = Scorer(pkg, ref, cache_windows=2)
        resident: list[int] = []
        ensure = small._ensure_hidden

        def watched(windows):
            ensure(windows)
            resident.append(len(small._hidden))

        small._ensure_hidden = watched
        got = small.score(items)  # one chunk
        want = Scorer(pkg, ref).score(items)
    assert small.stats.distinct_windows and len(small.stats.distinct_windows) > 3 * PREDICTOR_BATCH
    assert max(resident) <= PREDICTOR_BATCH
    assert small.stats.windows_encoded == len(small.stats.distinct_windows)  # sorted input: still one pass per window
    assert [getattr(r, "score", None) for r in got] == [getattr(r, "score", None) for r in want]


def _window_states_and_scores(model_dir: Path, examples, device: str, chunks: int):
    """Score the demo VCF on ``device`` in ``chunks`` chunks: (the window states' devices, the scores)."""
    from geno_lewm.package import ModelPackage
    from geno_lewm.scoring.reference import Reference
    from geno_lewm.scoring.scorer import Scorer
    from geno_lewm.scoring.variants import read_variants

    pkg = ModelPackage.load(model_dir, device=device)
    with Reference(examples["fasta"]) as ref:
        items = list(read_variants(examples["vcf"], ref, max_allele_bp=64))
        scorer = Scorer(pkg, ref)
        step = -(-len(items) // chunks)
        got = [r for i in range(0, len(items), step) for r in scorer.score(items[i : i + step])]
        devices = {h.device.type for h in scorer._hidden.values()}
    return devices, [getattr(r, "score", None) for r in got]


def test_device_hidden_states_are_the_hidden_states(model_dir: Path, examples) -> None:
    """The states the scorer keeps where the encoder runs are the host API's values, bit for bit."""
    import torch

    from geno_lewm.encoder.carbon import CarbonEncoder

    seq = "".join(x.strip() for x in examples["fasta"].read_text().splitlines() if not x.startswith(">"))
    enc = CarbonEncoder.load(model_dir / "encoder", device="cpu")
    windows = [seq[i : i + 600] for i in (0, 700, 5_000)] + [seq[9_000:9_300]]  # one shorter: right-padded
    on_device = enc.device_hidden_states(windows, enc.num_layers)
    assert on_device.device == enc.device and on_device.dtype == torch.float32
    assert torch.equal(on_device, enc.hidden_states(windows, enc.num_layers))
    assert on_device[3, 60:].abs().sum() == 0  # padding still zero
    devices, _ = _window_states_and_scores(model_dir, examples, "cpu", 1)
    assert devices == {"cpu"}


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
def test_cuda_scoring_keeps_window_states_on_the_gpu_and_scores_do_not_depend_on_chunks(model_dir: Path, examples) -> None:
    """On CUDA the window states stay on the GPU (only pooled rows reach the host), and the fixed-shape contract holds there too."""
    devices, one = _window_states_and_scores(model_dir, examples, "cuda", 1)
    assert devices == {"cuda"}
    _, three = _window_states_and_scores(model_dir, examples, "cuda", 3)
    assert one == three and all(isinstance(x, float) for x in one if x is not None)


def test_default_threads_count_only_work_that_is_still_running(monkeypatch) -> None:
    from geno_lewm import runtime

    runnable_now = runtime._runnable_now
    # a lagging load average (the previous job just ended) no longer takes a core away
    assert runtime.busy_cpus(1.3, 0) == 0
    # sustained load: both signals agree, so it counts
    assert runtime.busy_cpus(3.2, 2) == 2
    assert runtime.busy_cpus(0.2, 3) == 0  # a momentary burst with a quiet minute does not count
    assert runtime.busy_cpus(2.0, None) == 2  # no /proc/loadavg: the load average alone
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    monkeypatch.setattr(runtime.os, "getloadavg", lambda: (1.2, 1.0, 1.0))
    monkeypatch.setattr(runtime, "_runnable_now", lambda: 0)
    assert runtime.default_cpu_threads() == 2
    monkeypatch.setattr(runtime, "_runnable_now", lambda: 1)
    assert runtime.default_cpu_threads() == 1
    monkeypatch.setattr(runtime.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    monkeypatch.setattr(runtime, "_runnable_now", lambda: 5)
    assert runtime.default_cpu_threads() == 1  # never below one thread
    sample = runnable_now()
    assert sample is None or sample >= 0
    # a task seen in one sample only (a kernel thread, a short command) is not a busy CPU; one runnable in every sample is
    blips = iter([3, 1, 2, 1, 4])
    assert runnable_now(gap_s=0, read=lambda: next(blips)) == 0
    steady = iter([2, 3, 2, 2, 2])
    assert runnable_now(gap_s=0, read=lambda: next(steady)) == 1


def test_vcf_writer_columns_write_what_rows_write(tmp_path: Path) -> None:
    """``VcfWriter.write_columns`` (chunks that split a record's ALTs included) writes the bytes ``write`` writes."""
    import gzip

    from geno_lewm.scoring.rows import ScoreRow, row_columns
    from geno_lewm.scoring.writers import VcfWriter

    rows = []
    for record, pos in enumerate(range(10, 40)):
        for i, alt in enumerate("ACGT"[: 1 + record % 3]):
            err = "INPUT.REF_MISMATCH" if (record + i) % 7 == 0 else None
            num = None if err else f"{record + i / 4:.6g}"
            rows.append(
                ScoreRow("m" * 64, "chrM", pos, "T", alt, None if i else f"rs{pos}", num, num, None if err else "gc_mid/*", num, err, err, True, record)
            )

    def write(path: Path, chunks: list[int] | None) -> bytes:
        with VcfWriter(path, contigs={"chrM": 16569}, model_id="m" * 64, stand_in=True) as w:
            if chunks is None:
                for row in rows:
                    w.write(row)
            else:
                at = 0
                for size in chunks:
                    w.write_columns(row_columns(rows[at : at + size]))
                    at += size
        assert Path(f"{path}.tbi").is_file()
        return gzip.open(path).read()

    want = write(tmp_path / "rows.vcf.gz", None)
    assert want.count(b"\nchrM\t") == 30
    assert write(tmp_path / "cols.vcf.gz", [5, 1, 13, len(rows) - 19]) == want


def test_tree_memory_adds_the_children_and_counts_shared_pages_once(tmp_path: Path) -> None:
    """``TreeMemory`` sums PSS over a process and its children; pages a fork shares are not counted twice."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from bench.report import TreeMemory, _children

    if not Path("/proc/self/smaps_rollup").is_file():
        pytest.skip("no /proc/<pid>/smaps_rollup on this system")
    code = (
        "import os, sys, time\n"
        "shared = b'x' * (96 << 20)\n"  # touched before the fork: shared copy-on-write
        "if os.fork() == 0:\n"
        "    own = b'y' * (48 << 20)\n"  # the child's own pages
        "    time.sleep(60); os._exit(0)\n"
        "time.sleep(1.0); print('ready', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert len(_children(proc.pid)) == 1
        total = TreeMemory(proc.pid).sample()
        rss = sum(int(ln.split()[1]) for pid in [proc.pid, *_children(proc.pid)] for ln in open(f"/proc/{pid}/status") if ln.startswith("VmRSS:")) / 1024
        assert total is not None and 96 + 48 <= total < 96 * 2 + 48  # the shared 96 MB once, not twice
        assert rss >= 96 * 2 + 48  # RSS counts the shared pages in both processes
        with TreeMemory(proc.pid, interval=0.05) as memory:
            time.sleep(0.3)
        assert memory.samples >= 2 and memory.peak_mb is not None and memory.peak_mb >= 96 + 48
    finally:
        for child in _children(proc.pid):
            os.kill(child, signal.SIGKILL)
        proc.kill()
        proc.wait()
    assert TreeMemory(proc.pid).sample() is None  # gone: nothing to read
