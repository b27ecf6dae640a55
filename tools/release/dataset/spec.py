"""The dataset snapshot spec (``configs/first_experiment/dataset-snapshot-snv.json``): its closed schema and sources.

:func:`validate_spec` refuses unknown keys, bad ids, digests and paths (``CONFIG.DATASET_SPEC``).
"""

from __future__ import annotations
import re
from collections.abc import Mapping
from typing import Any
from ledger.errors import ConfigError, InputError
from ledger.identity import check_public_path, is_sha256_hex
from geno_lewm.release_metadata import KEY_SCHEME


SPEC_KIND = "dataset_snapshot_spec"


METADATA_KIND = "dataset_metadata"


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
