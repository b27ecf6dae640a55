"""The versioning contract: release ids, schema loader rule, deprecation warnings, version source."""

from __future__ import annotations

import tomllib
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import geno_lewm
from geno_lewm.errors import SchemaCompatError
from geno_lewm.versioning import SCHEMAS, ReleaseId, ReleaseIdError, SemVer, deprecated, load_document

ROOT = Path(__file__).resolve().parents[2]


def test_single_version_source():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert geno_lewm.__version__ == pyproject["project"]["version"]


def test_release_id_round_trip():
    rid = ReleaseId.parse("geno-lewm-v0.1.0-carbon-500m-r1")
    assert (rid.version, rid.encoder_id, rid.revision) == (SemVer(0, 1, 0), "carbon-500m", 1)
    assert str(rid) == "geno-lewm-v0.1.0-carbon-500m-r1"
    assert ReleaseId.parse("geno-lewm-v0.2.0-carbon-3b-r12").revision == 12


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("lewm-v0.1.0-carbon-500m-r1", "prefix"),
        ("geno-lewm-v0.1-carbon-500m-r1", "version"),
        ("geno-lewm-v0.1.0-Carbon_500m-r1", "encoder-id"),
        ("geno-lewm-v0.1.0-carbon-500m-r0", "revision"),
        ("geno-lewm-v0.1.0-carbon-500m-r01", "revision"),
        ("geno-lewm-v0.1.0-carbon-500m", "revision"),
        ("geno-lewm-v01.1.0-carbon-500m-r1", "version"),
    ],
)
def test_release_id_errors_name_the_bad_part(text, part):
    with pytest.raises(ReleaseIdError) as err:
        ReleaseId.parse(text)
    assert err.value.part == part
    assert err.value.code == "INPUT.RELEASE_ID"


@given(
    major=st.integers(0, 99),
    minor=st.integers(0, 99),
    patch=st.integers(0, 99),
    enc=st.from_regex(r"[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,4}){0,2}", fullmatch=True),
    rev=st.integers(1, 999),
)
def test_release_id_format_parse_property(major, minor, patch, enc, rev):
    rid = ReleaseId(SemVer(major, minor, patch), enc, rev)
    assert ReleaseId.parse(str(rid)) == rid


def test_schema_table_lists_every_on_disk_schema_at_1_0_0():
    expected = {"manifest", "receipt", "window_embedding_shard", "gnomad_shard", "clinvar_shard", "calibration_table", "ledger_event"}
    assert expected <= set(SCHEMAS)
    assert {s.version for s in SCHEMAS.values()} == {"1.0.0"}


def test_loader_accepts_same_major_and_ignores_unknown_optional_fields():
    doc = {"schema_version": "1.4.2", "model_id": "x", "input_commitment": "a", "output_commitment": "b", "future_optional": 1}
    assert load_document("receipt", doc)["future_optional"] == 1


def test_loader_rejects_unknown_required_fields():
    doc = {"schema_version": "1.1.0", "required_fields": ["model_id", "quantum_seal"], "model_id": "x"}
    with pytest.raises(SchemaCompatError, match="quantum_seal"):
        load_document("receipt", doc)


def test_loader_rejects_other_major_without_migration():
    with pytest.raises(SchemaCompatError, match="MAJOR 2"):
        load_document("receipt", {"schema_version": "2.0.0"})
    with pytest.raises(SchemaCompatError, match="schema_version"):
        load_document("receipt", {"model_id": "x"})


def test_deprecated_warns_once_per_call_site():
    @deprecated("use new_fn")
    def old_fn(x):
        return x * 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [old_fn(i) for i in range(3)]  # one call site, three calls
        old_fn(5)  # a second call site
    assert results == [0, 2, 4]
    messages = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(messages) == 2
    assert "use new_fn" in str(messages[0].message)
    assert messages[0].filename == __file__
