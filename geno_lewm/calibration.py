"""Calibration table (RFC-0009): raw scores → percentile, bucket and confidence.

A table is built from the scores of a **null set** of variants (:func:`sample_null_snvs`: random
SNVs drawn with a fixed seed from the reference, excluding every position the training edits
touched and every position of the inputs passed as ``exclude``). Each scored variant falls in a
**bucket** = GC tercile of its reference window × region class of its locus:

- GC tercile (``gc_low`` / ``gc_mid`` / ``gc_high``): GC fraction of the window's real bases, cut at
  the null set's 1/3 and 2/3 quantiles (stored in the table);
- region class: ``edge`` (window clamped or padded at a contig end, i.e. the variant is not in the
  central half), ``cpg`` (the changed base is a C followed by G or a G preceded by C), ``other``.

**Back-off.** A fine bucket (``gc_mid/cpg``) with fewer than ``min_count`` null scores backs off to
its GC tercile (``gc_mid/*``), then to the global bucket ``*``. The row's **percentile** is the
mid-rank of the raw score among the bucket's null scores, ×100; **confidence** is
``n / (n + min_count)`` for the bucket's null count ``n`` (small or backed-off buckets say so).

Storage: Parquet, one row per bucket (``bucket``, ``level``, ``count``, ``scores`` = sorted null
scores, each parsed back from its canonical decimal), with the table metadata (``schema_version``
1.0.0, ``generated_by``, tercile cuts, ``min_count``, null-set description) as JSON under the
``geno_lewm`` schema-metadata key. The table is a package artifact (role ``calibration``); its
sha256 is the receipts' ``calibration_hash``.
"""

from __future__ import annotations

import bisect
import json
import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from geno_lewm.numerics import canonical_decimal, canonical_number
from geno_lewm.versioning import SCHEMAS, load_document
from ledger.errors import InputError, ProvenanceError
from ledger.fsutil import atomic_path
from ledger.identity import sha256_file

CALIBRATION_FILE: Final = "calibration.parquet"
SCHEMA_VERSION: Final = SCHEMAS["calibration_table"].version
GENERATED_BY: Final = "geno-lewm-calibrate"
#: Metadata fields this runtime understands (a table's ``required_fields`` may only name these).
METADATA_FIELDS: Final = frozenset({"schema_version", "generated_by", "gc_cuts", "min_count", "buckets", "model_id_basis", "stand_in", "null_set"})
GLOBAL: Final = "*"
GC_TERCILES: Final = ("gc_low", "gc_mid", "gc_high")
REGION_CLASSES: Final = ("edge", "cpg", "other")
_META_KEY = b"geno_lewm"


def gc_fraction(seq: str) -> float:
    """GC fraction of the real (non-``N``) bases of ``seq`` (0.0 for an all-``N`` window)."""
    s = seq.upper()
    real = len(s) - s.count("N")
    return 0.0 if real == 0 else (s.count("G") + s.count("C")) / real


def region_class(window_seq: str, offset: int, ref: str, *, edge: bool) -> str:
    """``edge`` / ``cpg`` / ``other`` for a change whose first REF base is at window ``offset``."""
    if edge:
        return "edge"
    s = window_seq.upper()
    for i in range(offset, min(offset + max(len(ref), 1), len(s))):
        b = s[i]
        if (b == "C" and i + 1 < len(s) and s[i + 1] == "G") or (b == "G" and i > 0 and s[i - 1] == "C"):
            return "cpg"
    return "other"


@dataclass(frozen=True, slots=True)
class Features:
    """The bucket features of one scored variant."""

    gc: float
    region: str


def features_of(window_seq: str, window_bp: int, offset: int, ref: str, *, pad_left: int = 0, pad_right: int = 0, gc: float | None = None) -> Features:
    """Bucket features; ``edge`` when the window is padded or the variant is outside its central half.

    ``gc`` may carry ``gc_fraction(window_seq)`` computed once per window by the caller.
    """
    quarter = window_bp // 4
    edge = pad_left > 0 or pad_right > 0 or not quarter <= offset < window_bp - quarter
    return Features(gc_fraction(window_seq) if gc is None else gc, region_class(window_seq, offset, ref, edge=edge))


@dataclass(frozen=True)
class Lookup:
    """Calibrated outputs for one raw score."""

    percentile: float
    bucket: str
    confidence: float


