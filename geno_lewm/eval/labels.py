"""Labels keyed by variant: JSONL rows with a ``label`` field, or a VCF with the label in INFO."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import EvalError
from ledger.identity import relative_or_name

from geno_lewm.eval.jsonio import is_finite_number, read_jsonl
from geno_lewm.eval.keys import VariantKey, key_from_row

_VCF_SUFFIXES = (".vcf", ".vcf.gz", ".bcf")


@dataclass(frozen=True)
class LabelSet:
    """Labels of one benchmark: value per variant key, and where the labels come from."""

    labels: dict[VariantKey, float]  # label per variant (0/1 in binary mode)
    label_source: str | None  # the rows' ``label_source`` (one value, "mixed:…", or None)
    rows: int  # label rows read


def is_vcf(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` names a VCF/BCF file (by suffix)."""
    return str(path).lower().endswith(_VCF_SUFFIXES)


def _check_value(value: Any, mode: str, where: str, label_map: Mapping[str, int] | None) -> float:
    if mode == "binary":
        if isinstance(value, str) and label_map is not None:
            mapped = label_map.get(value.strip().lower())
            if mapped is None:
                raise EvalError("LABEL_VALUE", f"{where}: label {value!r} is not in the binary label map", "extend binary_label_map in the eval config")
            return float(mapped)
        if not is_finite_number(value) or value not in (0, 1):
            raise EvalError("LABEL_VALUE", f"{where}: binary label must be 0 or 1, got {value!r}", "binary labels are 1 (pathogenic) or 0 (benign)")
        return float(value)
    if not is_finite_number(value):
        raise EvalError("LABEL_VALUE", f"{where}: spearman label must be a finite number, got {value!r}", "continuous labels must be numbers (no NaN)")
    return float(value)


def _source_of(sources: set[str]) -> str | None:
    if not sources:
        return None
    if len(sources) == 1:
        return next(iter(sources))
    return "mixed:" + ",".join(sorted(sources))


def load_labels_jsonl(path: str | os.PathLike[str], mode: str) -> LabelSet:
    """Read JSONL label rows (``chrom``, ``pos``, ``ref``, ``alt``, ``label``, optional ``label_source``)."""
    labels: dict[VariantKey, float] = {}
    sources: set[str] = set()
    rows = read_jsonl(path, "labels")
    name = Path(path).name
    for lineno, row in rows:
        where = f"labels {name} line {lineno}"
        key = key_from_row(row, where)
        if "label" not in row or row["label"] is None:
            raise EvalError("MISSING_FIELD", f"{where}: missing field label")
        value = _check_value(row["label"], mode, where, None)
        if key in labels:
            raise EvalError("DUPLICATE_KEY", f"{where}: duplicate label for {key.text()}", "keep one label row per variant")
        labels[key] = value
        src = row.get("label_source")
        if isinstance(src, str) and src:
            sources.add(src)
    if not labels:
        raise EvalError("EMPTY", f"labels {name} holds no rows")
    return LabelSet(labels, _source_of(sources), len(rows))


def load_labels_vcf(path: str | os.PathLike[str], mode: str, label_field: str, label_map: Mapping[str, int]) -> LabelSet:
    """Read labels from the INFO field ``label_field`` of a VCF (one key per ALT allele)."""
    import pysam

    name = Path(path).name
    try:
        vf = pysam.VariantFile(os.fspath(path))
    except (OSError, ValueError) as exc:
        raise EvalError("BAD_VCF", f"labels {relative_or_name(path)} cannot be read as VCF: {exc}") from None
    labels: dict[VariantKey, float] = {}
    rows = 0
    with vf:
        if label_field not in vf.header.info:
            raise EvalError(
                "MISSING_FIELD",
                f"labels {name}: INFO field {label_field!r} is not declared in the header",
                "pass --label-field with the INFO key holding the label",
            )
        for rec in vf:
            rows += 1
            where = f"labels {name} {rec.chrom}:{rec.pos}"
            if label_field not in rec.info:
                raise EvalError("MISSING_FIELD", f"{where}: INFO/{label_field} is missing")
            raw = rec.info[label_field]
            for i, alt in enumerate(rec.alts or ()):
                value = raw[i] if isinstance(raw, tuple) and len(raw) == len(rec.alts) else raw
                if isinstance(value, tuple):
                    raise EvalError("LABEL_VALUE", f"{where}: INFO/{label_field} has {len(value)} values for {len(rec.alts)} ALT(s)")
                key = key_from_row({"chrom": rec.chrom, "pos": rec.pos, "ref": rec.ref, "alt": alt}, where)
                if isinstance(value, float) and math.isnan(value):
                    raise EvalError("LABEL_VALUE", f"{where}: label is NaN")
                checked = _check_value(value, mode, where, label_map)
                if key in labels:
                    raise EvalError("DUPLICATE_KEY", f"{where}: duplicate label for {key.text()}")
                labels[key] = checked
    if not labels:
        raise EvalError("EMPTY", f"labels {name} holds no records")
    return LabelSet(labels, None, rows)


def load_labels(path: str | os.PathLike[str], mode: str, *, label_field: str = "LABEL", label_map: Mapping[str, int]) -> LabelSet:
    """Load labels from a JSONL file or (by suffix) a VCF; see the two loaders."""
    if is_vcf(path):
        return load_labels_vcf(path, mode, label_field, label_map)
    return load_labels_jsonl(path, mode)
