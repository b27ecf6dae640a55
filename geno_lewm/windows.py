"""Reference windows from an indexed FASTA, with the documented clamping/padding rule at contig ends.

Rule (docs/model.md): a window of ``width`` bases is centred on ``pos0`` (start = pos0 − width//2)
and then clamped to lie inside the contig, so near a contig end the variant sits off-centre but the
window holds only real sequence. Only when the contig is shorter than ``width`` is the window
padded with ``N``: ``pad_left = (width − L) // 2`` on the left, the rest on the right; ``start0`` is
then negative (−pad_left), so window offset = genomic pos0 − start0 holds everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import InputError, ResourceError
from ledger.fsutil import atomic_path

#: Extra reference bases fetched after each window, used to refill deletions (edits.apply_edit).
DEFAULT_FLANK = 64


@dataclass(frozen=True)
class Window:
    """A reference window: contig, 0-based start (negative when left-padded), sequence and padding."""

    chrom: str
    start0: int
    seq: str
    pad_left: int
    pad_right: int
    right_flank: str = ""

    @property
    def width(self) -> int:
        """Number of bases in the window (including padding)."""
        return len(self.seq)

    def offset_of(self, pos0: int) -> int:
        """Window offset of genomic 0-based ``pos0`` (``INPUT.EDIT_OUT_OF_WINDOW`` if outside)."""
        off = pos0 - self.start0
        if not 0 <= off < len(self.seq):
            raise InputError("EDIT_OUT_OF_WINDOW", f"{self.chrom}:{pos0 + 1} is outside the window starting at {self.start0 + 1}")
        return off


def open_fasta(path: str | os.PathLike[str], *, index_dir: str | os.PathLike[str] | None = None):
    """Open a FASTA with pysam, building the ``.fai`` index when missing or older than the FASTA.

    A fresh ``.fai`` beside the FASTA is used as is. Otherwise, with ``index_dir`` (or when the
    FASTA's directory is not writable) the index is written to ``index_dir/<name>.fai`` and the
    FASTA is read in place through it: no symlink or copy of the FASTA is made, and nothing is
    written beside it (a dataset package stays byte-for-byte as verified). Without ``index_dir``
    the index is written beside the FASTA.
    """
    import pysam

    src = Path(path)
    if not src.is_file():
        raise ResourceError("MISSING_FASTA", f"FASTA file {src.name!r} not found", "pass --fasta (or a --dataset-dir holding one)")
    if src.suffix == ".gz":
        fai = Path(f"{src}.fai")
        if not fai.is_file():
            raise ResourceError(
                "FASTA_INDEX", f"compressed FASTA {src.name} has no .fai/.gzi index", "index it with `samtools faidx` (bgzip-compressed FASTA only)"
            )
        return pysam.FastaFile(str(src))
    fai = Path(f"{src}.fai")
    if fai.is_file() and fai.stat().st_mtime >= src.stat().st_mtime:
        return pysam.FastaFile(str(src))
    if index_dir is None and not os.access(src.parent, os.W_OK):
        raise ResourceError("FASTA_INDEX", f"cannot write an index beside {src.name}", "pass an index directory or index the FASTA first")
    if index_dir is not None:
        idx = Path(index_dir)
        idx.mkdir(parents=True, exist_ok=True)
        fai = idx / f"{src.name}.fai"
        if fai.is_file() and fai.stat().st_mtime >= src.stat().st_mtime:
            return pysam.FastaFile(str(src), filepath_index=str(fai))
    try:
        with atomic_path(fai) as tmp:
            pysam.faidx(str(src), "--fai-idx", str(tmp))
    except pysam.SamtoolsError as exc:
        raise ResourceError("FASTA_INDEX", f"could not index {src.name}: {exc}") from None
    return pysam.FastaFile(str(src), filepath_index=str(fai))


def reference_window(fasta, chrom: str, pos0: int, width: int, *, flank: int = DEFAULT_FLANK) -> Window:
    """The ``width``-base reference window around 0-based ``pos0`` on ``chrom`` (module rule)."""
    if width <= 0:
        raise InputError("WINDOW_WIDTH", f"window width must be positive (got {width})")
    if isinstance(fasta, (str, os.PathLike)):
        fasta = open_fasta(fasta)
    if chrom not in fasta.references:
        raise InputError(
            "UNKNOWN_CONTIG", f"contig {chrom!r} is not in the FASTA (has {', '.join(fasta.references[:5])}…)", "use the FASTA's contig names (e.g. chrM vs MT)"
        )
    length = fasta.get_reference_length(chrom)
    if not 0 <= pos0 < length:
        raise InputError("POSITION_OUT_OF_CONTIG", f"{chrom}:{pos0 + 1} is outside the contig (length {length})")
    if length >= width:
        start = min(max(pos0 - width // 2, 0), length - width)
        seq = fasta.fetch(chrom, start, start + width).upper()
        tail = fasta.fetch(chrom, start + width, min(length, start + width + flank)).upper() if flank > 0 else ""
        return Window(chrom=chrom, start0=start, seq=seq, pad_left=0, pad_right=0, right_flank=tail)
    pad_left = (width - length) // 2
    pad_right = width - length - pad_left
    seq = "N" * pad_left + fasta.fetch(chrom, 0, length).upper() + "N" * pad_right
    return Window(chrom=chrom, start0=-pad_left, seq=seq, pad_left=pad_left, pad_right=pad_right, right_flank="")
