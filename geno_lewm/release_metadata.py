"""Release metadata as typed documents: one :func:`validate_metadata` for dataset, training and model metadata.

Each kind is a msgspec Struct; decoding a JSON document into it is the validation (unknown keys,
wrong types, empty required strings are refused with the field's path), followed by the few rules a
type cannot say (checksum digests, public paths, the files a release must name). Errors use the
kind's code: ``CONFIG.DATASET_METADATA``, ``CONFIG.TRAINING_METADATA``, ``CONFIG.MODEL_METADATA``.
Callers get the document back as a plain dict, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from ledger.errors import ConfigError, InputError
from ledger.identity import check_public_path, is_sha256_hex
from ledger.reports import decode

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]

#: Comparable variant key of the split evidence.
KEY_SCHEME = "contig:pos:ref:alt"
#: Run files a model release must carry in ``extra_files`` (copied from the training run).
MODEL_REQUIRED_EXTRA = ("training_preflight_report.json", "training_run_manifest.json", "training_run_card.md", "training_run_SHA256SUMS")
#: The training run's preflight report (named in release training metadata).
PREFLIGHT = "training_preflight_report.json"


class Source(msgspec.Struct):
    """An upstream source as the dataset metadata names it (public reference, no local path)."""

    name: str  # source name in the spec
    role: str  # "reference", "variants", …
    reference: str  # public reference (URL or file name)
    sha256: str  # digest of the staged file
    size: Any  # size in bytes
    origin: str  # where it comes from
    license: str  # its license


class Split(msgspec.Struct):
    """The split rule: regions per split, the comparable key and the guard."""

    key_scheme: str  # must be KEY_SCHEME
    regions: dict[str, Any]  # split name -> regions
    guard_bp: int  # guard distance in bp
    rule: Any = None  # the rule's name


class Labels(msgspec.Struct):
    """Where the labels come from."""

    info_field: str  # VCF INFO field holding the label
    classes: list[Any]  # label classes


class DatasetFiles(msgspec.Struct):
    """The package files the metadata names (paths relative to the dataset directory)."""

    reference: str  # reference FASTA
    splits: dict[str, str]  # split name -> VCF


class DatasetMetadata(msgspec.Struct, forbid_unknown_fields=True):
    """``dataset_metadata.json`` (the ``--metadata-json`` of dataset_package; dataset_snapshot writes it)."""

    snapshot_id: NonEmpty  # snapshot id
    title: NonEmpty  # human title
    description: NonEmpty  # one paragraph
    demo_snapshot: bool  # a demo snapshot (claims nothing)
    snapshot_date: NonEmpty  # date of the upstream snapshot
    variant_types: list[Any]  # e.g. ["SNV"]
    license: NonEmpty  # dataset license
    claim_boundary: NonEmpty  # what the dataset does not claim
    spec_sha256: NonEmpty  # digest of the snapshot spec
    sources: Annotated[list[Source], msgspec.Meta(min_length=1)]  # upstream sources
    split: Split  # split rule
    labels: Labels  # label source
    files: DatasetFiles  # package files
    schema_version: Any = None  # report schema version (when written by dataset_snapshot)
    kind: Any = None  # "dataset_metadata"
    generated_by: Any = None  # the writing command
    guard_excluded: Any = None  # variants excluded by the guard
    excluded_counts: Any = None  # exclusions by reason


class TrainingMetadata(msgspec.Struct, forbid_unknown_fields=True):
    """Release metadata of a training run (``tools.release.training_run --metadata-json``)."""

    release_id: Any = None  # release id
    extra_files: list[str] = []  # run-relative files to bind (release: must name the preflight report)
    notes: Any = None  # free text for the card
    dataset_snapshot: Any = None  # dataset snapshot id
    commit: Any = None  # source commit
    release: Any = True  # a release run (binds the preflight report)
    schema_version: Any = None  # report schema version


class ModelMetadata(msgspec.Struct, forbid_unknown_fields=True):
    """Release metadata of a model package (``tools.release.model_package --metadata-json``)."""

    release_id: NonEmpty  # release id (geno_lewm.versioning.ReleaseId)
    commit: NonEmpty  # source commit
    extra_files: list[str] = []  # model-dir-relative files (must include MODEL_REQUIRED_EXTRA)
    dataset_snapshot: Any = None  # dataset snapshot id
    title: Any = None  # model card title
    intended_use: Any = None  # model card intended use
    limitations: Any = None  # model card limitations
    license: Any = None  # model license
    schema_version: Any = None  # report schema version


_KINDS: dict[str, tuple[type, str, str]] = {
    "dataset": (DatasetMetadata, "CONFIG.DATASET_METADATA", "regenerate it with python -m tools.release.dataset_snapshot or follow docs/release-steps.md"),
    "training": (TrainingMetadata, "CONFIG.TRAINING_METADATA", "see docs/release-steps.md for the training metadata keys"),
    "model": (ModelMetadata, "CONFIG.MODEL_METADATA", "see docs/release-steps.md for the model metadata keys"),
}


def validate_metadata(meta: Mapping[str, Any] | None, kind: str, name: str | None = None) -> dict[str, Any]:
    """Validate release metadata of ``kind`` ("dataset", "training", "model"); return it as a dict.

    Raises ``CONFIG.<KIND>_METADATA`` naming ``name`` (default "<kind> metadata") and the field path.
    """
    type_, code, hint = _KINDS[kind]
    name = name or f"{kind} metadata"

    def error(message: str, hint_: str | None = hint) -> ConfigError:
        return ConfigError(code.removeprefix("CONFIG."), message, hint_)

    if meta is None and kind == "training":
        meta = {}
    doc = decode(dict(meta) if isinstance(meta, Mapping) else meta, type_, what=name, error=error)
    if isinstance(doc, DatasetMetadata):
        _dataset_rules(doc, name, error)
    elif isinstance(doc, ModelMetadata):
        _model_rules(doc, name, error)
    elif doc.release and PREFLIGHT not in doc.extra_files:
        raise error(
            f"{name}: release training metadata must name {PREFLIGHT} in extra_files", "add it so the run manifest and checksums bind the preflight evidence"
        )
    return dict(meta)


def _dataset_rules(doc: DatasetMetadata, name: str, error) -> None:
    for i, s in enumerate(doc.sources):
        if not is_sha256_hex(s.sha256):
            raise error(f"{name}: sources[{i}].sha256 is invalid")
    if doc.split.key_scheme != KEY_SCHEME:
        raise error(f"{name}: split.key_scheme must be {KEY_SCHEME}")
    if set(doc.files.splits) != set(doc.split.regions):
        raise error(f"{name}: files.splits must name one file per split region")
    for rel in [doc.files.reference, *doc.files.splits.values()]:
        try:
            check_public_path(rel, "metadata file path")
        except InputError as err:
            raise error(f"{name}: {err.message}", "paths are relative to --dataset-dir") from None


def _model_rules(doc: ModelMetadata, name: str, error) -> None:
    from geno_lewm.versioning import ReleaseId

    ReleaseId.parse(doc.release_id)
    names = {x.rsplit("/", 1)[-1] for x in doc.extra_files}
    missing = [n for n in MODEL_REQUIRED_EXTRA if n not in names]
    if missing:
        raise error(
            f"{name}: extra_files must include {', '.join(missing)}",
            "copy the training run's manifest, card, checksums and preflight report into the model dir and list them",
        )
    for x in doc.extra_files:
        check_public_path(x, "extra file")