class CalibrationTable:
    """Null-score distributions per bucket, with back-off (see module docstring)."""

    def __init__(self, buckets: dict[str, list[float]], *, gc_cuts: tuple[float, float], min_count: int, meta: dict[str, Any] | None = None) -> None:
        if min_count < 1:
            raise InputError("BAD_CALIBRATION", f"min_count must be >= 1 (got {min_count})")
        self.buckets = {name: sorted(canonical_number(x) for x in scores) for name, scores in buckets.items()}
        self.gc_cuts = (canonical_number(gc_cuts[0]), canonical_number(gc_cuts[1]))
        self.min_count = int(min_count)
        self.meta = dict(meta or {})
        # derived once: each bucket's confidence as published, and the terciles of the windows seen
        self._confidence = {name: canonical_decimal(len(v) / (len(v) + self.min_count)) for name, v in self.buckets.items()}
        self._terciles: dict[float, str] = {}
        self._percentiles: dict[tuple[str, int, int], str] = {}
        self._bucket_of: dict[tuple[str, str], str] = {}  # (tercile, region class) → bucket after back-off

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def build(cls, scores: list[float], features: list[Features], *, min_count: int = 30, meta: dict[str, Any] | None = None) -> CalibrationTable:
        """Build from null scores and their features (GC cuts = the null set's terciles)."""
        if len(scores) != len(features) or not scores:
            raise InputError("BAD_CALIBRATION", "calibration needs one feature per null score and at least one score")
        gcs = sorted(f.gc for f in features)
        n = len(gcs)
        cuts = (gcs[min(n - 1, n // 3)], gcs[min(n - 1, (2 * n) // 3)])
        proto = cls({}, gc_cuts=cuts, min_count=min_count)
        buckets: dict[str, list[float]] = {GLOBAL: []}
        for s, f in zip(scores, features, strict=True):
            t = proto.tercile(f.gc)
            for name in (GLOBAL, f"{t}/*", f"{t}/{f.region}"):
                buckets.setdefault(name, []).append(s)
        return cls(buckets, gc_cuts=cuts, min_count=min_count, meta=meta)

    def tercile(self, gc: float) -> str:
        """GC tercile name of a window GC fraction (memoised: a window's variants share its GC fraction)."""
        t = self._terciles.get(gc)
        if t is None:
            if len(self._terciles) > 4096:
                self._terciles.clear()
            g = canonical_number(gc)
            t = self._terciles[gc] = GC_TERCILES[0] if g < self.gc_cuts[0] else GC_TERCILES[1] if g < self.gc_cuts[1] else GC_TERCILES[2]
        return t

    # -- lookup -------------------------------------------------------------------------------
    def bucket_for(self, features: Features) -> str:
        """The bucket used after back-off."""
        t = self.tercile(features.gc)
        key = (t, features.region)
        name = self._bucket_of.get(key)
        if name is None:
            name = self._bucket_of[key] = next((n for n in (f"{t}/{features.region}", f"{t}/*") if len(self.buckets.get(n, ())) >= self.min_count), GLOBAL)
        return name

    def lookup(self, score: float, features: Features) -> Lookup:
        """Percentile (mid-rank ×100), bucket and confidence of a raw score."""
        pct, name, conf = self.lookup_canonical(canonical_decimal(score), features)
        return Lookup(float(pct), name, float(conf))

    def lookup_canonical(self, score: str, features: Features) -> tuple[str, str, str]:
        """:meth:`lookup` for a score already in canonical decimal form; the numbers come back canonical too.

        The scoring run keeps every published number as its canonical string, so each is formatted
        once per variant (and the confidence, a function of the bucket alone, once per bucket).
        """
        name = self.bucket_for(features)
        null = self.buckets[name]
        s = float(score)
        lo, hi = bisect.bisect_left(null, s), bisect.bisect_right(null, s)
        key = (name, lo, hi)  # a bucket has at most 2n+1 rank pairs: each percentile is formatted once
        pct = self._percentiles.get(key)
        if pct is None:
            pct = self._percentiles[key] = canonical_decimal(100.0 * (lo + 0.5 * (hi - lo)) / len(null))
        return pct, name, self._confidence[name]

    # -- storage ------------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """The table metadata document (float-free; numbers as canonical decimal strings)."""
        return {
            **self.meta,
            "schema_version": SCHEMA_VERSION,
            "generated_by": self.meta.get("generated_by", GENERATED_BY),
            "gc_cuts": [canonical_decimal(c) for c in self.gc_cuts],
            "min_count": self.min_count,
            "buckets": [{"name": k, "count": len(v)} for k, v in sorted(self.buckets.items())],
        }

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as Parquet atomically; return the path."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        names = sorted(self.buckets)
        table = pa.table(
            {
                "bucket": pa.array(names, pa.string()),
                "level": pa.array(["global" if n == GLOBAL else "gc" if n.endswith("/*") else "fine" for n in names], pa.string()),
                "count": pa.array([len(self.buckets[n]) for n in names], pa.int64()),
                "scores": pa.array([self.buckets[n] for n in names], pa.list_(pa.float64())),
            }
        )
        meta = json.dumps(self.metadata(), sort_keys=True, separators=(",", ":")).encode()
        table = table.replace_schema_metadata({_META_KEY: meta})
        dest = Path(path)
        with atomic_path(dest) as tmp:
            pq.write_table(table, os.fspath(tmp), compression="zstd", write_statistics=False)
        return dest

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> CalibrationTable:
        """Read and check a table (``INPUT.SCHEMA_COMPAT`` for a foreign MAJOR, ``PROVENANCE.BAD_CALIBRATION`` if malformed)."""
        import pyarrow.parquet as pq

        p = Path(path)
        try:
            with pq.ParquetFile(os.fspath(p)) as f:  # not read_table: its dataset layer costs 40 ms of start-up
                table = f.read()
            raw = (table.schema.metadata or {}).get(_META_KEY)
            meta = json.loads(raw) if raw else None
        except Exception as exc:  # noqa: BLE001 - any unreadable table is bad
            raise ProvenanceError(
                "BAD_CALIBRATION", f"calibration table {p.name} is unreadable ({type(exc).__name__})", "rebuild it with geno-lewm-calibrate"
            ) from None
        if not isinstance(meta, dict):
            raise ProvenanceError("BAD_CALIBRATION", f"calibration table {p.name} has no geno_lewm metadata", "rebuild it with geno-lewm-calibrate")
        meta = load_document("calibration_table", meta, known_fields=METADATA_FIELDS)
        rows = table.to_pylist()
        buckets = {r["bucket"]: list(r["scores"]) for r in rows}
        declared = {b["name"]: int(b["count"]) for b in meta["buckets"]}
        if declared != {k: len(v) for k, v in buckets.items()} or GLOBAL not in buckets:
            raise ProvenanceError(
                "BAD_CALIBRATION", f"calibration table {p.name}: bucket counts do not match its metadata", "rebuild it with geno-lewm-calibrate"
            )
        cuts = tuple(float(c) for c in meta["gc_cuts"])
        extra = {k: v for k, v in meta.items() if k not in {"schema_version", "gc_cuts", "min_count", "buckets"}}
        return cls(buckets, gc_cuts=(cuts[0], cuts[1]), min_count=int(meta["min_count"]), meta=extra)


def calibration_hash(path: str | os.PathLike[str] | None) -> str | None:
    """sha256 of a calibration table file (None when there is none)."""
    if path is None or not Path(path).is_file():
        return None
    return sha256_file(path)[0]


def sample_null_snvs(
    reference: Any,
    n: int,
    *,
    seed: int,
    intervals: list[tuple[str, int, int]] | None = None,
    exclude: Iterable[tuple[str, int]] = (),
) -> list[tuple[str, int, str, str]]:
    """``n`` distinct random SNVs ``(chrom, pos1, ref, alt)`` from the reference (seeded).

    Positions are drawn uniformly over ``intervals`` (0-based half-open ``(chrom, start0, end0)``;
    default: every contig whole), skipping non-ACGT reference bases and every ``(chrom, pos1)`` in
    ``exclude``; the ALT is uniform among the three other bases. Deterministic for a given
    reference, intervals, ``n`` and ``seed``; returned in genome order.
    """
    if n < 1:
        raise InputError("BAD_CALIBRATION", f"--n-null must be >= 1 (got {n})")
    rng = random.Random(f"geno-lewm-calibration-null:{seed}")
    banned = set(exclude)
    spans = intervals if intervals is not None else [(c, 0, reference.lengths[c]) for c in reference.contigs]
    spans = [(c, max(0, s), min(reference.lengths.get(c, 0), e)) for c, s, e in spans if c in reference.lengths]
    spans = [sp for sp in spans if sp[2] > sp[1]]
    weights = [e - s for _, s, e in spans]
    if not spans or n > sum(weights) // 2:
        raise InputError("BAD_CALIBRATION", f"cannot draw {n} null SNVs from {sum(weights)} eligible reference positions", "lower --n-null")
    out: list[tuple[str, int, str, str]] = []
    seen: set[tuple[str, int]] = set()
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 50 * n + 1000:
            raise InputError("BAD_CALIBRATION", f"only {len(out)} usable null positions found", "lower --n-null or use a larger reference")
        chrom, start, end = rng.choices(spans, weights)[0]
        pos1 = rng.randrange(start, end) + 1
        if (chrom, pos1) in banned or (chrom, pos1) in seen:
            continue
        base = reference.fetch(chrom, pos1 - 1, pos1)
        if base not in ("A", "C", "G", "T"):
            continue
        alt = rng.choice([b for b in "ACGT" if b != base])
        seen.add((chrom, pos1))
        out.append((chrom, pos1, base, alt))
    order = {c: i for i, c in enumerate(reference.contigs)}
    out.sort(key=lambda v: (order[v[0]], v[1], v[3]))
    return out


__all__ = [
    "CALIBRATION_FILE",
    "GC_TERCILES",
    "GENERATED_BY",
    "GLOBAL",
    "REGION_CLASSES",
    "SCHEMA_VERSION",
    "CalibrationTable",
    "Features",
    "Lookup",
    "calibration_hash",
    "features_of",
    "gc_fraction",
    "region_class",
    "sample_null_snvs",
]
