"""RFC 9162 Merkle trees over ledger event hashes: roots, inclusion and consistency proofs.

Hashing follows RFC 9162 §2.1: ``leaf_hash(d) = SHA-256(0x00 || d)`` and
``node_hash(l, r) = SHA-256(0x01 || l || r)``; the root of the empty tree is ``SHA-256("")``.
Functions taking ``leaf_hashes`` expect *leaf hashes* (already prefixed and hashed). In the ledger
the leaf data is the 32-byte event hash, so ``leaf_hashes = [leaf_hash(bytes.fromhex(h)) …]``.

Verifiers raise ``LEDGER.BAD_PROOF`` (a :class:`ledger.errors.LedgerError`) naming the failure.
They are tested against the transparency-dev vectors in tests/ledger/vectors/rfc9162/.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence

from ledger.errors import LedgerError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return _sha(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha(b"\x01" + left + right).digest()


def _fail(message: str) -> LedgerError:
    return LedgerError("BAD_PROOF", message, "the proof, the root or the ledger was altered; re-fetch the proof and re-run verify")


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Merkle tree head (MTH) of ``leaf_hashes`` (RFC 9162 §2.1.1)."""
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        nxt = [_sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def _split(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Audit path for leaf ``index`` in the tree of ``leaf_hashes`` (RFC 9162 §2.1.3.1)."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise _fail(f"leaf index {index} is outside a tree of size {n}")

    def path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
        if len(leaves) <= 1:
            return []
        k = _split(len(leaves))
        if m < k:
            return path(m, leaves[:k]) + [root(leaves[k:])]
        return path(m - k, leaves[k:]) + [root(leaves[:k])]

    return path(index, leaf_hashes)


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int) -> list[bytes]:
    """Consistency proof between the first ``size1`` leaves and all of ``leaf_hashes`` (RFC 9162 §2.1.4.1)."""
    n = len(leaf_hashes)
    if not 0 < size1 <= n:
        raise _fail(f"size1 {size1} must be in [1, {n}]")

    def subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
        if m == len(leaves):
            return [] if complete else [root(leaves)]
        k = _split(len(leaves))
        if m <= k:
            return subproof(m, leaves[:k], complete) + [root(leaves[k:])]
        return subproof(m - k, leaves[k:], False) + [root(leaves[:k])]

    return subproof(size1, leaf_hashes, True)


def _check_len(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise _fail(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def _audit_path(fn: int, sn: int, path: Sequence[bytes], too_long: str, too_short: str) -> Iterator[tuple[bytes, bool]]:
    """Walk an RFC 9162 audit path up from node ``fn`` of a tree whose last node is ``sn``.

    Yields each hash of ``path`` with ``left``: True when it is the left sibling (the running hash
    becomes ``node_hash(hash, running)``), False when it is the right one. Raises ``too_long`` /
    ``too_short`` when the path does not end exactly at the root. Hash lengths are checked on the way.
    """
    for i, h in enumerate(path):
        _check_len(h, f"proof[{i}]")
        if sn == 0:
            raise _fail(too_long)
        left = bool(fn & 1 or fn == sn)
        yield h, left
        if left:  # climb past the levels where this subtree is a right-most, unpaired node
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _fail(too_short)


def root_from_inclusion(leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes]) -> bytes:
    """The root implied by an inclusion proof (RFC 9162 §2.1.3.2); raises on a malformed proof."""
    if not 0 <= index < tree_size:
        raise _fail(f"leaf index {index} is outside a tree of size {tree_size}")
    _check_len(leaf, "leaf hash")
    r = leaf
    for p, left in _audit_path(
        index, tree_size - 1, proof, "inclusion proof is longer than the tree is deep", "inclusion proof is shorter than the tree is deep"
    ):
        r = node_hash(p, r) if left else node_hash(r, p)
    return r


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> None:  # noqa: A002 - API name
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with head ``root``; raise otherwise."""
    _check_len(root, "root")
    got = root_from_inclusion(leaf_hash, index, tree_size, proof)
    if got != root:
        raise _fail(f"inclusion proof for leaf {index} of {tree_size} does not lead to the given root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree (size1, root1) is a prefix of the tree (size2, root2); raise otherwise (RFC 9162 §2.1.4.2)."""
    if size1 < 0 or size2 < 0:
        raise _fail("negative tree size")
    if size2 < size1:
        raise _fail(f"size1 {size1} is greater than size2 {size2}")
    if size1 == 0:
        raise _fail("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise _fail("sizes are equal but the proof is not empty")
        if root1 != root2:
            raise _fail("sizes are equal but the roots differ")
        return
    if not proof:
        raise _fail("empty consistency proof for different sizes")
    _check_len(root1, "root1")
    _check_len(root2, "root2")
    for i, p in enumerate(proof):
        _check_len(p, f"proof[{i}]")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: the old root is a node of the new tree
        path = [root1] + path
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c, left in _audit_path(fn, sn, path[1:], "consistency proof is too long", "consistency proof is too short"):
        if left:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
        else:
            sr = node_hash(sr, c)
    if fr != root1:
        raise _fail("consistency proof does not lead to root1")
    if sr != root2:
        raise _fail("consistency proof does not lead to root2")


class Accumulator:
    """Incremental RFC 9162 tree: append leaf hashes, read the root of the tree so far in O(log n).

    Keeps the compact range (perfect subtrees) of the leaves added; verification uses it to check
    every checkpoint in one pass over the ledger.
    """

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (height, subtree root), heights strictly decreasing
        self.size = 0

    def add(self, leaf: bytes) -> None:
        """Append one leaf hash."""
        stack = self._stack
        h, node = 0, leaf
        while stack and stack[-1][0] == h:
            node = _sha(b"\x01" + stack.pop()[1] + node).digest()
            h += 1
        stack.append((h, node))
        self.size += 1

    def root(self) -> bytes:
        """Root of the leaves added so far."""
        if not self._stack:
            return EMPTY_ROOT
        r = self._stack[-1][1]
        for _, node in reversed(self._stack[:-1]):
            r = _sha(b"\x01" + node + r).digest()
        return r
