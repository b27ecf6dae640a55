"""The indexed reference FASTA: open it with pysam, building the ``.fai`` index when it is missing.

:class:`Reference` wraps ``pysam.FastaFile`` with what scoring needs: the contig order and lengths
(used for sharding), and upper-cased base fetches. A missing ``.fai`` is built once next to the
FASTA (``pysam.faidx``); a FASTA that cannot be indexed (unreadable, malformed, bgzipped without
``.gzi`` and not writable) is ``INPUT.BAD_FASTA``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ledger.errors import InputError
from ledger.identity import missing_path_message, public_message


def _index_home(path: Path) -> Path:
    """Where to index a FASTA whose folder is read-only: a per-user temp folder holding a symlink."""
    import hashlib
    import tempfile

    key = hashlib.sha256(os.fspath(path.resolve()).encode()).hexdigest()[:16]
    home = Path(tempfile.gettempdir()) / f"geno-lewm-fai-{os.getuid() if hasattr(os, 'getuid') else 'user'}" / key
    home.mkdir(parents=True, exist_ok=True)
    link = home / path.name
    if not link.exists():
        link.symlink_to(path.resolve())
    return link


def ensure_fasta_index(fasta: str | os.PathLike[str]) -> Path:
    """Return the FASTA path to open, building the ``.fai`` with ``pysam.faidx`` when missing.

    The index goes next to the FASTA; when that folder is read-only (e.g. an installed wheel), the
    FASTA is symlinked into a per-user temp folder and indexed there (the returned path).
    """
    import pysam

    path = Path(fasta)
    if not path.is_file():
        raise InputError("MISSING_FILE", missing_path_message(path, "FASTA"), "pass --fasta with an existing (optionally bgzipped) FASTA file")
    fai = path.with_name(path.name + ".fai")
    if not fai.is_file() and not os.access(path.parent, os.W_OK) and not path.name.endswith(".gz"):
        path = _index_home(path)
        fai = path.with_name(path.name + ".fai")
    if not fai.is_file():
        gzi = path.with_name(path.name + ".gzi")
        made = [fai] + ([gzi] if not gzi.exists() else [])
        try:
            pysam.faidx(os.fspath(path))
        except (pysam.SamtoolsError, OSError) as exc:
            for partial in made:  # never leave a half-built index behind
                partial.unlink(missing_ok=True)
            raise InputError(
                "BAD_FASTA",
                f"could not build the FASTA index for {path.name}: {public_message(' '.join(str(exc).split()))[:200]}",
                "index it yourself with `samtools faidx` (a gzip FASTA must be bgzipped), or make its folder writable",
            ) from None
    return path


class Reference:
    """An open, indexed reference FASTA (``pysam.FastaFile``)."""

    def __init__(self, fasta: str | os.PathLike[str]) -> None:
        import pysam

        self.path = Path(fasta)
        opened = ensure_fasta_index(self.path)
        try:
            self.fasta = pysam.FastaFile(os.fspath(opened))
        except (OSError, ValueError) as exc:
            raise InputError("BAD_FASTA", f"could not open FASTA {self.path.name}: {public_message(exc)}") from None
        #: Contig names in FASTA order.
        self.contigs: tuple[str, ...] = tuple(self.fasta.references)
        #: Contig lengths in bp.
        self.lengths: dict[str, int] = dict(zip(self.fasta.references, self.fasta.lengths, strict=True))

    def length(self, chrom: str) -> int | None:
        """Length of ``chrom`` in bp, or None if the FASTA has no such contig."""
        return self.lengths.get(chrom)

    def fetch(self, chrom: str, start0: int, end0: int) -> str:
        """Upper-case bases ``[start0, end0)`` of ``chrom`` (clipped to the contig)."""
        n = self.lengths[chrom]
        s, e = max(0, start0), min(n, end0)
        if e <= s:
            return ""
        return self.fasta.fetch(chrom, s, e).upper()

    def close(self) -> None:
        """Close the underlying file."""
        self.fasta.close()

    def __enter__(self) -> Reference:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Reference", "ensure_fasta_index"]
