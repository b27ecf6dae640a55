"""The loader contract (release page, "Schema versioning") through each schema's real reader.

Every schema × {older MINOR, same version, newer MINOR, newer MAJOR} × {extra optional field,
extra required field}: same MAJOR → unknown optional fields ignored, at the current version too;
an unknown field named in ``required_fields`` → ``SchemaCompatError``; another MAJOR (no migration)
→ ``SchemaCompatError``. "Older MINOR" runs with the schema's current version raised to 1.2.0
(every schema is at 1.0.0 today, so no older 1.x exists yet). gnomAD and ClinVar shards have no
reader in this runtime: their case is :func:`geno_lewm.versioning.load_document` itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from geno_lewm import versioning
from geno_lewm.versioning import SCHEMAS
from ledger.canonical import canonical_json
from ledger.errors import SchemaCompatError

H1, H2 = "a" * 64, "b" * 64

#: version case -> (current schema version to run with, or None for the real one; document version)
VERSIONS: dict[str, tuple[str | None, str]] = {
    "older_minor": ("1.2.0", "1.1.0"),
    "same": (None, "1.0.0"),
    "newer_minor": (None, "1.4.2"),
    "newer_major": (None, "2.0.0"),
}


def _with(doc: dict[str, Any], version: str, extra: str) -> dict[str, Any]:
    """``doc`` at ``version`` with an extra optional field, or an extra field listed in ``required_fields``."""
    out = {**doc, "schema_version": version, "future_note": "added by a later MINOR"}
    if extra == "required":
        out["required_fields"] = ["schema_version", "quantum_seal"]
        out["quantum_seal"] = "a field this runtime cannot honour"
    return out


# -- one real reader per schema: build a valid artifact with the changed header, read it back ---------


def _manifest_doc() -> dict[str, Any]:
    return {
        "schema_version": "1.0.0",
        "generated_by": "tests",
        "model": {"name": "geno-lewm", "version": "0.1.0", "package_version": "0.1.0"},
        "release_id": "geno-lewm-v0.1.0-tiny-carbon-r1",
        "encoder": {"id": "tiny-carbon", "revision": "r1", "hash": H1, "stand_in": True, "num_layers": 2, "hidden_size": 8},
        "state_contract": {"layer": 1, "pooling": "centred", "radius": 2, "normalize": "none", "dtype": "float32", "window_bp": 64, "hash": H2},
        "architecture": {"action": {}, "predictor": {}},
        "artifacts": [{"path": "predictor.safetensors", "role": "predictor", "sha256": H1, "size": 1}],
        "training_config_hash": H2,
        "dataset_snapshot_id": "snap-1",
        "stand_in": True,
        "note": "tiny stand-in encoder, not real Carbon weights",
    }


def read_manifest_case(tmp_path: Path, version: str, extra: str) -> None:
    from geno_lewm.package import MANIFEST_SCHEMA_VERSION, model_id_of, read_manifest

    doc = _with(_manifest_doc(), version, extra)
    doc["encoder"] = {**doc["encoder"], "future_nested": "ignored at any depth"}
    data = canonical_json(doc)
    (tmp_path / "manifest.json").write_bytes(data)
    man = read_manifest(tmp_path)
    assert man.release_id == "geno-lewm-v0.1.0-tiny-carbon-r1" and man.encoder.hash == H1
    assert man.schema_version == MANIFEST_SCHEMA_VERSION  # this runtime's view
    # integrity: the ignored fields are still hashed; model_id is the file's exact bytes
    assert model_id_of(tmp_path) == hashlib.sha256(data).hexdigest()
    without = {k: v for k, v in doc.items() if k != "future_note"}
    assert hashlib.sha256(canonical_json(without)).hexdigest() != model_id_of(tmp_path)


def read_receipt_case(tmp_path: Path, version: str, extra: str) -> None:
    from geno_lewm.scoring.receipts import RECEIPT_FIELDS, read_receipt

    doc = {name: f"value of {name}" for name in RECEIPT_FIELDS}
    got = read_receipt(_with(doc, version, extra))
    assert got["model_id"] == "value of model_id"


def read_window_shard_case(tmp_path: Path, version: str, extra: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import torch

    from geno_lewm.cache import WindowCache, cache_key, read_shard

    seq = "ACGTACGTAC"
    cache = WindowCache(tmp_path, encoder_hash=H1, contract_hash=H2)
    hidden = torch.arange(12, dtype=torch.float32).reshape(3, 4)  # (T, H)
    path = cache.store(seq, hidden)
    table = pq.read_table(path)
    table = table.set_column(table.schema.get_field_index("schema_version"), "schema_version", pa.array([version]))
    table = table.append_column("future_note", pa.array(["added by a later MINOR"]))
    meta = dict(table.schema.metadata or {})
    if extra == "required":
        table = table.append_column("quantum_seal", pa.array(["?"]))
        meta[b"required_fields"] = json.dumps(["schema_version", "quantum_seal"]).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
    assert torch.equal(cache.load(seq), hidden)
    assert read_shard(path, cache_key(seq, H1, H2))["tokens"] == 3


def read_calibration_case(tmp_path: Path, version: str, extra: str) -> None:
    import pyarrow.parquet as pq

    from geno_lewm.calibration import GLOBAL, CalibrationTable

    path = CalibrationTable({GLOBAL: [0.1, 0.2, 0.3]}, gc_cuts=(0.35, 0.55), min_count=1).write(tmp_path / "calibration.parquet")
    table = pq.read_table(path)
    meta = dict(table.schema.metadata)
    meta[b"geno_lewm"] = json.dumps(_with(json.loads(meta[b"geno_lewm"]), version, extra)).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)
    got = CalibrationTable.read(path)
    assert got.buckets[GLOBAL] == [0.1, 0.2, 0.3] and got.min_count == 1


def _shard_case(name: str) -> Callable[[Path, str, str], None]:
    def case(tmp_path: Path, version: str, extra: str) -> None:
        assert versioning.load_document(name, _with({}, version, extra))["future_note"]

    return case


def read_eval_metrics_case(tmp_path: Path, version: str, extra: str) -> None:
    from geno_lewm.eval.report import check_schema_version

    doc = {"generated_by": "geno-lewm-eval", "rows": [], "negative_findings": ["none"]}
    check_schema_version(_with(doc, version, extra), "metrics.json")


def read_release_report_case(tmp_path: Path, version: str, extra: str) -> None:
    from ledger.reports import load_report, write_report

    path = tmp_path / "report.json"
    doc = write_report(path, {"kind": "example", "ok": True}, generated_by="tools.release.example")
    path.write_text(json.dumps(_with(doc, version, extra)))
    assert load_report(path, "tools.release.example")["ok"] is True


CASES: dict[str, Callable[[Path, str, str], None]] = {
    "manifest": read_manifest_case,
    "receipt": read_receipt_case,
    "window_embedding_shard": read_window_shard_case,
    "gnomad_shard": _shard_case("gnomad_shard"),
    "clinvar_shard": _shard_case("clinvar_shard"),
    "calibration_table": read_calibration_case,
    "eval_metrics": read_eval_metrics_case,
    "release_report": read_release_report_case,
}


def test_every_schema_has_a_loader_contract_case():
    # ledger events are signed, append-only log entries with their own upcasters (ledger.events);
    # they are not an artifact schema of the release page's table.
    assert set(CASES) == set(SCHEMAS) - {"ledger_event"}


@pytest.mark.parametrize("extra", ["optional", "required"])
@pytest.mark.parametrize("version_case", list(VERSIONS))
@pytest.mark.parametrize("schema", list(CASES))
def test_loader_contract(tmp_path, monkeypatch, schema, version_case, extra):
    current, doc_version = VERSIONS[version_case]
    if current is not None:
        monkeypatch.setitem(SCHEMAS, schema, dataclasses.replace(SCHEMAS[schema], version=current))
    read = CASES[schema]
    if version_case == "newer_major":
        with pytest.raises(SchemaCompatError, match="MAJOR 2"):
            read(tmp_path, doc_version, extra)
    elif extra == "required":
        with pytest.raises(SchemaCompatError, match="unknown required field 'quantum_seal'"):
            read(tmp_path, doc_version, extra)
    else:
        read(tmp_path, doc_version, extra)  # accepted, unknown optional fields ignored


def test_a_required_field_this_runtime_knows_is_accepted(tmp_path):
    doc = _with(_manifest_doc(), "1.3.0", "optional")
    doc["required_fields"] = ["release_id", "encoder", "training_config_hash"]  # all known to this runtime
    (tmp_path / "manifest.json").write_bytes(canonical_json(doc))
    from geno_lewm.package import read_manifest

    assert read_manifest(tmp_path).training_config_hash == H2


def test_another_major_with_a_migration_is_read_through_it(tmp_path):
    import pyarrow.parquet as pq

    from geno_lewm.calibration import GLOBAL, CalibrationTable

    path = CalibrationTable({GLOBAL: [0.5, 0.7]}, gc_cuts=(0.35, 0.55), min_count=1).write(tmp_path / "calibration.parquet")
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"geno_lewm"])
    old = {k: v for k, v in meta.items() if k != "buckets"} | {"schema_version": "0.3.0", "bins": [[GLOBAL, 2]]}
    pq.write_table(table.replace_schema_metadata({b"geno_lewm": json.dumps(old).encode()}), path)
    assert CalibrationTable.read(path).buckets[GLOBAL] == [0.5, 0.7]  # geno_lewm/migrations/calibration_0_to_1.py


def test_the_cache_rebuilds_a_shard_it_cannot_read(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq
    import torch

    from geno_lewm.cache import WindowCache

    cache = WindowCache(tmp_path, encoder_hash=H1, contract_hash=H2)
    seq = "ACGTTGCA"
    path = cache.store(seq, torch.ones(2, 3))
    table = pq.read_table(path)
    pq.write_table(table.set_column(table.schema.get_field_index("schema_version"), "schema_version", pa.array(["2.0.0"])), path)
    got = cache.get_or_compute([seq], lambda seqs: [torch.zeros(2, 3) for _ in seqs])
    assert torch.equal(got[0], torch.zeros(2, 3)) and cache.stats["rebuilt"] == 1
    assert "warning[INPUT.SCHEMA_COMPAT]" in capsys.readouterr().err
    assert torch.equal(cache.load(seq), torch.zeros(2, 3))  # rewritten at this runtime's version
