"""Full ledger verification: one pass over the stored bytes, naming the first bad seq.

Checks, in order of seq: contiguous ``seq`` from 0; ``prev_hash`` chaining; the recomputed event
hash; the body decodes to the kind in the ``kind`` column; the signer is trusted at that point
(genesis key, keys registered by trusted keys, none revoked before); key-event rules; every
checkpoint's root equals the RFC 9162 root of the events it covers; the Ed25519 signature over
DSSE PAE(body) (in parallel threads); the head witness (detects removed tail events); recorded
Sigstore bundles (offline); and, with ``artifacts_root``, the bytes of the latest recorded
identity of each artifact path. Nothing is re-serialised: hashes and signatures are checked on the
stored bytes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from ledger import chain, merkle
from ledger.errors import GenoError
from ledger.events import ArtifactRecorded, BundleRecorded, Checkpoint, Genesis, KeyRegistered, KeyRevoked, decode_body_raw

if TYPE_CHECKING:
    from ledger.store import Ledger


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_ledger`: ``ok``, and otherwise the first bad seq with a code and reason."""

    ok: bool  # True when every check passed
    checked: int  # number of events examined
    first_bad_seq: int | None = None  # first failing seq (None when ok)
    code: str | None = None  # error code of the first failure (e.g. LEDGER.BAD_HASH)
    reason: str | None = None  # human-readable reason
    head_hash: str = ""  # hash of the last event
    checkpoints: int = 0  # checkpoints checked
    signatures: int = 0  # signatures checked (0 when skipped)
    bundles: int = 0  # Sigstore bundles re-verified
    artifacts: int = 0  # artifact identities checked on disk
    seconds: float = 0.0  # wall time
    extra: dict[str, Any] = field(default_factory=dict)  # per-check notes

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (``--json`` output)."""
        return asdict(self)


class _Fail(Exception):
    def __init__(self, seq: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.seq, self.code, self.reason = seq, code, reason


def _check_checkpoint_head(i: int, ev, origin: str) -> None:
    """A checkpoint at seq ``i`` must name the ledger's origin and cover only earlier events."""
    if ev.origin != origin:
        raise _Fail(i, "LEDGER.CHECKPOINT_MISMATCH", f"checkpoint origin {ev.origin!r} is not the ledger's {origin!r}")
    if ev.size > i:
        raise _Fail(i, "LEDGER.CHECKPOINT_MISMATCH", f"checkpoint size {ev.size} covers events after itself")


def _apply_key_event(i: int, ev, active: dict, active_b64: dict, revoked: dict) -> None:
    """Apply a ``key_registered``/``key_revoked`` event at seq ``i`` to the trusted-key state, or fail."""
    if isinstance(ev, KeyRegistered):
        if ev.key_id in active or ev.key_id in revoked:
            raise _Fail(i, "LEDGER.BAD_EVENT", f"key {ev.key_id} registered twice")
        if _key_id_of(ev.public_key) != ev.key_id:
            raise _Fail(i, "LEDGER.BAD_EVENT", "key_registered key_id does not match its public key")
        active[ev.key_id] = _pubkey(ev.public_key)
        active_b64[ev.key_id] = ev.public_key
    else:
        if ev.key_id not in active:
            raise _Fail(i, "LEDGER.BAD_EVENT", f"revokes {ev.key_id}, which is not an active key")
        del active[ev.key_id]
        revoked[ev.key_id] = i


def _pubkey(b64: str):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(b64))


def _check_signatures(jobs: list[tuple[int, Any, bytes, str]], workers: int | None) -> tuple[int, str] | None:
    """Verify (seq, public key, body, sig hex) jobs; return (seq, reason) of the first failure."""
    from ledger.keys import verify_events

    bad = verify_events([j[1] for j in jobs], [j[2] for j in jobs], [j[3] for j in jobs], workers=workers)
    return None if bad is None else (jobs[bad][0], "signature does not verify under the recorded key")


