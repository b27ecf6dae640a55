"""Streaming VCF reader: one :class:`Variant` per ALT, or a :class:`VariantIssue` explaining why not.

Reads ``.vcf`` or bgzipped ``.vcf.gz`` (tabix/CSI index used for ``--region`` when present) with
``pysam.VariantFile``, one record at a time: nothing loads the whole file. Multi-allelic records are
split per ALT (``alt_index`` keeps the ALT's position in the record). Per-ALT problems become
issues with a stable ``error_code`` instead of exceptions:

==========================  =====================================================================
``INPUT.NO_ALT``            ALT is ``.`` (a reference-only record)
``INPUT.SYMBOLIC_ALT``      symbolic / breakend / spanning-deletion ALT (``<DEL>``, ``N[1:5[``, ``*``)
``INPUT.NON_ACGT``          REF or ALT holds a base outside ACGT (e.g. ``N``, IUPAC codes)
``INPUT.UNKNOWN_CONTIG``    the contig is not in the FASTA
``INPUT.OUTSIDE_CONTIG``    the REF allele does not lie inside the contig
``INPUT.REF_MISMATCH``      REF differs from the FASTA bases at that position
``INPUT.ALLELE_TOO_LONG``   REF or ALT longer than the scorer's per-allele limit
==========================  =====================================================================

A file that cannot be opened or parsed at all is ``INPUT.BAD_VCF`` (an exception: nothing scored).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from geno_lewm.scoring.reference import Reference
from ledger.errors import InputError
from ledger.identity import missing_path_message, public_message

_ACGT = re.compile(r"^[ACGT]+$")
_REGION = re.compile(r"^(?P<chrom>[^:\s]+)(?::(?P<start>[0-9][0-9,]*)-(?P<end>[0-9][0-9,]*))?$")

#: The per-ALT error codes a score row can carry (stable; docs/scoring.md).
ISSUE_CODES: tuple[str, ...] = (
    "INPUT.NO_ALT",
    "INPUT.SYMBOLIC_ALT",
    "INPUT.NON_ACGT",
    "INPUT.UNKNOWN_CONTIG",
    "INPUT.OUTSIDE_CONTIG",
    "INPUT.REF_MISMATCH",
    "INPUT.ALLELE_TOO_LONG",
)


@dataclass(frozen=True, slots=True)
class Variant:
    """One scorable ALT: 1-based ``pos``, upper-case ``ref``/``alt`` checked against the FASTA."""

    chrom: str
    pos: int
    ref: str
    alt: str
    vid: str | None = None
    alt_index: int = 0
    record: int = 0  # ordinal of the VCF record in the stream (ALTs of one record share it)

    @property
    def pos0(self) -> int:
        """0-based position of the first REF base."""
        return self.pos - 1

    @property
    def key(self) -> str:
        """``chrom:pos:ref:alt``."""
        return f"{self.chrom}:{self.pos}:{self.ref}:{self.alt}"

    def __reduce__(self) -> tuple[type, tuple]:
        """Pickle as the constructor's arguments (a chunk of ALTs crosses to a worker process 3× faster)."""
        return Variant, (self.chrom, self.pos, self.ref, self.alt, self.vid, self.alt_index, self.record)


@dataclass(frozen=True, slots=True)
class VariantIssue:
    """An ALT that could not be scored: its key, a stable ``code`` and a message."""

    chrom: str
    pos: int
    ref: str
    alt: str
    code: str
    message: str
    vid: str | None = None
    alt_index: int = 0
    record: int = 0

    def __reduce__(self) -> tuple[type, tuple]:
        """Pickle as the constructor's arguments (see :meth:`Variant.__reduce__`)."""
        return VariantIssue, (self.chrom, self.pos, self.ref, self.alt, self.code, self.message, self.vid, self.alt_index, self.record)


