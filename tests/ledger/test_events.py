"""Event kinds: canonical bytes equal RFC 8785, validation, upcasting of stored old versions."""

from __future__ import annotations

import json

import msgspec
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import chain
from ledger.errors import GenoError
from ledger.events import CURRENT_VERSIONS, KINDS, encode_body, make_event

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
name = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
key_id = st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda h: "ed25519:" + h)
size = st.integers(0, 2**53 - 1)
path = st.lists(st.text("abcxyz019_-", min_size=1, max_size=8), min_size=1, max_size=3).map("/".join)

BODIES = {
    "genesis": st.fixed_dictionaries({"origin": name, "key_id": key_id, "public_key": text}),
    "key_registered": st.fixed_dictionaries({"key_id": key_id, "public_key": text, "label": text}),
    "key_revoked": st.fixed_dictionaries({"key_id": key_id, "reason": text}),
    "note": st.fixed_dictionaries({"text": text, "tags": st.lists(name, max_size=3)}),
    "checkpoint": st.fixed_dictionaries({"origin": name, "size": size, "root": hex64}),
    "bundle_recorded": st.fixed_dictionaries(
        {
            "bundle": text,
            "identity": name,
            "issuer": name,
            "subjects": st.lists(st.fixed_dictionaries({"name": name, "sha256": hex64}), max_size=3),
            "checkpoint_seq": size,
        }
    ),
    "step_started": st.fixed_dictionaries({"run_id": name, "step": name, "argv": st.lists(text, max_size=4)}),
    "artifact_recorded": st.fixed_dictionaries(
        {"run_id": name, "step": name, "role": st.sampled_from(["input", "output"]), "path": path, "sha256": hex64, "size": size}
    ),
    "step_passed": st.fixed_dictionaries({"run_id": name, "step": name}),
    "step_failed": st.fixed_dictionaries({"run_id": name, "step": name, "code": name, "message": text}),
    "gates_defined": st.lists(name, max_size=4, unique=True).map(
        lambda ns: {"gates": [{"name": n, "title": n, "needs": ns[:i][:1], "steps": [n], "issue_refs": ["#1"]} for i, n in enumerate(ns)]}
    ),
    "model_yanked": st.fixed_dictionaries({"model_id": name, "reason": text, "upgrade_to": text}),
    "shard_scored": st.fixed_dictionaries(
        {
            "run_id": name,
            "step": name,
            "shard": name,
            "regions": st.lists(name, max_size=3),
            "node_id": name,
            "hostname": name,
            "model_id": hex64,
            "inputs": st.lists(st.fixed_dictionaries({"role": name, "path": path, "sha256": hex64, "size": size}), max_size=2),
            "outputs": st.lists(st.fixed_dictionaries({"role": name, "path": path, "sha256": hex64, "size": size}), max_size=2),
            "alts": size,
            "scored": size,
            "resumed": st.booleans(),
        }
    ),
}


def test_every_kind_has_a_strategy() -> None:
    assert set(BODIES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_canonical_bytes_equal_rfc8785(kind: str) -> None:
    @settings(max_examples=40, deadline=None)
    @given(BODIES[kind])
    def check(body: dict) -> None:
        data = encode_body(make_event(kind, body))
        assert data == rfc8785.dumps(json.loads(data))
        assert json.loads(data)["kind"] == kind
        assert json.loads(data)["schema_version"] == CURRENT_VERSIONS[kind]

    check()


@pytest.mark.parametrize(
    "kind, body, code",
    [
        ("nope", {}, "LEDGER.UNKNOWN_KIND"),
        ("note", {"text": "x", "schema_version": "2.0.0"}, "INPUT.SCHEMA_COMPAT"),
        ("note", {"text": "x", "schema_version": "1.9.0"}, "INPUT.SCHEMA_COMPAT"),
        ("note", {"text": 3}, "LEDGER.BAD_BODY"),
        ("note", {"text": "x", "extra": 1}, "LEDGER.BAD_BODY"),
        ("artifact_recorded", {"run_id": "r", "step": "s", "role": "output", "path": "/etc/passwd", "sha256": "0" * 64, "size": 1}, "LEDGER.BAD_BODY"),
        ("artifact_recorded", {"run_id": "r", "step": "s", "role": "output", "path": "a", "sha256": "0" * 64, "size": 1.5}, "LEDGER.BAD_BODY"),
        ("gates_defined", {"gates": [{"name": "a", "needs": ["b"]}]}, "LEDGER.BAD_BODY"),
        ("gates_defined", {"gates": [{"name": "a", "needs": ["b"]}, {"name": "b", "needs": ["a"]}]}, "LEDGER.BAD_BODY"),
        ("note", {"text": "x" * 300_000}, "LEDGER.BAD_BODY"),
        (
            "shard_scored",
            {
                "run_id": "r",
                "step": "s",
                "shard": "1/2",
                "node_id": "n",
                "hostname": "h",
                "model_id": "0" * 64,
                "alts": 1,
                "scored": 1,
                "inputs": [{"role": "vcf", "path": "/home/me/x.vcf", "sha256": "0" * 64, "size": 1}],
                "outputs": [],
            },
            "LEDGER.BAD_BODY",
        ),
    ],
)
def test_bad_bodies_are_typed_errors(kind: str, body: dict, code: str) -> None:
    with pytest.raises(GenoError) as exc:
        encode_body(make_event(kind, body))
    assert exc.value.code == code


def test_stored_1_0_0_note_is_read_as_1_1_0(ledger, signer) -> None:
    """A note written at schema 1.0.0 (no `tags`) stays byte-exact on disk and reads as 1.1.0."""
    old_body = b'{"kind":"note","schema_version":"1.0.0","text":"written by 0.1"}'
    ev = msgspec.json.decode(old_body, type=KINDS["note"])  # the Struct the old writer produced
    head = ledger.head()
    with ledger._connect(read_only=False) as con:
        con.execute("BEGIN")
        seq = ledger._write(con, [(ev, None)], signer, head=head, encoded=[old_body])[0]
        con.execute("COMMIT")
    stored = ledger.get(seq)
    assert stored.body == old_body  # exact bytes kept
    assert stored.data == {"kind": "note", "schema_version": "1.1.0", "text": "written by 0.1", "tags": []}
    assert ledger.verify().ok  # the signature covers the stored 1.0.0 bytes


def test_pae_matches_dsse_spec() -> None:
    assert chain.pae("http://example.com/HelloWorld", b"hello world") == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
