"""Split integrity of a dataset package: train/eval leakage evidence and observed class balance.

Declared as the release step ``python -m tools.release.dataset_integrity``.

Writes ``split_integrity.json`` (``generated_by=tools.release.dataset_integrity``) into the dataset
directory: per split the variant count, the sha256 over its sorted comparable keys
(``contig:pos:ref:alt``) and the observed label balance; across splits the shared keys, shared
positions and the smallest distance from a variant to another split's region. Any shared key or
position fails the step (``RELEASE.SPLIT_LEAKAGE``) and writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger.errors import ReleaseError

from geno_lewm.release_metadata import validate_metadata
from geno_lewm.release_metadata import KEY_SCHEME
from tools.release.dataset.variants import distance_to_other_splits, read_vcf
from ledger.reports import write_report

GENERATED_BY = "tools.release.dataset_integrity"
FILENAME = "split_integrity.json"


def build_split_integrity(dataset_dir: str | Path, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The ``split_integrity.json`` body for ``dataset_dir`` described by ``metadata`` (pure; raises on leakage)."""
    metadata = validate_metadata(metadata, "dataset")
    d = Path(dataset_dir)
    label_field = metadata["labels"]["info_field"]
    classes = list(metadata["labels"]["classes"])
    regions = metadata["split"]["regions"]
    splits: dict[str, dict[str, Any]] = {}
    keys: dict[str, set[str]] = {}
    positions: dict[str, set[tuple[str, int]]] = {}
    min_dist: int | None = None
    for name, rel in sorted(metadata["files"]["splits"].items()):
        _, variants = read_vcf(d / rel, label_field)
        ks = sorted(v.key for v in variants)
        if len(set(ks)) != len(ks):
            dup = next(k for k in ks if ks.count(k) > 1)
            raise ReleaseError("SPLIT_DUPLICATE_KEY", f"split {name} lists {dup} twice", "deduplicate the variants before packaging")
        keys[name] = set(ks)
        positions[name] = {(v.contig, v.pos) for v in variants}
        balance: dict[str, int] = {c: 0 for c in classes}
        for v in variants:
            label = v.label if v.label else "unlabelled"
            balance[label] = balance.get(label, 0) + 1
        for v in variants:
            dist = distance_to_other_splits(v, name, regions)
            if dist is not None:
                min_dist = dist if min_dist is None else min(min_dist, dist)
        splits[name] = {
            "path": rel,
            "n_variants": len(variants),
            "keys_sha256": hashlib.sha256("".join(k + "\n" for k in ks).encode()).hexdigest(),
            "class_balance": balance,
        }
    names = sorted(keys)
    shared_keys = sorted({k for i, a in enumerate(names) for b in names[i + 1 :] for k in keys[a] & keys[b]})
    shared_pos = sorted({f"{c}:{p}" for i, a in enumerate(names) for b in names[i + 1 :] for c, p in positions[a] & positions[b]})
    guard = int(metadata["split"]["guard_bp"])
    doc = {
        "kind": "split_integrity",
        "snapshot_id": metadata["snapshot_id"],
        "classes": classes,
        "splits": splits,
        "leakage": {
            "comparable_keys": KEY_SCHEME,
            "shared_keys": shared_keys,
            "shared_key_count": len(shared_keys),
            "shared_positions": shared_pos,
            "shared_position_count": len(shared_pos),
            "min_cross_split_distance_bp": min_dist if min_dist is not None else -1,
            "guard_bp": guard,
            "guard_excluded_count": len(metadata.get("guard_excluded", [])),
        },
        "ok": not shared_keys and not shared_pos and (min_dist is None or min_dist > guard),
    }
    if shared_keys or shared_pos:
        raise ReleaseError(
            "SPLIT_LEAKAGE",
            f"train/eval leakage: {len(shared_keys)} shared keys, {len(shared_pos)} shared positions (first: {(shared_keys or shared_pos)[0]})",
            "fix the split rule so no key or position is in two splits",
        )
    if min_dist is not None and min_dist <= guard:
        raise ReleaseError(
            "SPLIT_LEAKAGE",
            f"a variant lies {min_dist} bp from another split's region (guard {guard} bp)",
            "widen the gap between split regions or drop the variants near the boundary",
        )
    return doc


def write_split_integrity(dataset_dir: str | Path, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Build and write ``split_integrity.json``; returns the written document."""
    return write_report(Path(dataset_dir) / FILENAME, build_split_integrity(dataset_dir, metadata), generated_by=GENERATED_BY)
