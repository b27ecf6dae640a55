"""Edits (actions) on a DNA window: SNV, insertion, deletion, MNV, with validation against the reference.

Alleles follow VCF: indels carry one anchor base shared by REF and ALT (``A`` → ``AGT`` is an
insertion of ``GT`` after the anchor; ``AGT`` → ``A`` deletes ``GT``). ``offset`` is the window
offset of the first REF base (the anchor for indels).

Length rule (docs/model.md): an edited window keeps the reference window's length. After an
insertion the bases pushed past the right end are dropped; after a deletion the freed positions at
the right end are refilled from ``right_flank`` (the reference bases following the window) and,
when that runs out, with ``N``. The left part of the window and the locus never move.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from ledger.errors import InputError

_ALLELE = frozenset("ACGTN")
EDIT_KINDS = ("snv", "ins", "del", "mnv")


_UPPER_ALLELE = re.compile(r"[ACGTN]+")


def _check_allele(text: str, what: str) -> str:
    if type(text) is str and _UPPER_ALLELE.fullmatch(text):  # the usual case: already an upper-case allele
        return text
    if not isinstance(text, str) or not text:
        raise InputError("BAD_ALLELE", f"{what} allele is empty", "give REF and ALT as non-empty strings of A, C, G, T, N")
    up = text.upper()
    if set(up) - _ALLELE:
        raise InputError("BAD_ALLELE", f"{what} allele {text!r} has characters outside ACGTN", "symbolic alleles (<DEL>, *) are not supported")
    return up


def classify(ref: str, alt: str) -> str:
    """Edit kind for VCF-style ``ref``/``alt`` (``INPUT.UNSUPPORTED_EDIT`` for complex substitutions)."""
    if ref == alt:
        raise InputError("NO_CHANGE", f"REF and ALT are identical ({ref!r})", "a variant must change the sequence")
    if len(ref) == len(alt):
        return "snv" if len(ref) == 1 else "mnv"
    if len(ref) < len(alt) and alt.startswith(ref) and len(ref) == 1:
        return "ins"
    if len(ref) > len(alt) and ref.startswith(alt) and len(alt) == 1:
        return "del"
    raise InputError(
        "UNSUPPORTED_EDIT",
        f"REF {ref!r} → ALT {alt!r} is neither an SNV, an MNV nor a left-anchored simple indel",
        "normalise the VCF (bcftools norm -m- -f ref.fa) so indels carry exactly one anchor base",
    )


class EditSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One edit at a window offset, with VCF-style alleles (anchor base for indels)."""

    kind: Literal["snv", "ins", "del", "mnv"]  # edit type
    offset: int  # window offset (0-based) of the first REF base
    ref: str  # reference allele as it reads in the window
    alt: str  # alternate allele

    @classmethod
    def from_vcf(cls, window_start0: int, pos1: int, ref: str, alt: str) -> EditSpec:
        """An edit from a VCF record (1-based ``pos1``) inside a window starting at ``window_start0``."""
        r, a = _check_allele(ref, "REF"), _check_allele(alt, "ALT")
        return cls(kind=classify(r, a), offset=int(pos1) - 1 - int(window_start0), ref=r, alt=a)  # type: ignore[arg-type]

    @property
    def length_delta(self) -> int:
        """len(alt) − len(ref): positive for insertions, negative for deletions."""
        return len(self.alt) - len(self.ref)

    @property
    def locus(self) -> int:
        """Window offset where source AND target states are pooled.

        SNV/MNV: the first changed base (``offset``). Indels: the first base after the anchor
        (``offset + 1``), i.e. the first inserted base in the edited window / the first deleted
        base in the reference window; both windows agree on every base before it.
        """
        return self.offset + 1 if self.kind in ("ins", "del") else self.offset

    def validate(self, window: str) -> None:
        """Check kind, alleles, bounds and REF against ``window`` (``INPUT.REF_MISMATCH`` …)."""
        ref, alt = _check_allele(self.ref, "REF"), _check_allele(self.alt, "ALT")
        if classify(ref, alt) != self.kind:
            raise InputError("EDIT_KIND", f"edit kind {self.kind!r} does not match REF {self.ref!r} / ALT {self.alt!r} (that is {classify(ref, alt)!r})")
        self.validate_placement(window)

    def validate_placement(self, window: str) -> None:
        """The part of :meth:`validate` that depends on ``window``: bounds and REF (for an edit just made by :meth:`from_vcf`)."""
        ref = self.ref
        if self.offset < 0 or self.offset + len(ref) > len(window) or self.locus >= len(window):
            raise InputError(
                "EDIT_OUT_OF_WINDOW",
                f"edit at offset {self.offset} (REF length {len(ref)}) does not fit a {len(window)} bp window",
                "centre the window on the variant (geno_lewm.windows.reference_window)",
            )
        seen = window[self.offset : self.offset + len(ref)].upper()
        if seen != ref.upper():
            raise InputError(
                "REF_MISMATCH",
                f"REF {ref!r} does not match the reference {seen!r} at window offset {self.offset}",
                "check that the VCF was called against the same reference FASTA and contig naming",
            )


def apply_edit(window: str, edit: EditSpec, *, right_flank: str = "") -> str:
    """The edited window, validated first; same length as ``window`` by the module's length rule."""
    edit.validate(window)
    return edited_window(window, edit, right_flank=right_flank)


def edited_window(window: str, edit: EditSpec, *, right_flank: str = "") -> str:
    """:func:`apply_edit` for an edit already validated against ``window`` (the scorer validates once, when it places a variant)."""
    width = len(window)
    edited = window[: edit.offset] + edit.alt.upper() + window[edit.offset + len(edit.ref) :]
    if len(edited) > width:
        return edited[:width]
    missing = width - len(edited)
    fill = right_flank[:missing].upper()
    return edited + fill + "N" * (missing - len(fill))
