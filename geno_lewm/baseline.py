"""Carbon zero-shot baseline: log-likelihood ratio of the ALT vs the REF window, same encoder.

``carbon_zero_shot_score = log p(ALT window) − log p(REF window)`` where both windows are the
scorer's tile windows (:class:`geno_lewm.scoring.scorer.WindowPlacer`) and the ALT window follows
the edit length rule (:func:`geno_lewm.edits.apply_edit`). Sequence log-likelihoods come from
:meth:`CarbonEncoder.sequence_logprob` (sum over DNA tokens). It costs one encoder pass per ALT
(plus one per distinct REF window): that is the cost GenoLeWM's predictor avoids.

**Log-likelihood cache** (``--logp-cache-jsonl``): rows
``{schema_version, generated_by, scope: {model, revision, encoder_hash}, sequence_sha256, logp}``.
Rows are only reused within the current encoder's scope; within a scope every ``sequence_sha256``
is unique (a duplicate is ``INPUT.CACHE_DUPLICATE``). Rows of other scopes are kept untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import msgspec

from geno_lewm.numerics import canonical_decimal
from geno_lewm.scoring.variants import Variant, VariantIssue
from ledger.canonical import canonical_json
from ledger.errors import InputError
from ledger.fsutil import atomic_open

GENERATED_BY: Final = "geno-lewm-carbon-baseline"
SCORE_FIELD: Final = "carbon_zero_shot_score"
SCHEMA_VERSION: Final = "1.0.0"
#: Significant digits of cached sequence log-likelihoods (the LLR itself is written with 8).
LOGP_DIGITS: Final = 12
_ENC = msgspec.json.Encoder()


def sequence_sha256(seq: str) -> str:
    """sha256 of an upper-cased sequence (the cache key)."""
    return hashlib.sha256(seq.upper().encode("ascii")).hexdigest()


class LogpCache:
    """Scoped sequence log-likelihood cache backed by a JSONL file (rewritten atomically on save)."""

    def __init__(self, path: str | os.PathLike[str] | None, *, model: str, revision: str, encoder_hash: str) -> None:
        self.path = Path(path) if path is not None else None
        self.scope = {"model": model, "revision": revision, "encoder_hash": encoder_hash}
        self.values: dict[str, str] = {}  # this scope: sha256 -> canonical logp
        self._foreign: list[bytes] = []  # rows of other scopes, kept verbatim
        self.added = 0
        self.hits = 0
        if self.path is not None and self.path.is_file():
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        with open(self.path, "rb") as fh:
            for i, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    scope, key, value = row["scope"], row["sequence_sha256"], row["logp"]
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise InputError(
                        "BAD_CACHE", f"{self.path.name} line {i} is not a log-likelihood cache row", "delete the cache file to rebuild it"
                    ) from None
                if row.get("schema_version", "").split(".")[0] != "1":
                    raise InputError("SCHEMA_COMPAT", f"{self.path.name} line {i}: unsupported schema_version {row.get('schema_version')!r}")
                if scope != self.scope:
                    self._foreign.append(line.rstrip(b"\n"))
                    continue
                if key in self.values:
                    raise InputError(
                        "CACHE_DUPLICATE",
                        f"{self.path.name} line {i}: sequence {key[:12]}… appears twice in scope {scope['model']}@{scope['revision']}",
                        "delete the cache file to rebuild it",
                    )
                self.values[key] = canonical_decimal(float(value), LOGP_DIGITS)

    def get(self, seq: str) -> float | None:
        """Cached log-likelihood of ``seq`` in this scope (None if absent)."""
        v = self.values.get(sequence_sha256(seq))
        if v is not None:
            self.hits += 1
        return None if v is None else float(v)

    def put(self, seq: str, logp: float) -> None:
        """Record a log-likelihood (canonicalised)."""
        key = sequence_sha256(seq)
        if key not in self.values:
            self.values[key] = canonical_decimal(logp, LOGP_DIGITS)
            self.added += 1

    def save(self) -> None:
        """Rewrite the cache file atomically (foreign-scope rows first, then this scope's, sorted)."""
        if self.path is None:
            return
        with atomic_open(self.path, "wb") as fh:
            for line in self._foreign:
                fh.write(line + b"\n")
            for key in sorted(self.values):
                row = {"schema_version": SCHEMA_VERSION, "generated_by": GENERATED_BY, "scope": self.scope, "sequence_sha256": key, "logp": self.values[key]}
                fh.write(canonical_json(row) + b"\n")


@dataclass
class BaselineStats:
    """Work counters of a baseline run."""

    encoder_calls: int = 0
    sequences_encoded: int = 0
    variants_scored: int = 0
    cache_hits: int = 0

    def to_dict(self) -> dict[str, int]:
        """Integers for reports."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class BaselineResult:
    """One baseline-scored variant."""

    variant: Variant
    score: float


@dataclass
class BaselineScorer:
    """Zero-shot LLR scorer over an encoder, using the scorer's window placement."""

    encoder: Any
    reference: Any
    window_bp: int
    batch_size: int = 64
    cache: LogpCache | None = None
    stats: BaselineStats = field(default_factory=BaselineStats)

    def __post_init__(self) -> None:
        from geno_lewm.scoring.scorer import WindowPlacer

        self.placer = WindowPlacer(self.reference, self.window_bp)
        self._ref_logp: OrderedDict[str, float] = OrderedDict()

    def _logp(self, seqs: list[str]) -> list[float]:
        """Log-likelihoods of ``seqs`` (cache first, then the encoder in batches)."""
        out: dict[str, float] = {}
        todo: list[str] = []
        pending: set[str] = set()  # membership for ``todo`` in O(1) (a list scan made this quadratic)
        for s in seqs:
            if s in out or s in pending:
                continue
            if s in self._ref_logp:
                out[s] = self._ref_logp[s]
                continue
            v = self.cache.get(s) if self.cache is not None else None
            if v is not None:
                self.stats.cache_hits += 1
                out[s] = v
            else:
                todo.append(s)
                pending.add(s)
        for i in range(0, len(todo), self.batch_size):
            batch = todo[i : i + self.batch_size]
            lp = self.encoder.sequence_logprob(batch)  # (B,)
            self.stats.encoder_calls += 1
            self.stats.sequences_encoded += len(batch)
            for s, v in zip(batch, lp.tolist(), strict=True):
                out[s] = float(canonical_decimal(v, LOGP_DIGITS))
                if self.cache is not None:
                    self.cache.put(s, v)
        return [out[s] for s in seqs]

    def score(self, items: Iterable[Variant | VariantIssue]) -> list[BaselineResult | VariantIssue]:
        """LLR per variant (issues pass through), input order kept."""
        from geno_lewm.edits import apply_edit

        placed = [it if isinstance(it, VariantIssue) else self.placer.place(it) for it in items]
        ok = [p for p in placed if not isinstance(p, VariantIssue)]
        if not ok:
            return list(placed)  # type: ignore[arg-type]
        refs = [p.window.seq for p in ok]
        alts = [apply_edit(p.window.seq, p.edit, right_flank=p.window.right_flank) for p in ok]
        ref_lp = self._logp(refs)
        for s, v in zip(refs, ref_lp, strict=True):
            self._ref_logp[s] = v
        while len(self._ref_logp) > 256:
            self._ref_logp.popitem(last=False)
        alt_lp = self._logp(alts)
        scores = iter(a - r for a, r in zip(alt_lp, ref_lp, strict=True))
        self.stats.variants_scored += len(ok)
        return [p if isinstance(p, VariantIssue) else BaselineResult(p.variant, next(scores)) for p in placed]


def baseline_row(item: BaselineResult | VariantIssue, *, encoder_identity: Any) -> bytes:
    """One JSONL row (``generated_by=geno-lewm-carbon-baseline``, score in ``carbon_zero_shot_score``)."""
    v = item.variant if isinstance(item, BaselineResult) else item
    row: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_by": GENERATED_BY,
        "chrom": v.chrom,
        "pos": v.pos,
        "id": v.vid,
        "ref": v.ref,
        "alt": v.alt,
        SCORE_FIELD: msgspec.Raw(canonical_decimal(item.score).encode()) if isinstance(item, BaselineResult) else None,
        "encoder": {"id": encoder_identity.encoder_id, "revision": encoder_identity.revision, "hash": encoder_identity.hash},
        "error_code": None if isinstance(item, BaselineResult) else item.code,
        "error_message": None if isinstance(item, BaselineResult) else item.message,
        "stand_in": bool(encoder_identity.stand_in),
    }
    return _ENC.encode(row)


__all__ = ["GENERATED_BY", "SCORE_FIELD", "BaselineResult", "BaselineScorer", "BaselineStats", "LogpCache", "baseline_row", "sequence_sha256"]
