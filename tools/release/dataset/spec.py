"""The dataset snapshot spec (``configs/first_experiment/dataset-snapshot-snv.json``): its closed schema and sources.

:func:`validate_spec` refuses unknown keys, bad ids, digests and paths (``CONFIG.DATASET_SPEC``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

from geno_lewm.release_metadata import KEY_SCHEME
from ledger.errors import ConfigError, InputError
from ledger.identity import check_public_path
from ledger.reports import decode

SPEC_KIND = "dataset_snapshot_spec"
METADATA_KIND = "dataset_metadata"
_HINT = "compare with configs/first_experiment/dataset-snapshot-snv.json"

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, pattern=r"\S")]
Count = Annotated[int, msgspec.Meta(ge=0)]


class SpecSource(msgspec.Struct, forbid_unknown_fields=True):
    """An upstream file the snapshot is built from (staged under ``--inputs-dir``)."""

    name: NonEmpty  # unique source name
    role: Literal["reference", "variants"]  # what the file is
    path: NonEmpty  # path relative to --inputs-dir
    sha256: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]  # digest of the staged file
    size: Count  # size in bytes
    origin: NonEmpty  # where it comes from
    license: NonEmpty  # its license


class Region(msgspec.Struct, forbid_unknown_fields=True):
    """One 1-based, inclusive region of a split."""

    contig: str  # contig name
    start: Annotated[int, msgspec.Meta(ge=1)]  # first position
    end: int  # last position (>= start)


class SpecSplit(msgspec.Struct):
    """The region split rule."""

    rule: Literal["region"]  # the only rule
    key_scheme: Literal["contig:pos:ref:alt"]  # comparable variant key
    guard_bp: Count  # variants closer than this to another split's region are excluded
    regions: dict[str, Annotated[list[Region], msgspec.Meta(min_length=1)]]  # split name -> regions (train and eval at least)


class SpecLabels(msgspec.Struct):
    """Where the labels are read from."""

    source: str  # a source name
    info_field: NonEmpty  # VCF INFO field
    classes: Annotated[list[Any], msgspec.Meta(min_length=2)]  # at least two classes
    note: Any = None  # free text


class DatasetSpec(msgspec.Struct, forbid_unknown_fields=True):
    """``dataset-snapshot-*.json``: the closed schema of a dataset snapshot spec."""

    schema_version: Literal["1.0.0"]  # spec schema version
    kind: Literal["dataset_snapshot_spec"]  # SPEC_KIND
    snapshot_id: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9._-]{0,80}$")]  # lower-case letters, digits, '.', '_' or '-'
    title: NonEmpty  # human title
    description: NonEmpty  # one paragraph
    demo_snapshot: bool  # a demo snapshot (claims nothing)
    snapshot_date: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]  # YYYY-MM-DD
    variant_types: list[Literal["snv"]]  # ["snv"]: this builder handles SNVs
    sources: Annotated[list[SpecSource], msgspec.Meta(min_length=1)]  # upstream files
    split: SpecSplit  # split rule
    labels: SpecLabels  # label source
    claim_boundary: NonEmpty  # what the dataset does not claim
    license: NonEmpty  # dataset license


def _need(cond: bool, message: str, hint: str = _HINT) -> None:
    if not cond:
        raise ConfigError("DATASET_SPEC", message, hint)


def validate_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a dataset snapshot spec (decoded into :class:`DatasetSpec`); return it. Errors are ``CONFIG.DATASET_SPEC``."""
    doc = decode(spec, DatasetSpec, what="dataset snapshot spec", error=lambda m, h: ConfigError("DATASET_SPEC", m, h), hint=_HINT)
    _need(doc.variant_types == ["snv"], 'variant_types must be ["snv"] (this snapshot builder handles SNVs)')
    names = [s.name for s in doc.sources]
    _need(len(set(names)) == len(names), f"duplicate source names in {names}")
    for i, src in enumerate(doc.sources):
        try:
            check_public_path(src.path, f"sources[{i}].path")
        except InputError as err:
            raise ConfigError("DATASET_SPEC", err.message, "source paths are relative to --inputs-dir") from None
    roles = [s.role for s in doc.sources]
    _need(roles.count("reference") == 1 and roles.count("variants") == 1, "exactly one source must have role 'reference' and one 'variants'")
    _need(doc.split.key_scheme == KEY_SCHEME and {"train", "eval"} <= set(doc.split.regions), "split.regions must define at least 'train' and 'eval'")
    spans = [(name, r.contig, r.start, r.end) for name, lst in doc.split.regions.items() for r in lst]
    for name, _, start, end in spans:
        _need(start <= end, f"split.regions.{name}: start/end must be 1-based with start <= end")
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            _need(not (a[1] == b[1] and a[2] <= b[3] and b[2] <= a[3]), f"split regions {a[0]} and {b[0]} overlap on {a[1]}")
    _need(doc.labels.source in names, "labels.source must name a source")
    return dict(spec)


def source_by_role(spec: Mapping[str, Any], role: str) -> dict[str, Any]:
    """The spec's source with ``role`` (validated specs have exactly one per role)."""
    return next(s for s in spec["sources"] if s["role"] == role)
