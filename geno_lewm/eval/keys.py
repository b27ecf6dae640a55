"""Variant keys ``(chrom, pos, ref, alt)`` and the identity of an evaluated key set."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from ledger.canonical import canonical_json
from ledger.errors import EvalError

_KEY_FIELDS = ("chrom", "pos", "ref", "alt")


class VariantKey(NamedTuple):
    """One variant: contig name, 1-based position, REF and ALT alleles (upper case)."""

    chrom: str
    pos: int
    ref: str
    alt: str

    def text(self) -> str:
        """``chrom:pos:ref:alt``, for messages and reports."""
        return f"{self.chrom}:{self.pos}:{self.ref}:{self.alt}"


def key_from_row(row: Mapping[str, Any], where: str) -> VariantKey:
    """Build a :class:`VariantKey` from a row; raise ``EVAL.MISSING_FIELD`` / ``EVAL.BAD_KEY``."""
    missing = [f for f in _KEY_FIELDS if f not in row or row[f] is None]
    if missing:
        raise EvalError("MISSING_FIELD", f"{where}: missing field(s) {', '.join(missing)}", "every row needs chrom, pos, ref, alt")
    chrom, pos, ref, alt = (row[f] for f in _KEY_FIELDS)
    if not isinstance(chrom, str) or not chrom:
        raise EvalError("BAD_KEY", f"{where}: chrom must be a non-empty string, got {chrom!r}")
    if isinstance(pos, bool) or not isinstance(pos, int) or pos < 1:
        raise EvalError("BAD_KEY", f"{where}: pos must be a 1-based integer, got {pos!r}")
    for name, allele in (("ref", ref), ("alt", alt)):
        if not isinstance(allele, str) or not allele:
            raise EvalError("BAD_KEY", f"{where}: {name} must be a non-empty string, got {allele!r}")
    return VariantKey(chrom, pos, ref.upper(), alt.upper())


def sorted_keys(keys: Iterable[VariantKey]) -> list[VariantKey]:
    """Keys in the canonical order: chrom (text), pos (integer), ref, alt."""
    return sorted(set(keys))


def keys_sha256(keys: Iterable[VariantKey]) -> str:
    """SHA-256 of the canonical JSON list of ``[chrom, pos, ref, alt]`` in canonical order.

    Two metric rows computed on the same variants carry the same value, whatever the input order.
    """
    body = [[k.chrom, k.pos, k.ref, k.alt] for k in sorted_keys(keys)]
    return hashlib.sha256(canonical_json(body)).hexdigest()


def preview(keys: Iterable[VariantKey], limit: int = 3) -> str:
    """The first ``limit`` keys in canonical order as text, for error messages."""
    ordered = sorted_keys(keys)
    shown = ", ".join(k.text() for k in ordered[:limit])
    return shown + (f" (+{len(ordered) - limit} more)" if len(ordered) > limit else "")
