"""Score rows: the record ``geno-lewm-score`` writes per ALT, and its canonical JSON bytes.

Fields (fixed order, every row has every field; docs/scoring.md):

``schema_version``  ``"1.0.0"``
``generated_by``    ``"geno-lewm-score"``
``model_id``        sha256 of the model package's manifest
``chrom``, ``pos``, ``id``, ``ref``, ``alt``   the variant key (1-based ``pos``, ALT split per row)
``score``           raw score: L2 norm of (predicted latent − source latent), canonical decimal
``percentile``      calibrated percentile in [0, 100] within the row's bucket (null if uncalibrated)
``bucket``          the calibration bucket used (after back-off), ``"uncalibrated"`` without a table
``confidence``      n / (n + min_count) for the bucket's null count n (null if uncalibrated)
``error_code``      null when scored, else a stable ``INPUT.*`` code and ``error_message``
``stand_in``        true when the encoder is the tiny stand-in (no biological skill)

Numbers are written as raw canonical-decimal tokens (:mod:`geno_lewm.numerics`), so the bytes of a
row are a pure function of the canonical strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import msgspec

from geno_lewm.numerics import canonical_decimal, json_number

SCORE_ROW_SCHEMA_VERSION: Final = "1.0.0"
GENERATED_BY: Final = "geno-lewm-score"
UNCALIBRATED: Final = "uncalibrated"

#: Field names of a score row, in the order they are written.
SCORE_ROW_FIELDS: Final[tuple[str, ...]] = (
    "schema_version",
    "generated_by",
    "model_id",
    "chrom",
    "pos",
    "id",
    "ref",
    "alt",
    "score",
    "percentile",
    "bucket",
    "confidence",
    "error_code",
    "error_message",
    "stand_in",
)

_ENC = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One output row: a scored ALT (``error_code`` None) or a per-variant error row."""

    model_id: str
    chrom: str
    pos: int
    ref: str
    alt: str
    vid: str | None
    score: str | None  # canonical decimal strings from here on
    percentile: str | None
    bucket: str | None
    confidence: str | None
    error_code: str | None
    error_message: str | None
    stand_in: bool
    record: int = 0  # ordinal of the input VCF record (not written; groups ALTs for the VCF writer)

    @property
    def ok(self) -> bool:
        """True for a scored row."""
        return self.error_code is None

    @property
    def key(self) -> dict[str, Any]:
        """The variant key ``{chrom, pos, ref, alt}``."""
        return {"chrom": self.chrom, "pos": self.pos, "ref": self.ref, "alt": self.alt}

    def output_fields(self) -> dict[str, str | None]:
        """The canonical strings that enter the receipt's output commitment."""
        return {"score": self.score, "percentile": self.percentile, "bucket": self.bucket, "confidence": self.confidence}

    def to_dict(self) -> dict[str, Any]:
        """The row as plain Python values (numbers parsed back from their canonical strings)."""
        return self._document(float)

    def to_json(self) -> bytes:
        """One JSON line (no newline): fixed field order, numbers as canonical raw tokens."""
        return _ENC.encode(self._document(_raw_number))

    def _document(self, number: Callable[[str], Any]) -> dict[str, Any]:
        """The row's fields in output order, each canonical number string passed through ``number``."""
        return {
            "schema_version": SCORE_ROW_SCHEMA_VERSION,
            "generated_by": GENERATED_BY,
            "model_id": self.model_id,
            "chrom": self.chrom,
            "pos": self.pos,
            "id": self.vid,
            "ref": self.ref,
            "alt": self.alt,
            "score": None if self.score is None else number(self.score),
            "percentile": None if self.percentile is None else number(self.percentile),
            "bucket": self.bucket,
            "confidence": None if self.confidence is None else number(self.confidence),
            "error_code": self.error_code,
            "error_message": self.error_message,
            "stand_in": self.stand_in,
        }


def _raw_number(value: str) -> msgspec.Raw:
    """A canonical decimal string as a raw JSON number token."""
    return msgspec.Raw(value.encode("ascii"))


def _canonical(x: float | str | None) -> str | None:
    """``canonical_decimal(x)``; a ``str`` is taken as already canonical (from :func:`canonical_decimal`)."""
    return x if x is None or type(x) is str else canonical_decimal(x)


def scored_row(
    model_id: str, variant, score: float | str, percentile: float | str | None, bucket: str | None, confidence: float | str | None, *, stand_in: bool
) -> ScoreRow:
    """A row for a scored variant; numbers are canonicalised here (strings are taken as already canonical)."""
    return ScoreRow(
        model_id,
        variant.chrom,
        variant.pos,
        variant.ref,
        variant.alt,
        variant.vid,
        _canonical(score),
        _canonical(percentile),
        bucket if bucket is not None else UNCALIBRATED,
        _canonical(confidence),
        None,
        None,
        stand_in,
        variant.record,
    )


def error_row(model_id: str, issue, *, stand_in: bool) -> ScoreRow:
    """A per-variant error row for a :class:`~geno_lewm.scoring.variants.VariantIssue`."""
    return ScoreRow(
        model_id, issue.chrom, issue.pos, issue.ref, issue.alt, issue.vid, None, None, None, None, issue.code, issue.message, stand_in, issue.record
    )


#: ScoreRow's attributes in constructor order (the columns of :func:`row_columns`).
ROW_ATTRIBUTES: Final[tuple[str, ...]] = tuple(ScoreRow.__dataclass_fields__)


def row_columns(rows: list[ScoreRow]) -> tuple[list[Any], ...]:
    """The rows as one list per attribute (:data:`ROW_ATTRIBUTES` order): compact to send between processes."""
    return tuple([getattr(r, name) for r in rows] for name in ROW_ATTRIBUTES)


def rows_from_columns(columns: tuple[list[Any], ...]) -> list[ScoreRow]:
    """The rows back from :func:`row_columns`."""
    return list(map(ScoreRow, *columns))


def canonical_field(value: Any) -> str | None:
    """Canonical string of a row's number as read back from JSON (None stays None)."""
    return None if value is None else canonical_decimal(value)


__all__ = [
    "GENERATED_BY",
    "SCORE_ROW_FIELDS",
    "SCORE_ROW_SCHEMA_VERSION",
    "UNCALIBRATED",
    "ScoreRow",
    "ROW_ATTRIBUTES",
    "canonical_field",
    "error_row",
    "json_number",
    "row_columns",
    "rows_from_columns",
    "scored_row",
]
