"""Reader, numerics, sharding and network-guard tests (no model needed)."""

from __future__ import annotations

import os
import shutil
import socket
import tracemalloc
import urllib.request
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geno_lewm.numerics import canonical_decimal, canonical_number
from geno_lewm.scoring.batching import Shard, Sharder, tile_index
from geno_lewm.scoring.netguard import no_network
from geno_lewm.scoring.reference import Reference
from geno_lewm.scoring.variants import Region, Variant, VariantIssue, read_variants
from ledger.errors import InputError, ResourceError
from tests.scoring.conftest import chrm, write_vcf


def test_canonical_decimal_is_fixed_and_rejects_non_finite() -> None:
    assert canonical_decimal(2 / 3) == "0.66666667"
    assert canonical_decimal(-0.0) == "0.0"
    assert canonical_decimal(1e-12) == "0.000000000001"
    assert canonical_decimal(123456789.0) == "123456790.0"
    assert canonical_decimal(canonical_number(0.1234567891)) == canonical_decimal(0.1234567891)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(InputError) as exc:
            canonical_decimal(bad)
        assert exc.value.code == "INPUT.NON_FINITE"


def _decimal_definition(x: float, digits: int = 8) -> str:
    """The contract's definition of the canonical decimal (docs/numerical-contract.md), via ``decimal``."""
    from decimal import Decimal

    if x == 0.0:
        return "0.0"
    text = format(Decimal(f"{x:.{digits - 1}e}").normalize(), "f")
    return text if "." in text else text + ".0"


@settings(max_examples=3000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(min_value=1, max_value=17))
def test_canonical_decimal_matches_its_decimal_definition(x: float, digits: int) -> None:
    assert canonical_decimal(x, digits) == _decimal_definition(x, digits)


def test_canonical_decimal_matches_its_decimal_definition_on_score_like_values() -> None:
    import random

    rng = random.Random(7)
    values = [rng.uniform(-5, 5) * 10.0 ** rng.randint(-12, 12) for _ in range(20_000)] + [1e-300, 5e-324, 1.7e308, 99999999.5, 0.5, 100.0, 1e16]
    for v in values:
        assert canonical_decimal(v) == _decimal_definition(v), v


def test_bad_inputs_become_issue_rows_and_multiallelic_splits(tmp_path: Path, examples) -> None:
    ref_a = chrm(examples, 263, 263)
    other = "C" if chrm(examples, 265, 265) != "C" else "G"
    vcf = write_vcf(
        tmp_path / "bad.vcf",
        [
            f"chrM\t263\t.\t{ref_a}\tG,<DEL>,T\t.\tPASS\t.",
            f"chrM\t264\t.\t{chrm(examples, 264, 264)}\tN\t.\tPASS\t.",
            f"chrM\t265\t.\t{other}\tA\t.\tPASS\t.",
            "chrM\t17000\t.\tA\tG\t.\tPASS\t.",
            "chrX\t5\t.\tA\tG\t.\tPASS\t.",
        ],
    )
    with Reference(examples["fasta"]) as ref:
        items = list(read_variants(vcf, ref))
    assert [(i.pos, i.alt) for i in items[:3]] == [(263, "G"), (263, "<DEL>"), (263, "T")]
    assert {i.record for i in items[:3]} == {items[0].record}
    codes = [getattr(i, "code", None) for i in items]
    assert codes == [None, "INPUT.SYMBOLIC_ALT", None, "INPUT.NON_ACGT", "INPUT.REF_MISMATCH", "INPUT.OUTSIDE_CONTIG", "INPUT.UNKNOWN_CONTIG"]


def test_missing_fasta_index_is_built(tmp_path: Path, examples) -> None:
    fa = tmp_path / "ref.fa"
    shutil.copyfile(examples["fasta"], fa)
    assert not Path(f"{fa}.fai").exists()
    with Reference(fa) as ref:
        assert ref.lengths == {"chrM": 16569}
    assert Path(f"{fa}.fai").is_file()


def test_bgzipped_tabix_vcf_with_region(tmp_path: Path, examples) -> None:
    import pysam

    gz = tmp_path / "known.vcf.gz"
    pysam.tabix_compress(str(examples["vcf"]), str(gz))
    pysam.tabix_index(str(gz), preset="vcf")
    with Reference(examples["fasta"]) as ref:
        all_items = list(read_variants(gz, ref))
        some = list(read_variants(gz, ref, region=Region.parse("chrM:3000-9000")))
    assert len(all_items) == 17 and all(isinstance(v, Variant) for v in all_items)
    assert [v.pos for v in some] == [v.pos for v in all_items if 3000 <= v.pos <= 9000]


def test_reader_streams_a_large_vcf_in_bounded_memory(tmp_path: Path, examples) -> None:
    seq = chrm(examples, 1, 16569)
    path = tmp_path / "big.vcf"
    with open(path, "w") as fh:
        fh.write("##fileformat=VCFv4.2\n##contig=<ID=chrM,length=16569>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for i in range(60_000):
            pos = 1 + (i * 7) % 16569
            b = seq[pos - 1]
            fh.write(f"chrM\t{pos}\t.\t{b}\t{'A' if b != 'A' else 'C'}\t.\tPASS\t.\n")
    assert path.stat().st_size > 1_500_000
    with Reference(examples["fasta"]) as ref:
        it = read_variants(path, ref)
        assert isinstance(next(it), (Variant, VariantIssue))  # lazily yields before reading the rest
        tracemalloc.start()
        n = 1 + sum(1 for _ in it)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert n == 60_000
    assert peak < 2_000_000, f"reader held {peak} bytes of Python objects"


def test_shards_partition_tiles_in_genome_order() -> None:
    s = Sharder(Shard.parse("1/3"), ("chrM",), {"chrM": 16569}, 600)
    owners = [s.shard_of("chrM", p) for p in range(0, 16569, 37)]
    assert owners == sorted(owners) and set(owners) == {1, 2, 3}
    # all positions of one tile land in one shard
    for p in range(0, 16569, 97):
        t = tile_index(p, 600)
        same = [q for q in range(max(0, p - 300), min(16569, p + 300)) if tile_index(q, 600) == t]
        assert len({s.shard_of("chrM", q) for q in same}) == 1
    assert s.shard_of("chrUn", 5) == 3
    for bad in ("0/3", "4/3", "x"):
        with pytest.raises(InputError):
            Shard.parse(bad)


def test_network_guard_fails_closed_then_restores(loopback_server) -> None:
    url, root = loopback_server
    (root / "x.txt").write_text("hi")
    assert urllib.request.urlopen(url + "x.txt", timeout=5).read() == b"hi"
    with no_network():
        with pytest.raises(ResourceError) as exc:
            urllib.request.urlopen(url + "x.txt", timeout=5)
        assert exc.value.code == "RESOURCE.NETWORK_FORBIDDEN"
        with pytest.raises(ResourceError):
            socket.create_connection(("127.0.0.1", 9))
        with pytest.raises(ResourceError):
            socket.getaddrinfo("example.org", 80)
    assert urllib.request.urlopen(url + "x.txt", timeout=5).read() == b"hi"
    assert os.environ  # environment untouched