def verify_rows(rows: list[tuple], witness: tuple | None, *, signatures: bool = True, workers: int | None = None) -> tuple[VerifyReport, dict[str, Any]]:
    """Verify event rows (as stored) and the head witness; return the report and collected material.

    The material (``bundles``, ``artifacts``, ``leaves``) lets the caller run the slower offline
    checks (Sigstore bundles, artifact bytes).
    """
    t0 = time.perf_counter()
    active: dict[str, Any] = {}  # key_id -> public key object
    active_b64: dict[str, str] = {}
    revoked: dict[str, int] = {}
    acc = merkle.Accumulator()
    leaves: list[bytes] = []
    jobs: list[tuple[int, Any, bytes, str]] = []
    bundles: list[tuple[int, BundleRecorded]] = []
    artifacts: dict[str, tuple[int, ArtifactRecorded]] = {}
    checkpoints = 0
    origin = ""
    prev = chain.GENESIS_PREV_HASH
    fail: _Fail | None = None
    ehash = chain.event_hash
    leaf = merkle.leaf_hash
    n = 0
    try:
        for i, row in enumerate(rows):
            seq, event_id, kind, ts, key_id, prev_hash, body, h, sig = row
            body = bytes(body)
            n = i + 1
            if seq != i:
                raise _Fail(i, "LEDGER.SEQ_GAP", f"event seq {i} is missing (next stored seq is {seq})")
            if prev_hash != prev:
                raise _Fail(i, "LEDGER.CHAIN_BROKEN", "prev_hash does not equal the previous event's hash")
            if ehash(seq, event_id, kind, ts, key_id, prev_hash, body) != h:
                raise _Fail(i, "LEDGER.BAD_HASH", "stored hash does not match the event's bytes")
            try:
                ev = decode_body_raw(body)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                raise _Fail(i, "LEDGER.BAD_EVENT", f"body does not decode: {exc}") from None
            if ev.__struct_config__.tag != kind:
                raise _Fail(i, "LEDGER.BAD_EVENT", f"kind column {kind!r} differs from body kind {ev.__struct_config__.tag!r}")
            if i == 0:
                if not isinstance(ev, Genesis):
                    raise _Fail(0, "LEDGER.BAD_GENESIS", "the first event is not a genesis event")
                if ev.key_id != key_id:
                    raise _Fail(0, "LEDGER.BAD_GENESIS", "genesis is not signed by the key it registers")
                if _key_id_of(ev.public_key) != ev.key_id:
                    raise _Fail(0, "LEDGER.BAD_GENESIS", "genesis key_id does not match its public key")
                origin = ev.origin
                active[key_id] = _pubkey(ev.public_key)
                active_b64[key_id] = ev.public_key
            elif isinstance(ev, Genesis):
                raise _Fail(i, "LEDGER.BAD_EVENT", "a second genesis event")
            pk = active.get(key_id)
            if pk is None:
                if key_id in revoked:
                    raise _Fail(i, "LEDGER.KEY_REVOKED", f"signed by {key_id}, revoked at seq {revoked[key_id]}")
                raise _Fail(i, "LEDGER.UNKNOWN_KEY", f"signed by {key_id}, which is not a trusted key at this point")
            jobs.append((i, pk, body, sig))
            if isinstance(ev, (KeyRegistered, KeyRevoked)):
                _apply_key_event(i, ev, active, active_b64, revoked)
            elif isinstance(ev, Checkpoint):
                checkpoints += 1
                _check_checkpoint_head(i, ev, origin)
                r = acc.root() if ev.size == i else merkle.root(leaves[: ev.size])
                if r.hex() != ev.root:
                    raise _Fail(i, "LEDGER.CHECKPOINT_MISMATCH", f"checkpoint root for size {ev.size} does not match the events (rewritten history)")
            elif isinstance(ev, BundleRecorded):
                bundles.append((i, ev))
            elif isinstance(ev, ArtifactRecorded):
                artifacts[ev.path] = (i, ev)
            lh = leaf(bytes.fromhex(h))
            leaves.append(lh)
            acc.add(lh)
            prev = h
        if fail is None and n == 0:
            raise _Fail(0, "LEDGER.BAD_GENESIS", "the ledger has no events")
        _check_head_witness(witness, n, origin, prev, rows[-1][4], lambda k: _pubkey_any(k, active_b64, rows))
    except _Fail as f:
        fail = f
    limit = fail.seq if fail else n
    sig_fail = None
    nsig = 0
    if signatures:
        todo = [j for j in jobs if j[0] < limit]
        nsig = len(todo)
        sig_fail = _check_signatures(todo, workers)
    report = VerifyReport(ok=True, checked=n, head_hash=prev, checkpoints=checkpoints, signatures=nsig)
    if sig_fail is not None and (fail is None or sig_fail[0] < fail.seq):
        fail = _Fail(sig_fail[0], "LEDGER.BAD_SIGNATURE", sig_fail[1])
    if fail is not None:
        report.ok, report.first_bad_seq, report.code, report.reason = False, fail.seq, fail.code, fail.reason
    report.seconds = time.perf_counter() - t0
    return report, {"bundles": bundles, "artifacts": artifacts, "leaves": leaves, "origin": origin}


