"""Per-event evidence: re-check one stored event, and prove its inclusion in a Merkle tree head.

:func:`check_event` recomputes the event hash from the stored bytes, checks the link to the
previous event, verifies the Ed25519 signature under the key the ledger registered, and says
whether that key was trusted at the event's position. :func:`inclusion_proof` builds the RFC 9162
audit path of an event against the latest checkpoint covering it (or the current head, or an
explicit tree size). Both read the stored bytes; nothing is re-serialised. ``Ledger.check_event``
and ``Ledger.inclusion_proof`` are the entry points; the CLI (``prove``) and the cockpit use them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from ledger import chain, merkle
from ledger.errors import LedgerError
from ledger.events import Checkpoint, Genesis, KeyRegistered, KeyRevoked, decode_body_raw

if TYPE_CHECKING:
    from ledger.store import Ledger

KeyStatus = Literal["trusted", "unknown", "revoked"]


@dataclass(frozen=True, slots=True)
class EventCheck:
    """Outcome of :func:`check_event` for one stored event."""

    seq: int  # the event checked
    key_id: str  # key that signed it
    hash_ok: bool  # the recomputed event hash equals the stored one
    prev_ok: bool  # prev_hash equals the stored hash of the event before (genesis: 64 zeros)
    signature_ok: bool | None  # the signature verifies under the registered key (None: key never registered)
    key_status: KeyStatus  # the signer at this position: trusted, revoked before it, or unknown
    revoked_seq: int | None = None  # seq of the revocation when key_status is "revoked"

    @property
    def ok(self) -> bool:
        """True when the hash, the link, the signature and the key's trust all check out."""
        return self.hash_ok and self.prev_ok and self.signature_ok is True and self.key_status == "trusted"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (with ``ok``)."""
        return {**asdict(self), "ok": self.ok}


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """An RFC 9162 inclusion proof of one event (leaf data: the 32-byte event hash)."""

    seq: int  # event seq
    leaf_index: int  # leaf index in the tree (equals seq)
    tree_size: int  # number of leaves of the tree proved against
    root: str  # hex Merkle tree head of that tree
    proof: list[str]  # hex audit path, leaf to root
    checkpoint_seq: int | None  # seq of the checkpoint whose root this is (None: the current head, no checkpoint)
    event_hash: str  # hex event hash (the leaf data)
    leaf_hash: str  # hex RFC 9162 leaf hash of the event hash

    def verify(self) -> None:
        """Check the proof leads from the leaf to the root (``LEDGER.BAD_PROOF`` otherwise)."""
        merkle.verify_inclusion(
            bytes.fromhex(self.leaf_hash), self.leaf_index, self.tree_size, [bytes.fromhex(p) for p in self.proof], bytes.fromhex(self.root)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (``geno-lewm-ledger prove`` output)."""
        return {**asdict(self), "hash_algorithm": "sha256", "tree": "RFC 9162"}


def _key_events(con) -> list[tuple[int, Any]]:
    rows = con.execute("SELECT seq, body FROM events WHERE kind IN ('genesis', 'key_registered', 'key_revoked') ORDER BY seq").fetchall()
    return [(int(seq), decode_body_raw(bytes(body))) for seq, body in rows]


