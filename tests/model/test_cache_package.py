"""Window cache (RFC-0002) and the model package manifest (RFC-0011)."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import torch

from geno_lewm.cache import WindowCache


def test_cache_roundtrip_and_corrupt_shard_is_rebuilt(tmp_path, capsys):
    calls = []

    def compute(ws):
        calls.append(list(ws))
        return [torch.full((3, 4), float(len(w))) + torch.arange(4.0) for w in ws]

    cache = WindowCache(tmp_path, encoder_hash="e" * 64, contract_hash="c" * 64)
    first = cache.get_or_compute(["ACGT", "AC", "ACGT"], compute)
    assert calls == [["ACGT", "AC"]] and torch.equal(first[0], first[2])
    again = cache.get_or_compute(["ACGT", "AC"], compute)
    assert len(calls) == 1 and torch.equal(again[1], first[1])
    shard = next(tmp_path.rglob("*.parquet"))
    shard.write_bytes(shard.read_bytes()[:-40])  # a torn shard
    with pytest.raises(Exception) as exc:
        for seq in ("ACGT", "AC"):
            cache.load(seq)
    assert exc.value.code == "RESOURCE.CACHE_CORRUPT"
    rebuilt = cache.get_or_compute(["ACGT", "AC"], compute)
    assert cache.stats["rebuilt"] == 1 and len(calls) == 2
    assert torch.equal(rebuilt[0], first[0]) and torch.equal(rebuilt[1], first[1])
    assert "RESOURCE.CACHE_CORRUPT" in capsys.readouterr().err


def test_cache_payload_tamper_is_detected(tmp_path):
    import pyarrow.parquet as pq

    cache = WindowCache(tmp_path, encoder_hash="e" * 64, contract_hash="c" * 64)
    path = cache.store("ACGT", torch.ones(2, 2))
    table = pq.read_table(path)
    payload = bytearray(table.column("payload")[0].as_py())
    payload[0] ^= 1
    idx = table.schema.get_field_index("payload")
    import pyarrow as pa

    pq.write_table(table.set_column(idx, table.schema.field(idx), pa.array([bytes(payload)], pa.binary())), path)
    with pytest.raises(Exception) as exc:
        cache.load("ACGT")
    assert exc.value.code == "RESOURCE.CACHE_CORRUPT"


def test_shards_are_written_plain_and_older_shards_still_load(tmp_path):
    """Shards carry no dictionary page and no min/max statistics (20 ms of a 6.8 MB write for nothing); a shard written with pyarrow's defaults, as before, still loads."""
    import pyarrow.parquet as pq

    cache = WindowCache(tmp_path, encoder_hash="e" * 64, contract_hash="c" * 64)
    states = torch.randn(5, 3)
    meta = pq.ParquetFile(cache.store("ACGT", states)).metadata.row_group(0)
    for i in range(meta.num_columns):
        col = meta.column(i)
        assert col.statistics is None and not any("DICTIONARY" in e for e in col.encodings), col.path_in_schema
    assert torch.equal(cache.load("ACGT"), states)
    write = pq.write_table
    pq.write_table = lambda table, where, **_options: write(table, where)  # the former writer: pyarrow's defaults
    try:
        older = cache.store("ACGTACGT", states)
    finally:
        pq.write_table = write
    assert pq.ParquetFile(older).metadata.row_group(0).column(0).statistics is not None
    assert torch.equal(cache.load("ACGTACGT"), states)


def test_cache_keys_separate_encoders_and_contracts(tmp_path):
    a = WindowCache(tmp_path, encoder_hash="a" * 64, contract_hash="c" * 64)
    a.store("ACGT", torch.ones(2, 2))
    assert a.load("ACGT") is not None
    assert WindowCache(tmp_path, encoder_hash="b" * 64, contract_hash="c" * 64).load("ACGT") is None
    assert WindowCache(tmp_path, encoder_hash="a" * 64, contract_hash="d" * 64).load("ACGT") is None
    # A shard copied under another key is detected as mismatched, not used.
    b = WindowCache(tmp_path, encoder_hash="b" * 64, contract_hash="c" * 64)
    src = a.shard_path(__import__("geno_lewm.cache", fromlist=["cache_key"]).cache_key("ACGT", "a" * 64, "c" * 64))
    dst = b.shard_path(__import__("geno_lewm.cache", fromlist=["cache_key"]).cache_key("ACGT", "b" * 64, "c" * 64))
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    with pytest.raises(Exception) as exc:
        b.load("ACGT")
    assert exc.value.code == "RESOURCE.CACHE_CORRUPT"