def _key_id_of(public_key_b64: str) -> str:
    from ledger.keys import key_id_for

    try:
        return key_id_for(base64.b64decode(public_key_b64, validate=True))
    except ValueError:
        return ""


def _check_head_witness(witness: tuple | None, n: int, origin: str, last_hash: str, last_key: str, pubkey: Callable[[str], Any]) -> None:
    """The head witness (the last writer's signed ``(size, head hash)``) covers exactly the ``n`` events; ``_Fail`` otherwise."""
    if witness is None:
        raise _Fail(n, "LEDGER.TRUNCATED", "head witness is missing")
    w_origin, w_size, w_hash, w_key, w_sig = witness
    if w_size > n:
        raise _Fail(n, "LEDGER.TRUNCATED", f"events missing from seq {n}: the head witness records {w_size} events")
    if w_size < n:
        raise _Fail(int(w_size), "LEDGER.TRUNCATED", f"events from seq {w_size} are not covered by the signed head witness")
    if w_hash != last_hash or w_origin != origin or w_key != last_key:
        raise _Fail(n - 1, "LEDGER.TRUNCATED", "head witness does not match the last event")
    key = pubkey(w_key)
    try:
        key.verify(bytes.fromhex(w_sig), chain.head_message(w_origin, int(w_size), w_hash))
    except Exception:  # noqa: BLE001 - InvalidSignature or malformed hex
        raise _Fail(n - 1, "LEDGER.TRUNCATED", "head witness signature does not verify") from None


def _known_pubkey(key_id: str, active_b64: dict[str, str], n: int):
    """The active key ``key_id`` (the head witness of the fast path must be signed by one)."""
    if key_id not in active_b64:
        raise _Fail(n - 1, "LEDGER.TRUNCATED", f"head witness signed by unknown key {key_id}")
    return _pubkey(active_b64[key_id])


def _pubkey_any(key_id: str, known: dict[str, str], rows: list[tuple]):
    if key_id not in known:
        raise _Fail(len(rows) - 1, "LEDGER.TRUNCATED", f"head witness signed by unknown key {key_id}")
    return _pubkey(known[key_id])


_KEY_KINDS = frozenset({"genesis", "key_registered", "key_revoked"})
#: Kinds the sequential pass looks at (artifact bodies are decoded again only when needed).
_SPECIAL = frozenset({"genesis", "key_registered", "key_revoked", "checkpoint", "bundle_recorded"})


@dataclass
class _Rows:
    """Per-range outcome of :func:`_row_checks` (first failures, special events, Merkle levels)."""

    bad_hash: int | None  # first row whose recomputed hash differs
    bad_decode: tuple[int, str] | None  # first row whose body does not decode, with the reason
    bad_kind: tuple[int, str] | None  # first row whose body kind differs from the kind column
    special: dict[int, Any]  # row -> decoded event, for key events, checkpoints and bundles
    levels: list[bytes]  # levels[h]: concatenated roots of the complete 2^h-leaf subtrees of the rows before bad_hash


