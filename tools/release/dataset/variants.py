"""Reading the snapshot's upstream inputs: FASTA, labelled VCF records, the region split rule and REF checks."""

from __future__ import annotations
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from ledger.errors import InputError


def read_fasta(path: Path) -> dict[str, str]:
    """Contig name -> upper-case sequence (streams the file line by line)."""
    seqs: dict[str, list[str]] = {}
    current = None
    with open(path, encoding="ascii", errors="strict") as fh:
        for n, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(">"):
                current = line[1:].split()[0] if line[1:].split() else ""
                if not current or current in seqs:
                    raise InputError("BAD_FASTA", f"{path.name} line {n}: empty or duplicate contig name", "use a FASTA with unique named contigs")
                seqs[current] = []
            elif current is None:
                raise InputError("BAD_FASTA", f"{path.name} line {n}: sequence before the first header", "check the FASTA file")
            else:
                seqs[current].append(line.upper())
    if not seqs:
        raise InputError("BAD_FASTA", f"{path.name} has no sequences", "check the FASTA file")
    return {k: "".join(v) for k, v in seqs.items()}


@dataclass(frozen=True)
class Variant:
    """One VCF record, with its original line kept for the split files."""

    contig: str  # CHROM
    pos: int  # 1-based POS
    ref: str  # REF allele
    alt: str  # ALT allele
    label: str  # value of the label INFO field ("" when absent)
    line: str  # the original record line

    @property
    def key(self) -> str:
        """The comparable key ``contig:pos:ref:alt``."""
        return f"{self.contig}:{self.pos}:{self.ref}:{self.alt}"


def read_vcf(path: Path, label_field: str) -> tuple[list[str], list[Variant]]:
    """Header lines and records of a plain-text VCF (``INPUT.BAD_VCF`` naming the line on error)."""
    header: list[str] = []
    variants: list[Variant] = []
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            line = raw.rstrip("\n")
            if not line:
                continue
            if line.startswith("#"):
                header.append(line)
                continue
            cols = line.split("\t")
            if len(cols) < 8 or not cols[1].isdigit():
                raise InputError("BAD_VCF", f"{path.name} line {n}: expected 8 tab-separated columns with an integer POS", "check the VCF file")
            info = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in cols[7].split(";"))
            variants.append(Variant(cols[0], int(cols[1]), cols[3].upper(), cols[4].upper(), info.get(label_field, ""), line))
    if not header or not header[-1].startswith("#CHROM"):
        raise InputError("BAD_VCF", f"{path.name} has no #CHROM header line", "check the VCF file")
    return header, variants


def split_of(v: Variant, regions: Mapping[str, list[Mapping[str, Any]]]) -> str | None:
    """The split whose region contains ``v`` (None when outside every region)."""
    for name, lst in regions.items():
        for r in lst:
            if r["contig"] == v.contig and r["start"] <= v.pos <= r["end"]:
                return name
    return None


def distance_to_other_splits(v: Variant, split: str, regions: Mapping[str, list[Mapping[str, Any]]]) -> int | None:
    """Smallest distance (bp) from ``v`` to a region of another split on its contig (None if none)."""
    best = None
    for name, lst in regions.items():
        if name == split:
            continue
        for r in lst:
            if r["contig"] != v.contig:
                continue
            d = 0 if r["start"] <= v.pos <= r["end"] else min(abs(v.pos - r["start"]), abs(v.pos - r["end"]))
            best = d if best is None else min(best, d)
    return best


def check_variant(v: Variant, fasta: Mapping[str, str], path_name: str) -> str | None:
    """Why ``v`` is excluded from an SNV snapshot (None when it is kept); REF mismatch is an error."""
    if len(v.ref) != 1 or len(v.alt) != 1 or v.alt not in "ACGT" or v.ref == v.alt:
        return "not_snv"
    seq = fasta.get(v.contig)
    if seq is None:
        raise InputError("REF_MISMATCH", f"{path_name}: contig {v.contig} is not in the reference", "use the reference the VCF was called against")
    if not 1 <= v.pos <= len(seq):
        raise InputError(
            "REF_MISMATCH", f"{path_name}: {v.contig}:{v.pos} is outside the contig (length {len(seq)})", "use the reference the VCF was called against"
        )
    if seq[v.pos - 1] != v.ref:
        raise InputError(
            "REF_MISMATCH",
            f"{v.contig}:{v.pos} REF {v.ref} does not match the reference base {seq[v.pos - 1]}",
            "check that the VCF was called against this FASTA",
        )
    return None
