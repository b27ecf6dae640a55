"""geno-lewm-update against a real HTTP server on 127.0.0.1: install, verify, refuse tampering."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from geno_lewm.cli.update import main as update_main
from ledger.canonical import canonical_json, sha256_hex

RID = "geno-lewm-v0.1.0-tiny-carbon-r1"


def _publish(root: Path, rid: str = RID, files: dict[str, bytes] | None = None, *, version: str = "0.1.0") -> dict:
    files = files or {"predictor.safetensors": b"P" * 1000, "encoder/config.json": b'{"x": 1}'}
    rel_dir = root / rid
    artifacts = []
    for rel, data in sorted(files.items()):
        (rel_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (rel_dir / rel).write_bytes(data)
        artifacts.append({"path": rel, "role": "x", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
    manifest = {"schema_version": "1.0.0", "release_id": rid, "artifacts": artifacts}
    (rel_dir / "manifest.json").write_bytes(canonical_json(manifest))
    return manifest


def _index(root: Path, base: str, rids: list[tuple[str, str]]) -> str:
    doc = {"schema_version": "1.0.0", "releases": [{"model_version": v, "release_id": r, "manifest_url": f"{base}{r}/manifest.json"} for r, v in rids]}
    (root / "index.json").write_text(json.dumps(doc))
    return f"{base}index.json"


def test_installs_newest_release_side_by_side_after_hash_checks(loopback_server, tmp_path, capsys):
    base, root = loopback_server
    m1 = _publish(root)
    m2 = _publish(root, "geno-lewm-v0.2.0-tiny-carbon-r1", {"predictor.safetensors": b"Q" * 10}, version="0.2.0")
    index = _index(root, base, [(RID, "0.1.0"), ("geno-lewm-v0.2.0-tiny-carbon-r1", "0.2.0")])
    dest = tmp_path / "models"

    assert update_main(["--index-url", index, "--install-dir", str(dest), "--target-version", "0.1.0", "--yes"]) == 0
    assert update_main(["--index-url", index, "--install-dir", str(dest), "--yes", "--json"]) == 0
    assert (dest / RID / "predictor.safetensors").read_bytes() == b"P" * 1000
    assert (dest / "geno-lewm-v0.2.0-tiny-carbon-r1" / "predictor.safetensors").read_bytes() == b"Q" * 10
    rec = json.loads((dest / RID / "installed_release.json").read_text())
    assert rec["model_id"] == sha256_hex(canonical_json(m1))
    assert json.loads((dest / "geno-lewm-v0.2.0-tiny-carbon-r1" / "installed_release.json").read_text())["model_id"] == sha256_hex(canonical_json(m2))


def test_check_only_installs_nothing_and_reports_plan(loopback_server, tmp_path, capsys):
    base, root = loopback_server
    _publish(root)
    index = _index(root, base, [(RID, "0.1.0")])
    assert update_main(["--index-url", index, "--install-dir", str(tmp_path / "m"), "--check-only", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["action"] == "would-install" and summary["release_id"] == RID
    assert summary["total_bytes"] == 1000 + len(b'{"x": 1}')
    assert not (tmp_path / "m" / RID).exists()


def test_flipped_byte_is_refused_and_nothing_is_installed(loopback_server, tmp_path, capsys):
    base, root = loopback_server
    _publish(root)
    served = root / RID / "predictor.safetensors"
    data = bytearray(served.read_bytes())
    data[10] ^= 0x01
    served.write_bytes(bytes(data))
    index = _index(root, base, [(RID, "0.1.0")])
    dest = tmp_path / "models"
    assert update_main(["--index-url", index, "--install-dir", str(dest), "--yes"]) == 7
    err = capsys.readouterr().err
    assert "error[PROVENANCE.HASH_MISMATCH]: predictor.safetensors" in err
    assert not dest.exists() or not any(p for p in dest.iterdir())


def test_manifest_release_id_must_match_index(loopback_server, tmp_path, capsys):
    base, root = loopback_server
    _publish(root)
    index = _index(root, base, [("geno-lewm-v0.1.0-tiny-carbon-r2", "0.1.0")])
    # serve r1's manifest at r2's URL
    (root / "geno-lewm-v0.1.0-tiny-carbon-r2").mkdir()
    (root / "geno-lewm-v0.1.0-tiny-carbon-r2" / "manifest.json").write_bytes((root / RID / "manifest.json").read_bytes())
    assert update_main(["--index-url", index, "--install-dir", str(tmp_path / "m"), "--yes"]) == 7
    assert "PROVENANCE.RELEASE_MISMATCH" in capsys.readouterr().err


def test_unsafe_artifact_path_is_refused(loopback_server, tmp_path, capsys):
    base, root = loopback_server
    manifest = {"schema_version": "1.0.0", "release_id": RID, "artifacts": [{"path": "../escape.bin", "sha256": "0" * 64, "size": 1}]}
    (root / RID).mkdir()
    (root / RID / "manifest.json").write_bytes(canonical_json(manifest))
    index = _index(root, base, [(RID, "0.1.0")])
    assert update_main(["--index-url", index, "--install-dir", str(tmp_path / "m"), "--yes"]) == 2
    assert "INPUT.UNSAFE_PATH" in capsys.readouterr().err
    assert not (tmp_path / "escape.bin").exists()


def test_consent_is_required_without_a_terminal(loopback_server, tmp_path, capsys, monkeypatch):
    base, root = loopback_server
    _publish(root)
    index = _index(root, base, [(RID, "0.1.0")])
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    assert update_main(["--index-url", index, "--install-dir", str(tmp_path / "m")]) == 2
    assert "INPUT.CONSENT_REQUIRED" in capsys.readouterr().err
    assert not (tmp_path / "m" / RID).exists()


@pytest.mark.parametrize("bad", [b"not json", b'{"releases": [{"release_id": "geno-lewm-v0.1.0-x-r1"}]}', b'{"schema_version": "2.0.0", "releases": []}'])
def test_bad_index_is_a_typed_error(loopback_server, tmp_path, capsys, bad):
    base, root = loopback_server
    (root / "index.json").write_bytes(bad)
    assert update_main(["--index-url", f"{base}index.json", "--install-dir", str(tmp_path / "m"), "--check-only"]) == 2
    assert "error[INPUT.BAD_INDEX]" in capsys.readouterr().err


def test_unreachable_index_is_a_resource_error(tmp_path, capsys):
    assert update_main(["--index-url", "http://127.0.0.1:9/index.json", "--install-dir", str(tmp_path), "--check-only"]) == 4
    assert "error[RESOURCE.FETCH_FAILED]" in capsys.readouterr().err