#: Row ranges handed to workers start on multiples of 2^_ALIGN_BITS, so their Merkle levels up to
#: that height concatenate into the ledger's levels.
_ALIGN_BITS = 12


def _row_checks(start: int, stop: int) -> _Rows:
    """The row-local checks of rows ``[start, stop)``: hash, body decoding, kind; plus Merkle levels."""
    from ledger.parallel import data

    part = data().slice(start, stop - start)  # the Arrow table, shared with a forked parent
    pre, hashes, bodies, kinds = (part.column(c).to_pylist() for c in ("pre", "hash", "body", "kind"))
    sha, unhex = hashlib.sha256, bytes.fromhex
    computed = [sha(p).hexdigest() for p in pre]
    del pre
    bad_hash = None
    end = len(hashes)
    if computed != hashes:
        end = next(i for i, (a, b) in enumerate(zip(computed, hashes)) if a != b)
        bad_hash = start + end
    cur = [sha(b"\x00" + unhex(h)).digest() for h in hashes[:end]]
    levels = [b"".join(cur)]
    while len(cur) > 1:
        cur = [sha(b"\x01" + cur[i] + cur[i + 1]).digest() for i in range(0, len(cur) - 1, 2)]
        levels.append(b"".join(cur))
    bad_decode = None
    try:
        evs = list(map(decode_body_raw, bodies))
    except (msgspec.DecodeError, msgspec.ValidationError):
        evs = []
        for i, body in enumerate(bodies):
            try:
                evs.append(decode_body_raw(body))
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                bad_decode = (start + i, f"body does not decode: {exc}")
                break
    tags = [e.__struct_config__.tag for e in evs]
    bad_kind = None
    if tags != kinds[: len(tags)]:
        i = next(i for i, (a, b) in enumerate(zip(tags, kinds)) if a != b)
        bad_kind = (start + i, f"kind column {kinds[i]!r} differs from body kind {tags[i]!r}")
    special = {start + i: evs[i] for i, t in enumerate(tags) if t in _SPECIAL}
    return _Rows(bad_hash, bad_decode, bad_kind, special, levels)


def _merge_levels(parts: list[_Rows]) -> list[list[bytes]]:
    """The ledger's Merkle levels (see :func:`_levels`) from the per-range levels of :func:`_row_checks`."""
    sha = hashlib.sha256
    top = max(len(p.levels) for p in parts)
    if len(parts) > 1:
        top = min(top, _ALIGN_BITS + 1)  # above the alignment, ranges do not hold whole subtrees
    levels: list[list[bytes]] = []
    for h in range(top):
        blob = b"".join(p.levels[h] for p in parts if h < len(p.levels))
        levels.append([blob[i : i + 32] for i in range(0, len(blob), 32)])
    cur = levels[-1]
    while len(cur) > 1:
        cur = [sha(b"\x01" + cur[i] + cur[i + 1]).digest() for i in range(0, len(cur) - 1, 2)]
        levels.append(cur)
    return levels


def _prefix_root(levels: list[list[bytes]], size: int) -> bytes:
    """RFC 9162 root of the first ``size`` leaves from :func:`_merge_levels` in O(log n)."""
    if size == 0:
        return merkle.EMPTY_ROOT
    nodes, offset = [], 0
    for h in range(size.bit_length() - 1, -1, -1):
        if size >> h & 1:
            nodes.append(levels[h][offset >> h])
            offset += 1 << h
    r = nodes[-1]
    for node in reversed(nodes[:-1]):
        r = hashlib.sha256(b"\x01" + node + r).digest()
    return r


