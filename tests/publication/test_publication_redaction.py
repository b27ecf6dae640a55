"""No publication report can hold an absolute path, a home directory or a credential value (property tests)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import GenoError
from ledger.artifacts import public_argv
from tools.release.publication.public_report import secret_values, write_public_report

TOKENS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=12, max_size=40).map(lambda s: "hf_" + s)
SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=12).filter(lambda s: s not in (".", ".."))
ABS = st.builds(
    lambda root, segs: f"/{root}/" + "/".join(segs),
    st.sampled_from(["home", "Users", "root", "tmp", "var", "opt", "srv", "mnt"]),
    st.lists(SEGMENT, min_size=1, max_size=4),
)
HOME = st.builds(lambda segs: "~/" + "/".join(segs), st.lists(SEGMENT, min_size=1, max_size=3))


def _embed(doc_shape: int, value: str) -> dict:
    shapes = [
        {"kind": "x", "path": value},
        {"kind": "x", "argv": ["python", "-m", "tools.release.hub_release", "--model-dir", value]},
        {"kind": "x", "nested": {"rows": [{"message": f"could not read {value}"}]}},
        {"kind": "x", "url": f"https://example.org/?token={value}"},
    ]
    return shapes[doc_shape % len(shapes)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=TOKENS, shape=st.integers(0, 3))
def test_token_values_never_written(tmp_path, monkeypatch, token, shape):
    monkeypatch.setenv("HF_TOKEN", token)
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "report.json"
    with pytest.raises(GenoError) as exc:
        write_public_report(out, _embed(shape, token), generated_by="tools.release.test")
    assert exc.value.code == "RELEASE.SECRET_IN_REPORT" and token not in exc.value.message
    assert not out.exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.one_of(ABS, HOME), shape=st.integers(0, 2))
def test_private_paths_never_written(tmp_path, path, shape):
    out = Path(tempfile.mkdtemp(dir=tmp_path)) / "report.json"
    with pytest.raises(GenoError) as exc:
        write_public_report(out, _embed(shape, path), generated_by="tools.release.test")
    assert exc.value.code == "INPUT.PRIVATE_PATH"
    assert not out.exists()


@settings(max_examples=60, deadline=None)
@given(paths=st.lists(st.one_of(ABS, HOME), min_size=1, max_size=4))
def test_public_argv_removes_private_paths(paths):
    argv = ["python", "-m", "tools.release.release_candidate"] + [x for p in paths for x in ("--model-dir", p)] + [f"--output={paths[0]}"]
    safe = public_argv(argv, "/nonexistent-root-for-test")
    text = json.dumps(safe)
    for p in paths:
        assert p not in text


def test_clean_report_is_written_and_short_values_are_not_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "abc")  # too short to be a token: never matched against ordinary text
    assert secret_values() == []
    doc = write_public_report(tmp_path / "r.json", {"kind": "x", "path": "model/manifest.json"}, generated_by="tools.release.test")
    assert json.loads((tmp_path / "r.json").read_text())["path"] == "model/manifest.json" and doc["schema_version"] == "1.0.0"
