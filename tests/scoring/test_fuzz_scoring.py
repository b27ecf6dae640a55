"""Fuzz suite (issue 16), scoring side: generated VCF records and headers, FASTA files, manifests and score runs.

Properties: readers raise only typed errors (:class:`ledger.errors.GenoError`) or yield per-row
issues; ``geno-lewm-score`` ends with a documented exit code (never 70), prints no traceback, and
either writes every requested output or none of them. Budgets are fixed (``max_examples``, no
deadline); run with ``-k fuzz``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from geno_lewm.cli.score import main as score_main
from geno_lewm.cli.score import score_argv
from geno_lewm.scoring.reference import Reference
from geno_lewm.scoring.variants import Variant, VariantIssue, read_variants
from ledger.errors import GenoError

#: Multiplies every example budget (CI runs 1; `GENO_LEWM_FUZZ_SCALE=10` for a longer local campaign).
SCALE = max(1, int(os.environ.get("GENO_LEWM_FUZZ_SCALE", "1")))
_HC = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
DOCUMENTED = {0, 2, 3, 4, 7}

_base = st.sampled_from(list("ACGTNacgt*.<>[]:,-") + ["<DEL>", "A[chrM:5[", ""])
_allele = st.lists(_base, min_size=0, max_size=6).map("".join)
_pos = st.integers(-3, 17000).map(str) | st.sampled_from(["0", "abc", "", "1e3", "99999999999999999999", "-0", " 5"])
_chrom = st.sampled_from(["chrM", "chrX", "", "chr M", "chrM\x00"])
_record = st.builds(
    lambda c, p, ref, alt, ncol, extra: "\t".join([c, p, ".", ref, alt, ".", "PASS", "."][:ncol] + extra),
    _chrom,
    _pos,
    _allele,
    _allele,
    st.integers(1, 8),
    st.lists(st.sampled_from(["GT", "0|1", "x", ""]), max_size=2),
)
_header = st.lists(
    st.sampled_from(
        [
            "##fileformat=VCFv4.2",
            "##contig=<ID=chrM,length=16569>",
            "##contig=<ID=chrM>",
            "##INFO=<ID=X,Number=1>",
            "##broken",
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
            "#CHROM\tPOS",
            "",
        ]
    ),
    max_size=5,
).map(lambda lines: ["##fileformat=VCFv4.2"] + lines + ["#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"])


def _vcf_text(header: list[str], records: list[str]) -> str:
    return "\n".join(header + records) + "\n"


@settings(max_examples=120 * SCALE, deadline=None, suppress_health_check=_HC, derandomize=True)
@given(header=_header, records=st.lists(_record, max_size=6))
def test_fuzz_vcf_reader_yields_variants_issues_or_typed_errors(tmp_path_factory, examples, header, records) -> None:
    vcf = tmp_path_factory.mktemp("vcf") / "in.vcf"
    vcf.write_text(_vcf_text(header, records), encoding="utf-8", errors="surrogatepass")
    with Reference(examples["fasta"]) as ref:
        try:
            items = list(read_variants(vcf, ref))
        except GenoError as err:
            assert err.code.startswith("INPUT.") and str(vcf.parent) not in err.message
            return
    assert all(isinstance(i, (Variant, VariantIssue)) for i in items)


_fasta_line = st.sampled_from([">chrM", ">", "> x y", ">chrM\x01", "ACGT" * 10, "acgtn", "NNNN", "", "AC GT", "ACGT\r", "@@@", "\x00"])


@settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=_HC, derandomize=True)
@given(lines=st.lists(_fasta_line, max_size=8), start=st.integers(-5, 60), length=st.integers(-2, 20))
def test_fuzz_fasta_files_open_or_fail_typed(tmp_path_factory, lines, start, length) -> None:
    fa = tmp_path_factory.mktemp("fa") / "ref.fa"
    fa.write_text("\n".join(lines) + "\n")
    try:
        with Reference(fa) as ref:
            for chrom in ref.contigs:
                ref.fetch(chrom, max(0, start), max(0, start) + max(0, length))
    except GenoError as err:
        assert err.code.split(".")[0] in {"INPUT", "RESOURCE"} and str(fa.parent) not in err.message
        assert not fa.with_name("ref.fa.fai").exists()  # no half-built index is left behind


def _mutations():
    value = st.none() | st.booleans() | st.integers(-2, 2**70) | st.text(max_size=8) | st.lists(st.integers(), max_size=2) | st.just({})
    return st.lists(
        st.tuples(st.sampled_from(["drop", "set", "artifact"]), st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=14), value),
        min_size=1,
        max_size=3,
    )


@settings(max_examples=60 * SCALE, deadline=None, suppress_health_check=_HC, derandomize=True)
@given(mutations=_mutations(), pick=st.integers(0, 50))
def test_fuzz_manifests_are_verified_or_refused_typed(model_dir, tmp_path_factory, mutations, pick) -> None:
    from geno_lewm.package import verify_package

    man = json.loads((model_dir / "manifest.json").read_text())
    keys = sorted(man)
    for op, name, value in mutations:
        target = keys[pick % len(keys)] if name not in man else name
        if op == "drop":
            man.pop(target, None)
        elif op == "set":
            man[target] = value
        elif isinstance(man.get("artifacts"), list) and man["artifacts"]:
            art = man["artifacts"][pick % len(man["artifacts"])]
            if isinstance(art, dict):
                art[sorted(art)[pick % len(art)]] = value
    pkg = tmp_path_factory.mktemp("pkg")
    (pkg / "manifest.json").write_text(json.dumps(man))
    for p in model_dir.iterdir():
        if p.name != "manifest.json":
            (pkg / p.name).symlink_to(p)
    try:
        verify_package(pkg)
    except GenoError as err:
        assert str(pkg) not in err.message


@settings(max_examples=25 * SCALE, deadline=None, suppress_health_check=_HC, derandomize=True)
@given(
    records=st.lists(_record, max_size=4),
    outputs=st.lists(st.sampled_from(["vcf", "parquet", "report", "dir-scores", "bad-vcf-name"]), unique=True, max_size=3),
)
def test_fuzz_score_runs_write_every_output_or_none(model_dir, tmp_path_factory, capsys, records, outputs) -> None:
    d = tmp_path_factory.mktemp("run")
    vcf = d / "in.vcf"
    vcf.write_text(_vcf_text(["##fileformat=VCFv4.2", "##contig=<ID=chrM,length=16569>", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"], records))
    out = d / "out"
    out.mkdir()
    scores = out / "s.jsonl"
    if "dir-scores" in outputs:
        scores.mkdir()
    argv = score_argv(model_dir, vcf, _fasta(d), scores, out / "r.jsonl")
    expected = {"s.jsonl", "r.jsonl"}
    if "vcf" in outputs:
        argv += ["--output-vcf", str(out / "s.vcf.gz")]
        expected |= {"s.vcf.gz", "s.vcf.gz.tbi"}
    if "bad-vcf-name" in outputs:
        argv += ["--output-vcf", str(out / "s.vcf")]
    if "parquet" in outputs:
        argv += ["--output-parquet", str(out / "s.parquet")]
        expected.add("s.parquet")
    if "report" in outputs:
        argv += ["--output-report", str(out / "report.json")]
        expected.add("report.json")
    rc = score_main(argv)
    event(f"exit {rc}")
    err = capsys.readouterr().err
    assert rc in DOCUMENTED and "Traceback" not in err, err
    present = {p.name for p in out.iterdir()} - ({"s.jsonl"} if "dir-scores" in outputs else set())
    assert present == (expected if rc == 0 else set()), (rc, err, sorted(present))


def _fasta(d: Path) -> Path:
    """A private copy of the bundled chrM FASTA (the index is built beside it on first use)."""
    from geno_lewm.resources import example_path

    dest = d / "ref.fa"
    shutil.copyfile(example_path("rCRS_chrM.fa"), dest)
    return dest


@pytest.fixture(autouse=True, scope="module")
def _quiet_pysam():
    import pysam

    old = pysam.set_verbosity(0)
    yield
    pysam.set_verbosity(old)