def _fetch(ledger: "Ledger", signatures: bool):
    """One read transaction: the columns verification needs (as Arrow, seq-ordered) and the head witness."""
    cols = f"seq, {chain.EVENT_HASH_PREIMAGE_SQL} AS pre, body, hash, prev_hash, kind, key_id" + (", sig" if signatures else "")
    with ledger.reader() as con:
        try:
            table = con.sql(f"SELECT {cols} FROM events").to_arrow_table()  # table order; sorted below only if needed
            witness = con.execute("SELECT origin, size, head_hash, key_id, sig FROM ledger_head").fetchone()
        except Exception as exc:  # noqa: BLE001 - an altered schema: let the row path report it
            from ledger.dbfile import is_corruption, storage_error

            if is_corruption(exc):  # damaged bytes, not an altered schema: name the file
                raise storage_error(ledger.path, exc) from None
            raise _Fallback(str(exc)) from None
    seq = table.column("seq").to_numpy()
    if len(seq) > 1 and not bool((seq[1:] > seq[:-1]).all()):
        table = table.sort_by("seq")
        seq = table.column("seq").to_numpy()
    if any(c.null_count for c in table.columns):
        raise _Fallback("NULL values in the events table")
    return seq, table, witness


class _Fallback(Exception):
    """The columnar path cannot judge this table; use the row-by-row path."""