@dataclass(frozen=True, slots=True)
class Region:
    """A 1-based inclusive genomic interval (``end`` None = to the contig end)."""

    chrom: str
    start: int = 1
    end: int | None = None

    @classmethod
    def parse(cls, text: str) -> Region:
        """Parse ``CHR`` or ``CHR:START-END`` (1-based, inclusive; commas allowed)."""
        m = _REGION.match(text.strip()) if isinstance(text, str) else None
        if not m:
            raise InputError("BAD_REGION", f"invalid region {text!r}", "use CHR:START-END (1-based, inclusive), e.g. chrM:1-5000")
        if m["start"] is None:
            return cls(m["chrom"])
        start, end = int(m["start"].replace(",", "")), int(m["end"].replace(",", ""))
        if start < 1 or end < start:
            raise InputError("BAD_REGION", f"invalid region {text!r}: need 1 <= START <= END", "use CHR:START-END (1-based, inclusive)")
        return cls(m["chrom"], start, end)

    def contains(self, chrom: str, pos: int) -> bool:
        """True when 1-based ``pos`` on ``chrom`` lies in the region."""
        return chrom == self.chrom and pos >= self.start and (self.end is None or pos <= self.end)

    def __str__(self) -> str:
        return self.chrom if self.end is None and self.start == 1 else f"{self.chrom}:{self.start}-{self.end or ''}"


def _classify(chrom: str, pos: int, ref: str, alt: str, reference: Reference, max_allele_bp: int) -> tuple[str, str] | None:
    """Return ``(code, message)`` when the ALT cannot be scored, else None."""
    if alt in (".", ""):
        return "INPUT.NO_ALT", "ALT is '.' (no alternate allele)"
    if alt.startswith("<") or "[" in alt or "]" in alt or alt == "*" or alt.startswith(".") or alt.endswith("."):
        return "INPUT.SYMBOLIC_ALT", f"symbolic or breakend ALT {alt!r} is not supported"
    if not _ACGT.match(ref):
        return "INPUT.NON_ACGT", f"REF {ref!r} holds a base outside ACGT"
    if not _ACGT.match(alt):
        return "INPUT.NON_ACGT", f"ALT {alt!r} holds a base outside ACGT"
    length = reference.length(chrom)
    if length is None:
        return "INPUT.UNKNOWN_CONTIG", f"contig {chrom!r} is not in the FASTA"
    if pos < 1 or pos + len(ref) - 1 > length:
        return "INPUT.OUTSIDE_CONTIG", f"{chrom}:{pos} ({len(ref)} bp REF) is outside the contig (length {length})"
    if max(len(ref), len(alt)) > max_allele_bp:
        return "INPUT.ALLELE_TOO_LONG", f"allele of {max(len(ref), len(alt))} bp exceeds the {max_allele_bp} bp limit of this model's window"
    seen = reference.fetch(chrom, pos - 1, pos - 1 + len(ref))
    if seen != ref:
        return "INPUT.REF_MISMATCH", f"REF {ref!r} does not match the FASTA ({seen!r}) at {chrom}:{pos}"
    return None


def _compression(path: Path) -> str:
    """``"bgzf"``, ``"gzip"`` (plain, not blocked) or ``"none"``, from the file's first bytes."""
    with open(path, "rb") as fh:
        head = fh.read(18)
    if head[:2] != b"\x1f\x8b":
        return "none"
    # BGZF: gzip with FEXTRA (flag 4) whose first subfield is 'BC' (RFC 1952 extra field, SAM spec 4.1).
    return "bgzf" if len(head) >= 16 and head[3] & 4 and head[12:14] == b"BC" else "gzip"


def open_vcf(vcf: str | os.PathLike[str]):
    """Open ``vcf`` with ``pysam.VariantFile`` (``INPUT.MISSING_FILE`` / ``INPUT.NOT_BGZF`` / ``INPUT.BAD_VCF`` on failure)."""
    import pysam

    path = Path(vcf)
    if not path.is_file():
        what = "VCF" if not path.is_dir() else "VCF is a folder, not a file;"
        raise InputError(
            "MISSING_FILE",
            missing_path_message(path, "VCF") if not path.is_dir() else f"{what} {path.name}",
            "pass --vcf with an existing .vcf or bgzipped .vcf.gz",
        )
    try:
        kind = _compression(path)
    except OSError as exc:
        raise InputError("BAD_VCF", f"could not read VCF {path.name}: {public_message(exc)}", "check the file's permissions") from None
    if kind == "gzip":
        raise InputError(
            "NOT_BGZF",
            f"{path.name} is compressed with plain gzip, not bgzip (BGZF)",
            f"recompress and index it: `gunzip -c {path.name} | bgzip > {path.name}.bgz && mv {path.name}.bgz {path.name} && tabix -p vcf {path.name}`, or pass the uncompressed .vcf",
        )
    try:
        return pysam.VariantFile(os.fspath(path), "r")
    except (OSError, ValueError) as exc:
        raise InputError(
            "BAD_VCF",
            f"could not read VCF {path.name}: {public_message(exc)}",
            "check the file is VCF 4.x (bgzip it with `bgzip` and index with `tabix -p vcf`)",
        ) from None


