"""Shared dataset logic for the dataset steps: snapshot spec, VCF/FASTA reading, split rule, renders.

Dataset package layout (``--dataset-dir D``), all paths package-relative::

    reference/<reference file>        copy of the upstream reference FASTA
    variants/<split>.vcf              one VCF per split (header kept, records sorted by position)
    dataset_metadata.json             input metadata for dataset_package (written by the snapshot)
    dataset_input_check_report.json   upstream source identities vs the spec (dataset_snapshot)
    split_integrity.json              leakage evidence + class balance (dataset_integrity)
    dataset_package.json              normalised metadata (dataset_package)
    dataset_manifest.json             file identities by role (dataset_package)
    data_card.md                      render of dataset_package.json + split_integrity.json
    dataset_snapshot_report.json      spec hash, source and package file identities (dataset_snapshot)
    SHA256SUMS                        every file above except itself
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import ConfigError, InputError, ReleaseError
from ledger.identity import check_public_path, is_sha256_hex


SPEC_KIND = "dataset_snapshot_spec"
METADATA_KIND = "dataset_metadata"
KEY_SCHEME = "contig:pos:ref:alt"

_SPEC_KEYS = {
    "schema_version", "kind", "snapshot_id", "title", "description", "demo_snapshot", "snapshot_date",
    "variant_types", "sources", "split", "labels", "claim_boundary", "license",
}
_SOURCE_KEYS = {"name", "role", "path", "sha256", "size", "origin", "license"}
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}$")


def _need(cond: bool, message: str, hint: str = "compare with configs/first_experiment/dataset-snapshot-snv.json") -> None:
    if not cond:
        raise ConfigError("DATASET_SPEC", message, hint)


def validate_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a dataset snapshot spec (closed schema); return it. Errors are ``CONFIG.DATASET_SPEC``."""
    _need(isinstance(spec, Mapping), "spec is not a JSON object")
    unknown = set(spec) - _SPEC_KEYS
    _need(not unknown, f"spec has unknown keys {sorted(unknown)}")
    _need(spec.get("schema_version") == "1.0.0", f"spec schema_version must be 1.0.0, got {spec.get('schema_version')!r}")
    _need(spec.get("kind") == SPEC_KIND, f"spec kind must be {SPEC_KIND!r}")
    _need(isinstance(spec.get("snapshot_id"), str) and bool(_ID.match(spec["snapshot_id"])), "snapshot_id must be lower-case letters, digits, '.', '_' or '-'")
    _need(isinstance(spec.get("demo_snapshot"), bool), "demo_snapshot must be true or false")
    _need(isinstance(spec.get("snapshot_date"), str) and bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", spec["snapshot_date"])), "snapshot_date must be YYYY-MM-DD")
    _need(spec.get("variant_types") == ["snv"], "variant_types must be [\"snv\"] (this snapshot builder handles SNVs)")
    for key in ("title", "description", "claim_boundary", "license"):
        _need(isinstance(spec.get(key), str) and bool(spec[key].strip()), f"{key} must be a non-empty string")
    sources = spec.get("sources")
    _need(isinstance(sources, list) and bool(sources), "sources must be a non-empty list")
    names = set()
    for i, src in enumerate(sources):
        _need(isinstance(src, Mapping) and set(src) <= _SOURCE_KEYS, f"sources[{i}] has unknown keys or is not an object")
        for key in ("name", "role", "path", "sha256", "origin", "license"):
            _need(isinstance(src.get(key), str) and bool(src[key]), f"sources[{i}].{key} must be a non-empty string")
        _need(src["role"] in ("reference", "variants"), f"sources[{i}].role must be 'reference' or 'variants'")
        _need(src["name"] not in names, f"duplicate source name {src['name']!r}")
        names.add(src["name"])
        try:
            check_public_path(src["path"], f"sources[{i}].path")
        except InputError as err:
            raise ConfigError("DATASET_SPEC", err.message, "source paths are relative to --inputs-dir") from None
        _need(is_sha256_hex(src["sha256"]), f"sources[{i}].sha256 is not 64 lower-case hex characters")
        _need(isinstance(src.get("size"), int) and src["size"] >= 0, f"sources[{i}].size must be a non-negative integer")
    roles = [s["role"] for s in sources]
    _need(roles.count("reference") == 1, "exactly one source must have role 'reference'")
    _need(roles.count("variants") == 1, "exactly one source must have role 'variants'")
    split = spec.get("split")
    _need(isinstance(split, Mapping) and split.get("rule") == "region", "split.rule must be 'region'")
    _need(split.get("key_scheme") == KEY_SCHEME, f"split.key_scheme must be {KEY_SCHEME!r}")
    _need(isinstance(split.get("guard_bp"), int) and split["guard_bp"] >= 0, "split.guard_bp must be a non-negative integer")
    regions = split.get("regions")
    _need(isinstance(regions, Mapping) and {"train", "eval"} <= set(regions), "split.regions must define at least 'train' and 'eval'")
    spans: list[tuple[str, str, int, int]] = []
    for name, lst in regions.items():
        _need(isinstance(lst, list) and bool(lst), f"split.regions.{name} must be a non-empty list")
        for r in lst:
            _need(isinstance(r, Mapping) and set(r) == {"contig", "start", "end"}, f"split.regions.{name} entries need contig, start, end")
            _need(isinstance(r["start"], int) and isinstance(r["end"], int) and 1 <= r["start"] <= r["end"], f"split.regions.{name}: start/end must be 1-based with start <= end")
            spans.append((name, r["contig"], r["start"], r["end"]))
    for i, a in enumerate(spans):
        for b in spans[i + 1:]:
            _need(not (a[1] == b[1] and a[2] <= b[3] and b[2] <= a[3]), f"split regions {a[0]} and {b[0]} overlap on {a[1]}")
    labels = spec.get("labels")
    _need(isinstance(labels, Mapping) and labels.get("source") in names, "labels.source must name a source")
    _need(isinstance(labels.get("info_field"), str) and bool(labels["info_field"]), "labels.info_field must be a string")
    _need(isinstance(labels.get("classes"), list) and len(labels["classes"]) >= 2, "labels.classes must list at least two classes")
    return dict(spec)


def source_by_role(spec: Mapping[str, Any], role: str) -> dict[str, Any]:
    """The spec's source with ``role`` (validated specs have exactly one per role)."""
    return next(s for s in spec["sources"] if s["role"] == role)


# ---------------------------------------------------------------------------------------------
# FASTA / VCF
# ---------------------------------------------------------------------------------------------


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
        raise InputError("REF_MISMATCH", f"{path_name}: {v.contig}:{v.pos} is outside the contig (length {len(seq)})", "use the reference the VCF was called against")
    if seq[v.pos - 1] != v.ref:
        raise InputError("REF_MISMATCH", f"{v.contig}:{v.pos} REF {v.ref} does not match the reference base {seq[v.pos - 1]}", "check that the VCF was called against this FASTA")
    return None


def require(cond: bool, code: str, message: str, hint: str | None = None) -> None:
    """Raise ``RELEASE.<code>`` unless ``cond``."""
    if not cond:
        raise ReleaseError(code, message, hint)