def verify_columns(ledger: "Ledger", *, signatures: bool = True, workers: int | None = None) -> tuple[VerifyReport, dict[str, Any]]:
    """The columnar form of :func:`verify_rows` (same checks, same first bad seq and code), for speed.

    Preimages are built by DuckDB (:data:`ledger.chain.EVENT_HASH_PREIMAGE_SQL`) and hashed with
    ``hashlib``; the row-local checks (hash, body decoding, kind) and the Ed25519 signatures run
    over one process per core for large ledgers; the sequential rules (keys, checkpoints, head
    witness) walk only the key, checkpoint and bundle events.
    """
    import numpy as np

    from ledger.keys import verify_events
    from ledger.parallel import map_ranges

    t0 = time.perf_counter()
    seq, table, witness = _fetch(ledger, signatures)
    n = len(seq)
    if n == 0:
        raise _Fallback("empty table")
    import pyarrow.compute as pc

    parts = map_ranges(_row_checks, table, n, workers=workers, align=1 << _ALIGN_BITS)
    hashes, kinds, key_ids = (table.column(c).to_pylist() for c in ("hash", "kind", "key_id"))
    # Row-local failures, as (row, order of the check in verify_rows, code, reason).
    local: list[tuple[int, int, str, str]] = []
    gaps = np.flatnonzero(seq != np.arange(n))
    if len(gaps):
        i = int(gaps[0])
        local.append((i, 0, "LEDGER.SEQ_GAP", f"event seq {i} is missing (next stored seq is {int(seq[i])})"))
    prev_col = table.column("prev_hash")
    linked = pc.equal(prev_col.slice(1), table.column("hash").slice(0, n - 1))  # prev_hash[i] == hash[i-1]
    if prev_col[0].as_py() != chain.GENESIS_PREV_HASH:
        local.append((0, 1, "LEDGER.CHAIN_BROKEN", "prev_hash does not equal the previous event's hash"))
    elif n > 1 and not pc.all(linked).as_py():
        i = 1 + pc.index(linked, False).as_py()
        local.append((i, 1, "LEDGER.CHAIN_BROKEN", "prev_hash does not equal the previous event's hash"))
    special: dict[int, Any] = {}
    used: list[_Rows] = []
    for part in parts:
        if part.bad_hash is not None:
            local.append((part.bad_hash, 2, "LEDGER.BAD_HASH", "stored hash does not match the event's bytes"))
        if part.bad_decode is not None:
            local.append((part.bad_decode[0], 3, "LEDGER.BAD_EVENT", part.bad_decode[1]))
        if part.bad_kind is not None:
            local.append((part.bad_kind[0], 4, "LEDGER.BAD_EVENT", part.bad_kind[1]))
        special.update(part.special)
        used.append(part)
        if part.bad_hash is not None:
            break  # leaves stop at the first bad hash
    first_local = min(local) if local else None
    limit = first_local[0] if first_local else n  # rows [0, limit) passed every row-local check

    fail: _Fail | None = None
    active: dict[str, Any] = {}
    active_b64: dict[str, str] = {}
    revoked: dict[str, int] = {}
    pks: list[Any] = []
    bundles: list[tuple[int, BundleRecorded]] = []
    checkpoints = 0
    origin = ""
    levels: list[list[bytes]] | None = None
    try:
        if limit == 0:
            raise _Fail(first_local[0], first_local[2], first_local[3])  # type: ignore[index]
        ev0 = special.get(0)
        if not isinstance(ev0, Genesis):
            raise _Fail(0, "LEDGER.BAD_GENESIS", "the first event is not a genesis event")
        if ev0.key_id != key_ids[0]:
            raise _Fail(0, "LEDGER.BAD_GENESIS", "genesis is not signed by the key it registers")
        if _key_id_of(ev0.public_key) != ev0.key_id:
            raise _Fail(0, "LEDGER.BAD_GENESIS", "genesis key_id does not match its public key")
        origin = ev0.origin
        active[ev0.key_id] = _pubkey(ev0.public_key)
        active_b64[ev0.key_id] = ev0.public_key
        seg = 0  # rows [seg, i] are checked against the keys trusted before row i's own key event
        for i in sorted(k for k in special if k < limit):
            ev = special[i]
            _check_trust(key_ids, seg, i, active, revoked, pks)
            if i > 0 and isinstance(ev, Genesis):
                raise _Fail(i, "LEDGER.BAD_EVENT", "a second genesis event")
            _check_trust(key_ids, i, i + 1, active, revoked, pks)
            seg = i + 1
            if isinstance(ev, (KeyRegistered, KeyRevoked)):
                _apply_key_event(i, ev, active, active_b64, revoked)
            elif isinstance(ev, Checkpoint):
                checkpoints += 1
                _check_checkpoint_head(i, ev, origin)
                if levels is None:
                    levels = _merge_levels(used)
                if _prefix_root(levels, ev.size).hex() != ev.root:
                    raise _Fail(i, "LEDGER.CHECKPOINT_MISMATCH", f"checkpoint root for size {ev.size} does not match the events (rewritten history)")
            elif isinstance(ev, BundleRecorded):
                bundles.append((i, ev))
        _check_trust(key_ids, seg, limit, active, revoked, pks)
        if first_local is not None:
            raise _Fail(first_local[0], first_local[2], first_local[3])
        _check_head_witness(witness, n, origin, hashes[-1], key_ids[-1], lambda k: _known_pubkey(k, active_b64, n))
    except _Fail as f:
        fail = f
    sig_limit = min(fail.seq if fail else n, len(pks))
    nsig = 0
    walked = fail.seq + 1 if fail is not None and fail.code != "LEDGER.TRUNCATED" else n  # rows the sequential pass examined
    head_hash = (
        hashes[-1] if walked == n and (fail is None or fail.code == "LEDGER.TRUNCATED") else (hashes[walked - 2] if walked >= 2 else chain.GENESIS_PREV_HASH)
    )
    report = VerifyReport(ok=True, checked=walked, head_hash=head_hash, checkpoints=checkpoints)
    if signatures and sig_limit > 0:
        nsig = sig_limit
        bodies = table.column("body").slice(0, sig_limit).to_pylist()
        bad = verify_events(pks[:sig_limit], bodies, table.column("sig").slice(0, sig_limit).to_pylist(), workers=workers)
        if bad is not None and (fail is None or bad < fail.seq):
            fail = _Fail(bad, "LEDGER.BAD_SIGNATURE", "signature does not verify under the recorded key")
    report.signatures = nsig
    if fail is not None:
        report.ok, report.first_bad_seq, report.code, report.reason = False, fail.seq, fail.code, fail.reason
    report.seconds = time.perf_counter() - t0
    artifact_rows = [i for i, k in enumerate(kinds[: fail.seq if fail else n]) if k == "artifact_recorded"]
    leaves = (levels or _merge_levels(used))[0][:limit] if bundles else []
    body_col = table.column("body")
    return report, {"bundles": bundles, "artifact_rows": artifact_rows, "body": lambda i: body_col[i].as_py(), "leaves": leaves, "origin": origin}