def test_package_verifies_and_model_id_is_manifest_hash(trained_run, tmp_path):
    import hashlib

    from geno_lewm.package import ModelPackage, model_id_of, verify_package

    man = verify_package(trained_run)
    assert man["stand_in"] is True and "stand-in" in man["note"]
    assert man["release_id"] == "geno-lewm-v0.1.0-tiny-carbon-r1"
    assert [a["path"] for a in man["artifacts"]] == sorted(a["path"] for a in man["artifacts"])
    assert {a["role"] for a in man["artifacts"]} == {"encoder", "predictor", "action_encoder", "config"}
    assert model_id_of(trained_run) == hashlib.sha256((trained_run / "manifest.json").read_bytes()).hexdigest()
    record = json.loads((trained_run / "training_run.json").read_text())
    assert record["model_id"] == model_id_of(trained_run) and record["status"] == "completed"
    pkg = ModelPackage.load(trained_run, device="cpu")
    from geno_lewm.edits import EditSpec

    src = torch.randn(3, 64)
    out = pkg.predict(src, [EditSpec(kind="snv", offset=10 * i, ref="A", alt="G") for i in range(3)])
    assert out.shape == (3, 64) and not torch.equal(out, src)


def test_package_tampering_names_the_file(trained_run, tmp_path):
    from geno_lewm.package import ModelPackage, reseal, verify_package

    pkg = tmp_path / "pkg"
    shutil.copytree(trained_run, pkg, ignore=shutil.ignore_patterns("window_cache", ".index"))
    w = pkg / "predictor.safetensors"
    data = bytearray(w.read_bytes())
    data[-1] ^= 1
    w.write_bytes(bytes(data))
    with pytest.raises(Exception) as exc:
        ModelPackage.load(pkg, device="cpu")
    assert exc.value.family == "PROVENANCE" and "predictor.safetensors" in exc.value.message
    with pytest.raises(Exception):
        reseal(pkg, add=[("config.effective.yaml", "config")])  # refuses to bless the tampered file
    (pkg / "encoder" / "extra.safetensors").write_bytes(b"x")
    w.write_bytes((trained_run / "predictor.safetensors").read_bytes())
    with pytest.raises(Exception) as exc:
        verify_package(pkg)
    assert exc.value.code == "PROVENANCE.UNLISTED_ARTIFACT"


def test_package_reseal_adds_calibration_and_manifest_follows_the_loader_contract(trained_run, tmp_path):
    from geno_lewm.package import model_id_of, reseal, verify_package

    pkg = tmp_path / "pkg"
    shutil.copytree(trained_run, pkg, ignore=shutil.ignore_patterns("window_cache", ".index"))
    before = model_id_of(pkg)
    (pkg / "calibration.parquet").write_bytes(b"PAR1 demo")
    after = reseal(pkg, add=[("calibration.parquet", "calibration")])
    assert after != before and after == model_id_of(pkg)
    assert any(a["role"] == "calibration" for a in verify_package(pkg)["artifacts"])
    doc = json.loads((pkg / "manifest.json").read_text())
    # an unknown optional field is ignored by the reader but still part of the hashed bytes
    (pkg / "manifest.json").write_text(json.dumps({**doc, "surprise": 1}))
    assert "surprise" not in verify_package(pkg)
    assert model_id_of(pkg) == hashlib.sha256((pkg / "manifest.json").read_bytes()).hexdigest() != after
    # an unknown field the manifest says every reader must understand is refused
    (pkg / "manifest.json").write_text(json.dumps({**doc, "surprise": 1, "required_fields": ["surprise"]}))
    with pytest.raises(Exception) as exc:
        verify_package(pkg)
    assert exc.value.code == "INPUT.SCHEMA_COMPAT" and "surprise" in exc.value.message
    # a known field with the wrong type is still a schema error naming the field
    (pkg / "manifest.json").write_text(json.dumps({**doc, "stand_in": "yes"}))
    with pytest.raises(Exception) as exc:
        verify_package(pkg)
    assert exc.value.code == "PROVENANCE.MANIFEST_SCHEMA" and "stand_in" in exc.value.message
