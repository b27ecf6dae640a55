"""RFC 9162 Merkle proofs: transparency-dev vectors plus generated round trips."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.errors import LedgerError

VECTORS = Path(__file__).parent / "vectors" / "rfc9162"


def _b(text: str | None) -> bytes:
    return base64.b64decode(text or "")


def _cases(kind: str) -> list[Path]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert len(files) > 20, f"{kind} vectors missing"
    return files


@pytest.mark.parametrize("path", _cases("inclusion"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_inclusion_vectors(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (_b(v["leafHash"]), v["leafIdx"], v["treeSize"], [_b(p) for p in v["proof"] or []], _b(v["root"]))
    if v["wantErr"]:
        with pytest.raises(LedgerError) as exc:
            merkle.verify_inclusion(*args)
        assert exc.value.code == "LEDGER.BAD_PROOF"
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("path", _cases("consistency"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_consistency_vectors(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (v["size1"], v["size2"], [_b(p) for p in v["proof"] or []], _b(v["root1"]), _b(v["root2"]))
    if v["wantErr"]:
        with pytest.raises(LedgerError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def test_rfc6962_reference_roots() -> None:
    """Roots of the classic 8-leaf reference tree (leaf data from RFC 6962's test suite)."""
    data = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ]
    leaves = [merkle.leaf_hash(d) for d in data]
    assert merkle.root(leaves).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert merkle.root(leaves[:1]).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert merkle.root([]) == hashlib.sha256(b"").digest()


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 70), data=st.data())
def test_generated_proofs_round_trip(n: int, data) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]
    r = merkle.root(leaves)
    acc = merkle.Accumulator()
    for leaf in leaves:
        acc.add(leaf)
    assert acc.root() == r
    i = data.draw(st.integers(0, n - 1))
    proof = merkle.inclusion_proof(leaves, i)
    merkle.verify_inclusion(leaves[i], i, n, proof, r)
    with pytest.raises(LedgerError):
        merkle.verify_inclusion(merkle.leaf_hash(b"other"), i, n, proof, r)
    m = data.draw(st.integers(1, n))
    cproof = merkle.consistency_proof(leaves, m)
    merkle.verify_consistency(m, n, cproof, merkle.root(leaves[:m]), r)
    if m < n:
        with pytest.raises(LedgerError):
            merkle.verify_consistency(m, n, cproof, merkle.root(leaves[:m]), merkle.root(leaves[: n - 1]) if n - 1 != m else merkle.EMPTY_ROOT)