def check_event(ledger: "Ledger", seq: int) -> EventCheck:
    """Re-check stored event ``seq`` (``LEDGER.NO_SUCH_SEQ`` if absent); never raises for a bad event, reports it."""
    from ledger.keys import public_key_from_b64, verify_signature

    with ledger.reader() as con:
        row = ledger.stored_row(con, seq)
        if row is None:
            raise LedgerError("NO_SUCH_SEQ", f"no event with seq {seq}", "run `geno-lewm-ledger status` to see the head")
        prev = con.execute("SELECT hash FROM events WHERE seq = ?", [seq - 1]).fetchone() if seq > 0 else (chain.GENESIS_PREV_HASH,)
        key_events = _key_events(con)
    _, event_id, kind, ts, key_id, prev_hash, body, stored_hash, sig = row
    body = bytes(body)
    hash_ok = chain.event_hash(seq, event_id, kind, ts, key_id, prev_hash, body) == stored_hash
    prev_ok = prev is not None and prev[0] == prev_hash
    public: str | None = None  # the key's registered public key (anywhere in the ledger)
    status: KeyStatus = "unknown"
    revoked_seq: int | None = None
    for kseq, ev in key_events:
        if isinstance(ev, (Genesis, KeyRegistered)) and ev.key_id == key_id and public is None:
            public = ev.public_key
            if kseq < seq or (kseq == seq == 0 and isinstance(ev, Genesis)):
                status = "trusted"
        elif isinstance(ev, KeyRevoked) and ev.key_id == key_id and kseq < seq and status == "trusted":
            status, revoked_seq = "revoked", kseq
    signature_ok: bool | None = None
    if public is not None:
        try:
            signature_ok = verify_signature(public_key_from_b64(public), bytes.fromhex(sig), chain.event_pae(body))
        except (ValueError, LedgerError):  # malformed hex or key: not a valid signature
            signature_ok = False
    return EventCheck(seq=seq, key_id=key_id, hash_ok=hash_ok, prev_ok=prev_ok, signature_ok=signature_ok, key_status=status, revoked_seq=revoked_seq)


def _leaves(con, size: int) -> list[bytes]:
    """RFC 9162 leaf hashes of events ``[0, size)``, fetched as one Arrow column."""
    hashes = con.sql(f"SELECT hash FROM events WHERE seq < {int(size)} ORDER BY seq").to_arrow_table().column(0).to_pylist()
    leaf, unhex = merkle.leaf_hash, bytes.fromhex
    return [leaf(unhex(h)) for h in hashes]


def inclusion_proof(ledger: "Ledger", seq: int, size: int | None = None) -> InclusionProof:
    """The inclusion proof of event ``seq``.

    Without ``size``: against the latest checkpoint covering the event, else against the current
    head. With ``size``: against the tree of the first ``size`` events (naming the checkpoint of
    exactly that size, if there is one). A checkpoint whose recorded root differs from the events
    raises ``LEDGER.CHECKPOINT_MISMATCH``; a seq outside the tree raises ``LEDGER.NO_SUCH_SEQ``.
    """
    with ledger.reader() as con:
        head = int(con.execute("SELECT count(*) FROM events").fetchone()[0])
        cps = [
            (int(s), decode_body_raw(bytes(b))) for s, b in con.execute("SELECT seq, body FROM events WHERE kind = 'checkpoint' ORDER BY seq DESC").fetchall()
        ]
        cps = [(s, ev) for s, ev in cps if isinstance(ev, Checkpoint)]
        if size is None:
            cp = next(((s, ev) for s, ev in cps if ev.size > seq), None)
            size = cp[1].size if cp else head
        else:
            cp = next(((s, ev) for s, ev in cps if ev.size == size), None)
        if not 0 < size <= head or not 0 <= seq < size:
            raise LedgerError(
                "NO_SUCH_SEQ",
                f"seq {seq} is not inside a tree of size {size} (the ledger has {head} events)",
                "pick a seq below the tree size; see `geno-lewm-ledger status`",
            )
        leaves = _leaves(con, size)
        event_hash = con.execute("SELECT hash FROM events WHERE seq = ?", [seq]).fetchone()[0]
    root = merkle.root(leaves)
    if cp is not None and cp[1].root != root.hex():
        raise LedgerError(
            "CHECKPOINT_MISMATCH",
            f"checkpoint at seq {cp[0]} records a root for size {size} that the events do not produce (rewritten history)",
            "run `geno-lewm-ledger verify` to find the first altered event",
        )
    proof = merkle.inclusion_proof(leaves, seq)
    return InclusionProof(
        seq=seq,
        leaf_index=seq,
        tree_size=size,
        root=root.hex(),
        proof=[p.hex() for p in proof],
        checkpoint_seq=cp[0] if cp else None,
        event_hash=event_hash,
        leaf_hash=leaves[seq].hex(),
    )
