"""Window tiling, chunking and sharding: how a variant stream becomes encoder and predictor batches.

**Tiling rule** (docs/scoring.md). With window width ``W`` (the state contract's ``window_bp``) and
stride ``S = W // 2``, reference windows are centred at ``k * S + W // 2`` (k = 0, 1, …) and
clamped into the contig by :func:`geno_lewm.windows.reference_window`. A variant at 0-based
``pos0`` belongs to tile ``k = max(0, (pos0 - W // 4) // S)``, so it lies in the central half of its
window (offset in ``[W/4, 3W/4)``) except near a contig end, where the clamped window holds only
real sequence and the variant sits off-centre (contigs shorter than ``W`` are ``N``-padded). Every
variant of a tile shares one reference window: it is encoded once, and each variant costs one
predictor call.

**Sharding rule.** ``--shard I/N`` (1-based I) keeps the variants whose tile start falls in the
I-th of N equal slices of the genome laid end to end in FASTA contig order; variants on contigs
absent from the FASTA go to the last shard. For a coordinate-sorted VCF (FASTA contig order), the
outputs of shards 1..N concatenated in order equal the unsharded run, and a tile (hence its
window) is never split between shards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from ledger.errors import InputError

T = TypeVar("T")
_SHARD = re.compile(r"^([1-9][0-9]*)/([1-9][0-9]*)$")


def tile_index(pos0: int, window_bp: int) -> int:
    """The tile of a variant at 0-based ``pos0`` (module rule)."""
    stride = max(1, window_bp // 2)
    return max(0, (pos0 - window_bp // 4) // stride)


def tile_centre(tile: int, window_bp: int) -> int:
    """The 0-based centre passed to ``reference_window`` for ``tile``."""
    return tile * max(1, window_bp // 2) + window_bp // 2


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Parse ``I/N`` with 1 <= I <= N (``INPUT.BAD_SHARD`` otherwise)."""
        m = _SHARD.match(text.strip()) if isinstance(text, str) else None
        if not m or not 1 <= int(m[1]) <= int(m[2]):
            raise InputError("BAD_SHARD", f"invalid shard {text!r}", "use I/N with 1 <= I <= N, e.g. --shard 1/4")
        return cls(int(m[1]), int(m[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


class Sharder:
    """Decides shard membership of a variant from its tile's position in the linear genome."""

    def __init__(self, shard: Shard | None, contigs: tuple[str, ...], lengths: dict[str, int], window_bp: int) -> None:
        self.shard = shard
        self.window_bp = window_bp
        self.offsets: dict[str, int] = {}
        total = 0
        for c in contigs:
            self.offsets[c] = total
            total += lengths[c]
        self.total = max(total, 1)

    def shard_of(self, chrom: str, pos0: int) -> int:
        """1-based shard number of a variant (``count`` for contigs missing from the FASTA)."""
        assert self.shard is not None
        n = self.shard.count
        if chrom not in self.offsets:
            return n
        start = tile_index(max(pos0, 0), self.window_bp) * max(1, self.window_bp // 2)
        linear = self.offsets[chrom] + start
        return min(n, linear * n // self.total + 1)

    def keeps(self, chrom: str, pos0: int) -> bool:
        """True when this run's shard owns the variant (always True without ``--shard``)."""
        return self.shard is None or self.shard_of(chrom, pos0) == self.shard.index


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items (bounded memory; order kept)."""
    if size < 1:
        raise InputError("BAD_BATCH_SIZE", f"batch size must be >= 1 (got {size})", "pass --batch-size N with N >= 1")
    buf: list[T] = []
    for item in items:
        buf.append(item)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


__all__ = ["Shard", "Sharder", "chunked", "tile_centre", "tile_index"]