def diagnose_record(path: Path, record: int) -> str | None:
    """Why data line number ``record`` (1-based, headers not counted) of a VCF does not parse, or None.

    Re-reads the text (plain or BGZF) up to that line: names the line number and the problem (too
    few columns, a POS that is not a positive integer). Used only after pysam failed.
    """
    import gzip

    opener = gzip.open if _compression(path) != "none" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            n = 0
            for lineno, line in enumerate(fh, start=1):
                if line.startswith("#"):
                    continue
                n += 1
                if n < record:
                    continue
                cols = line.rstrip("\r\n").split("\t")
                if len(cols) < 8:
                    return f"line {lineno} has {len(cols)} tab-separated columns; a VCF record needs at least 8 (CHROM POS ID REF ALT QUAL FILTER INFO)"
                if not cols[1].isdigit():
                    return f"line {lineno}: POS {cols[1][:40]!r} is not a positive integer"
                if int(cols[1]) < 1:
                    return f"line {lineno}: POS {cols[1]} is not a 1-based position (must be >= 1)"
                return f"line {lineno} could not be parsed"
    except (OSError, EOFError, ValueError):
        return None
    return None


def _records(vf, region: Region | None, name: str) -> Iterator:
    """Records of an open VariantFile, using the index for ``region`` when there is one."""
    if region is not None and vf.index is not None:
        if region.chrom not in vf.index:
            return iter(())
        start0 = region.start - 1
        end = region.end
        try:
            return (r for r in vf.fetch(region.chrom, start0, end) if region.contains(r.chrom, r.pos))
        except ValueError as exc:
            raise InputError("BAD_VCF", f"could not query {name} for region {region}: {public_message(exc)}") from None
    if region is not None:
        return (r for r in vf if region.contains(r.chrom, r.pos))
    return iter(vf)


def read_variants(
    vcf: str | os.PathLike[str],
    reference: Reference,
    *,
    region: Region | None = None,
    max_allele_bp: int = 64,
) -> Iterator[Variant | VariantIssue]:
    """Stream the ALTs of ``vcf`` (in file order, split per ALT) as variants or issues.

    Bounded memory: one record is held at a time. Parsing errors in the middle of the file raise
    ``INPUT.BAD_VCF`` naming the record number.
    """
    import pysam

    path = Path(vcf)
    quiet = pysam.set_verbosity(0)  # htslib header warnings (undeclared contigs) are not errors here
    vf = open_vcf(path)
    n = 0
    try:
        it = _records(vf, region, path.name)
        while True:
            try:
                rec = next(it)
            except StopIteration:
                break
            except (OSError, ValueError) as exc:
                why = diagnose_record(path, n + 1) if region is None else None
                raise InputError(
                    "BAD_VCF",
                    f"{path.name}: {why or f'record {n + 1} could not be parsed: {public_message(exc)}'}",
                    "fix or remove that line (VCF columns are tab-separated; POS is a 1-based integer)",
                ) from None
            n += 1
            chrom, pos = rec.chrom, int(rec.pos)
            ref = (rec.ref or "").upper()
            vid = rec.id
            alts = rec.alts or (".",)
            for i, raw_alt in enumerate(alts):
                alt = raw_alt.upper() if raw_alt and not raw_alt.startswith("<") else (raw_alt or ".")
                problem = _classify(chrom, pos, ref, alt, reference, max_allele_bp)
                if problem is None:
                    yield Variant(chrom, pos, ref, alt, vid, i, n)
                else:
                    yield VariantIssue(chrom, pos, ref, alt, problem[0], problem[1], vid, i, n)
    finally:
        vf.close()
        pysam.set_verbosity(quiet)


__all__ = ["ISSUE_CODES", "Region", "Variant", "VariantIssue", "open_vcf", "read_variants"]
