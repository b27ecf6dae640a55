"""Seeded synthetic inputs for the scoring benchmarks: a multi-megabase reference and VCFs by density.

Nothing here is committed: :mod:`bench.inference` and :mod:`bench.scale` generate their inputs at
run time from a documented seed, so the same command writes the same bytes on any machine.

Densities (:func:`write_density_vcf`), each a coordinate-sorted, sites-only VCF of SNVs:

- ``sparse``: germline-like, about one variant per kb. Positions are drawn uniformly at rate 1/1000
  per base over the whole reference; one random ALT each.
- ``clustered``: ClinVar-like bursts. Burst centres at rate 1 per 20 kb; each burst holds a
  geometric number of variants (mean 20) within ±150 bp of its centre; a third of the sites carry
  two ALTs (multi-allelic records, as in ClinVar submissions).
- ``saturation``: every SNV (3 ALTs per ACGT base) of a region.
- ``uniform``: one random ALT at each base with probability ``rate`` (used by :mod:`bench.scale`
  at a constant density, so cost per variant is comparable across sizes).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from ledger.fsutil import atomic_open

BASES = "ACGT"
#: Seed of every generated input unless ``--seed`` says otherwise.
DEFAULT_SEED = 15
DENSITIES = ("sparse", "clustered", "saturation")


def write_reference(path: str | Path, *, total_bp: int, contigs: int = 2, seed: int = DEFAULT_SEED, gc: float = 0.41) -> Path:
    """Write a seeded random FASTA of ``total_bp`` bases over ``contigs`` contigs (``syn1``, …) plus its .fai.

    Bases are i.i.d. with the given GC fraction (human-like 41%), with a few 1 kb ``N`` runs so
    padded/edge windows occur. Same arguments, same bytes.
    """
    import pysam

    rng = random.Random(seed)
    p = Path(path)
    per = max(1, total_bp // contigs)
    weights = [(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2]
    with atomic_open(p, "w") as fh:
        for c in range(contigs):
            fh.write(f">syn{c + 1}\n")
            seq = rng.choices(BASES, weights=weights, k=per)
            for _ in range(max(1, per // 1_000_000)):  # one 1 kb N run per Mb
                at = rng.randrange(0, max(1, per - 1000))
                seq[at : at + 1000] = "N" * min(1000, per - at)
            text = "".join(seq)
            for i in range(0, len(text), 80):
                fh.write(text[i : i + 80] + "\n")
    pysam.faidx(str(p))
    return p


def _alts(rng: random.Random, ref: str, n: int) -> list[str]:
    return rng.sample([b for b in BASES if b != ref], n)


def _sites(fasta, density: str, *, seed: int, region: tuple[str, int, int] | None, rate: float) -> Iterator[tuple[str, int, str, list[str]]]:
    """(chrom, 1-based pos, ref, alts) in coordinate order."""
    rng = random.Random(f"{seed}:{density}")
    contigs = [(region[0], region[1], region[2])] if region else [(c, 0, fasta.get_reference_length(c)) for c in fasta.references]
    for chrom, start0, end0 in contigs:
        seq = fasta.fetch(chrom, start0, end0).upper()
        if density == "saturation":
            for i, b in enumerate(seq):
                if b in BASES:
                    yield chrom, start0 + i + 1, b, [a for a in BASES if a != b]
            continue
        if density in ("sparse", "uniform"):
            p = 1 / 1000 if density == "sparse" else rate
            i = -1
            while True:
                i += 1 + int(rng.expovariate(p)) if p < 1 else 1
                if i >= len(seq):
                    break
                if seq[i] in BASES:
                    yield chrom, start0 + i + 1, seq[i], _alts(rng, seq[i], 1)
            continue
        if density == "clustered":
            centres: list[int] = []
            i = 0
            while True:
                i += 1 + int(rng.expovariate(1 / 20_000))
                if i >= len(seq):
                    break
                centres.append(i)
            positions: set[int] = set()
            for c in centres:
                n = 1
                while rng.random() > 1 / 20:  # geometric, mean 20
                    n += 1
                for _ in range(n):
                    positions.add(min(len(seq) - 1, max(0, c + rng.randint(-150, 150))))
            for i in sorted(positions):
                if seq[i] in BASES:
                    yield chrom, start0 + i + 1, seq[i], _alts(rng, seq[i], 2 if rng.random() < 1 / 3 else 1)
            continue
        raise ValueError(f"unknown density {density!r}")


def write_density_vcf(
    path: str | Path,
    fasta_path: str | Path,
    density: str,
    *,
    seed: int = DEFAULT_SEED,
    region: tuple[str, int, int] | None = None,
    rate: float = 0.25,
    limit: int | None = None,
) -> tuple[Path, int]:
    """Write a sorted sites-only VCF of ``density`` over ``fasta_path`` (or ``region``: chrom, start0, end0).

    Returns (path, ALT count). ``limit`` stops after that many ALTs (whole records only).
    """
    import pysam

    p = Path(path)
    alts = 0
    with pysam.FastaFile(str(fasta_path)) as fa, atomic_open(p, "w") as fh:
        fh.write("##fileformat=VCFv4.2\n")
        fh.write(f"##source=bench.synth density={density} seed={seed}\n")
        for c in fa.references:
            fh.write(f"##contig=<ID={c},length={fa.get_reference_length(c)}>\n")
        fh.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for chrom, pos, ref, alt in _sites(fa, density, seed=seed, region=region, rate=rate):
            if limit is not None and alts + len(alt) > limit:
                break
            fh.write(f"{chrom}\t{pos}\t.\t{ref}\t{','.join(alt)}\t.\t.\t.\n")
            alts += len(alt)
    return p, alts


__all__ = ["DEFAULT_SEED", "DENSITIES", "write_density_vcf", "write_reference"]