def _check_trust(key_ids: list[str], start: int, stop: int, active: dict[str, Any], revoked: dict[str, int], pks: list[Any]) -> None:
    """Rows ``[start, stop)`` must be signed by a key in ``active``; append their public keys to ``pks``."""
    if start >= stop:
        return
    seg = key_ids[start:stop]
    if not set(seg) <= active.keys():
        for i, k in enumerate(seg, start):
            if k not in active:
                if k in revoked:
                    raise _Fail(i, "LEDGER.KEY_REVOKED", f"signed by {k}, revoked at seq {revoked[k]}")
                raise _Fail(i, "LEDGER.UNKNOWN_KEY", f"signed by {k}, which is not a trusted key at this point")
            pks.append(active[k])
    pks.extend(map(active.__getitem__, seg))


def verify_ledger(
    ledger: "Ledger",
    *,
    artifacts_root: str | os.PathLike[str] | None = None,
    signatures: bool = True,
    workers: int | None = None,
    trusted_root: str | os.PathLike[str] | None = None,
    bundles: bool = True,
) -> VerifyReport:
    """Verify everything about ``ledger`` (see module docstring); never raises for a bad ledger, reports it."""
    t0 = time.perf_counter()
    try:
        report, material = verify_columns(ledger, signatures=signatures, workers=workers)
        artifact_events = _ArtifactEvents(material["body"], material["artifact_rows"])
    except _Fallback:
        rows = ledger.raw_rows()
        report, material = verify_rows(rows, ledger.head_witness(), signatures=signatures, workers=workers)
        artifact_events = _ArtifactEvents(lambda i: bytes(rows[i][6]), [i for i, r in enumerate(rows) if r[2] == "artifact_recorded"])
    fails: list[tuple[int, str, str]] = []
    limit = report.first_bad_seq if not report.ok else report.checked
    if bundles and material["bundles"]:
        from ledger.sigstore_bundle import verify_recorded_bundle

        for seq, ev in material["bundles"]:
            if seq >= limit:
                break
            try:
                verify_recorded_bundle(ev, material["leaves"], artifact_events.digests_before(seq), origin=material["origin"], trusted_root=trusted_root)
                report.bundles += 1
            except GenoError as err:
                fails.append((seq, err.code, err.message))
                break
    if artifacts_root is not None:
        from ledger.identity import check_identity

        for path, (seq, ev) in sorted(artifact_events.latest(limit).items(), key=lambda kv: kv[1][0]):
            try:
                check_identity({"path": ev.path, "sha256": ev.sha256, "size": ev.size}, Path(artifacts_root))
                report.artifacts += 1
            except GenoError as err:
                fails.append((seq, err.code, err.message))
    if fails:
        seq, code, reason = min(fails)
        if report.ok or seq < (report.first_bad_seq or 0):
            report.ok, report.first_bad_seq, report.code, report.reason = False, seq, code, reason
    report.seconds = time.perf_counter() - t0
    return report


class _ArtifactEvents:
    """``artifact_recorded`` events, decoded only when bundles or artifact bytes are checked."""

    def __init__(self, body: Callable[[int], bytes], rows: list[int]) -> None:
        self._body, self._rows = body, rows
        self._decoded: list[tuple[int, ArtifactRecorded]] | None = None

    def _all(self) -> list[tuple[int, ArtifactRecorded]]:
        if self._decoded is None:
            self._decoded = [(i, decode_body_raw(self._body(i))) for i in self._rows]  # type: ignore[misc]
        return self._decoded

    def latest(self, before: int) -> dict[str, tuple[int, ArtifactRecorded]]:
        """path -> (seq, event) of the latest identity recorded before ``before``."""
        return {ev.path: (i, ev) for i, ev in self._all() if i < before}

    def digests_before(self, before: int) -> dict[str, set[str]]:
        """path -> sha256 digests recorded by artifact_recorded events before ``before``."""
        out: dict[str, set[str]] = {}
        for i, ev in self._all():
            if i < before:
                out.setdefault(ev.path, set()).add(ev.sha256)
        return out
