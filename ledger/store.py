"""The ledger store: one DuckDB file of signed, hash-chained events.

Concurrency design (see rfcs/RFC-0012-release-ledger.md): DuckDB allows one writing process per
file, so a :class:`Ledger` never keeps a connection open between operations. Each read or write
opens a connection, does one short transaction and closes it. Writers are serialised across
processes by an ``fcntl`` lock file (:mod:`ledger.lockfile`) that records the holder; inside the
transaction the writer re-reads the head and appends ``head+1 …`` (compare-and-set: the primary
key on ``seq`` and the head check make a fork or a gap impossible). DuckDB's own file-lock
errors (a reader or writer in another process mid-operation) are retried until the timeout,
then reported as ``LEDGER.BUSY`` naming the holder.

Batched appends (see :meth:`Ledger._append_built`): the bodies are validated and encoded first;
forked workers then sign them (Ed25519 over DSSE PAE of the exact body bytes) and stream the
signatures back in chunks while this process takes the lock, opens the transaction, checks the
head and key trust, chains the hashes and inserts each run of rows whose signatures have arrived
(one Arrow-backed ``INSERT`` per run). The head witness, the compare-and-set check and ``COMMIT``
follow the last run. The trusted key set and the checkpoint Merkle compact range are cached per
file in this process, keyed by the head they describe, so neither is rebuilt from the whole
ledger on every write.
"""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from ledger import chain, schema
from ledger.dbfile import is_corruption, storage_error
from ledger.errors import InputError, LedgerError
from ledger.events import (
    BundleRecorded,
    Checkpoint,
    Genesis,
    KeyRegistered,
    KeyRevoked,
    _Event,
    body_dict,
    decode_body,
    encode_body,
    make_event,
)
from ledger.lockfile import lock_path_for, read_holder, writer_lock

if TYPE_CHECKING:
    import duckdb
    import pyarrow

    from ledger.keys import Signer
    from ledger.parallel import ChunkStream
    from ledger.proofs import EventCheck, InclusionProof
    from ledger.verify import VerifyReport

#: Kinds written only through dedicated methods (init, checkpoint, record_bundle).
RESERVED_KINDS = frozenset({"genesis", "checkpoint", "bundle_recorded"})
_COLUMNS = "seq, event_id, kind, ts, key_id, prev_hash, body, hash, sig"
_PROCESS_LOCK = threading.RLock()  # one DuckDB connection per process at a time (instance cache)
_ACTIVE = threading.local()  # .cons: realpath -> (connection, read_only, external_access) held by this thread
_CHUNK = 20_000
_INSERT_ROWS = 2048  # smallest run of rows per INSERT while signatures stream in (each statement costs ~2-3 ms)
_KEY_EVENTS = (Genesis, KeyRegistered, KeyRevoked)  # events that change which keys are trusted
_KEY_KINDS = frozenset(cls.__struct_config__.tag for cls in _KEY_EVENTS)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One stored event: the envelope plus the exact body bytes that were signed."""

    seq: int  # 0-based position
    event_id: str  # writer-chosen UUID
    kind: str  # event kind
    ts: str  # RFC 3339 UTC with Z
    key_id: str  # signing key
    prev_hash: str  # hash of the previous event
    body: bytes  # exact canonical body bytes
    hash: str  # hex event hash
    sig: str  # hex Ed25519 signature

    @property
    def event(self) -> _Event:
        """The body decoded into its Struct (upcast to the current schema version)."""
        return decode_body(self.body)

    @property
    def data(self) -> dict[str, Any]:
        """The body decoded to a dict (upcast to the current schema version)."""
        return body_dict(self.event)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form: the envelope fields in declaration order, then ``body`` as the decoded dict."""
        envelope = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "body"}
        return envelope | {"body": msgspec.json.decode(self.body)}


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() or "different configuration" in text


class Ledger:
    """A handle on one ledger file; holds no connection between operations (see module docstring)."""

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.busy_timeout_s = busy_timeout_s
        self._origin: str | None = None
        self._pending_trust: tuple[int, str, _TrustState] | None = None  # set by _write, published after COMMIT
        self._pending_tree: tuple[int, str, Any] | None = None  # likewise, for the Merkle cache (_TREES)

    # ------------------------------------------------------------------ opening
    @classmethod
    def init(cls, path: str | os.PathLike[str], signer: "Signer", *, origin: str = "geno-lewm", busy_timeout_s: float = 10.0) -> "Ledger":
        """Create a new ledger file whose genesis event registers ``signer`` (``LEDGER.EXISTS`` if present)."""
        p = Path(path)
        ledger = cls(p, busy_timeout_s=busy_timeout_s)
        genesis = make_event("genesis", {"origin": origin, "key_id": signer.key_id, "public_key": signer.public_key_b64})
        p.parent.mkdir(parents=True, exist_ok=True)
        with writer_lock(p, busy_timeout_s):
            if p.exists() and p.stat().st_size > 0:
                raise LedgerError("EXISTS", f"ledger {p.name} already exists", "use it, or choose another --ledger path")
            try:
                with ledger._connect(read_only=False) as con:
                    con.execute("BEGIN")
                    for stmt in schema.create_statements():
                        con.execute(stmt)
                    con.execute("INSERT INTO ledger_meta VALUES ('format_version', ?), ('views_version', ?)", [schema.FORMAT_VERSION, schema.VIEWS_VERSION])
                    ledger._write(con, [(genesis, None)], signer, head=(0, chain.GENESIS_PREV_HASH), origin=origin)
                    con.execute("COMMIT")
            except BaseException:
                for leftover in (p, p.with_name(p.name + ".wal")):
                    leftover.unlink(missing_ok=True)
                raise
        ledger._origin = origin
        return ledger

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, read_only: bool = False, busy_timeout_s: float = 10.0) -> "Ledger":
        """Open an existing ledger (``LEDGER.NOT_FOUND`` if missing, ``LEDGER.NOT_A_LEDGER`` if not one)."""
        p = Path(path)
        if not p.is_file():
            raise LedgerError("NOT_FOUND", f"no ledger at {p.name}", "create one with `geno-lewm-ledger init --ledger L --key K`")
        ledger = cls(p, read_only=read_only, busy_timeout_s=busy_timeout_s)
        with ledger._connect(read_only=True) as con:
            try:
                meta = dict(con.execute("SELECT key, value FROM ledger_meta WHERE key IN ('format_version', 'views_version')").fetchall())
            except Exception as exc:  # noqa: BLE001 - any other failure here means "not our file"
                if is_corruption(exc):
                    raise storage_error(p, exc) from None
                meta = {}
        if "format_version" not in meta:
            raise LedgerError("NOT_A_LEDGER", f"{p.name} is not a GenoLeWM ledger", "pass the ledger.duckdb created by `geno-lewm-ledger init`")
        if meta["format_version"] != schema.FORMAT_VERSION:
            raise LedgerError(
                "FORMAT", f"{p.name} has storage format {meta['format_version']}; this runtime reads {schema.FORMAT_VERSION}", "upgrade geno-lewm"
            )
        if meta.get("views_version") != schema.VIEWS_VERSION and not read_only:
            ledger.upgrade_views()
        return ledger

    def upgrade_views(self) -> bool:
        """Recreate the auditor views if the file's ``views_version`` is not this runtime's; return True if it did.

        Views are derived (no event is touched), so upgrading them is safe at any time; every
        writer also does it inside its append transaction, and ``Ledger.open`` does it for a
        writable handle.
        """
        if self.read_only:
            raise LedgerError("READ_ONLY", "this ledger handle was opened read-only", "open it without read_only to upgrade its views")
        with writer_lock(self.path, self.busy_timeout_s), self._connect(read_only=False) as con:
            con.execute("BEGIN")
            try:
                changed = _upgrade_views(con)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return changed

    def close(self) -> None:
        """Release the handle (no connection is held between operations, so this only marks it closed)."""
        self._closed = True

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ connections
    def _connect(self, *, read_only: bool, external_access: bool = True) -> "_Conn":
        return _Conn(self.path, read_only=read_only, timeout_s=self.busy_timeout_s, external_access=external_access)

    # ------------------------------------------------------------------ reading
    @property
    def origin(self) -> str:
        """The ledger's origin name (from genesis)."""
        if self._origin is None:
            with self._connect(read_only=True) as con:
                row = con.execute("SELECT body FROM events WHERE seq = 0").fetchone()
            if row is None:
                raise LedgerError("CORRUPT", "the ledger has no genesis event")
            self._origin = msgspec.json.decode(row[0])["origin"]
        return self._origin

    def head(self) -> tuple[int, str]:
        """(number of events, hash of the last event or "")."""
        with self._connect(read_only=True) as con:
            return _head(con)

    def events(self, *, since_seq: int = 0, kinds: list[str] | None = None, until_seq: int | None = None) -> Iterator[StoredEvent]:
        """Stored events in seq order from ``since_seq`` (optionally only ``kinds``, and seq < ``until_seq``).

        Rows are fetched in chunks, each with its own short connection, so a slow consumer never
        blocks writers in other processes.
        """
        nxt = since_seq
        while True:
            where = ["seq >= ?"]
            params: list[Any] = [nxt]
            if until_seq is not None:
                where.append("seq < ?")
                params.append(until_seq)
            if kinds:
                where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
                params.extend(kinds)
            q = f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY seq LIMIT {_CHUNK}"
            with self._connect(read_only=True) as con:
                rows = con.execute(q, params).fetchall()
            for r in rows:
                yield StoredEvent(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]), r[7], r[8])
            if len(rows) < _CHUNK:
                return
            nxt = rows[-1][0] + 1

    def get(self, seq: int) -> StoredEvent:
        """The event at ``seq`` (``LEDGER.NO_SUCH_SEQ`` if absent)."""
        for ev in self.events(since_seq=seq, until_seq=seq + 1):
            return ev
        raise LedgerError("NO_SUCH_SEQ", f"no event with seq {seq}", "run `geno-lewm-ledger status` to see the head")

    def raw_rows(self) -> list[tuple]:
        """All event rows as tuples (``seq, event_id, kind, ts, key_id, prev_hash, body, hash, sig``) in table order by seq."""
        with self._connect(read_only=True) as con:
            table = con.sql(f"SELECT {_COLUMNS} FROM events ORDER BY seq").to_arrow_table()  # Arrow: fastest bulk fetch
        return list(zip(*(c.to_pylist() for c in table.columns), strict=True))

    def head_witness(self) -> tuple | None:
        """The stored head witness ``(origin, size, head_hash, key_id, sig)`` or None."""
        with self._connect(read_only=True) as con:
            return con.execute("SELECT origin, size, head_hash, key_id, sig FROM ledger_head").fetchone()

    def sql(self, query: str) -> tuple[list[str], list[tuple]]:
        """Run a read-only query; return (column names, rows). Write statements are refused (``LEDGER.SQL_REFUSED``)."""
        _check_read_only_sql(query)
        with self._connect(read_only=True, external_access=False) as con:
            try:
                cur = con.execute(query)
            except Exception as exc:  # noqa: BLE001 - DuckDB errors are user input errors here
                raise InputError("BAD_SQL", f"query failed: {str(exc).splitlines()[0]}", "check table/view names with: SELECT * FROM duckdb_views()") from None
            cols = [d[0] for d in cur.description or []]
            return cols, cur.fetchall()

    def arrow(self, query: str) -> "pyarrow.Table":
        """Run a read-only query and return a pyarrow Table (write statements refused)."""
        _check_read_only_sql(query)
        with self._connect(read_only=True, external_access=False) as con:
            try:
                return con.sql(query).to_arrow_table()
            except Exception as exc:  # noqa: BLE001
                raise InputError("BAD_SQL", f"query failed: {str(exc).splitlines()[0]}") from None

    def verify(
        self,
        *,
        artifacts_root: str | os.PathLike[str] | None = None,
        signatures: bool = True,
        workers: int | None = None,
        trusted_root: str | os.PathLike[str] | None = None,
        bundles: bool = True,
    ) -> "VerifyReport":
        """Verify chain, signatures, key trust, checkpoints, head witness, bundles (and artifacts); see :mod:`ledger.verify`."""
        from ledger.verify import verify_ledger

        return verify_ledger(self, artifacts_root=artifacts_root, signatures=signatures, workers=workers, trusted_root=trusted_root, bundles=bundles)

    def reader(self) -> "_Conn":
        """A read-only connection (context manager) for the ledger's own readers (:mod:`ledger.proofs`)."""
        return self._connect(read_only=True)

    @staticmethod
    def stored_row(con: Any, seq: int) -> tuple | None:
        """Event ``seq`` as stored, ``(seq, event_id, kind, ts, key_id, prev_hash, body, hash, sig)``, read through ``con``; None if absent."""
        return con.execute(f"SELECT {_COLUMNS} FROM events WHERE seq = ?", [seq]).fetchone()

    def check_event(self, seq: int) -> "EventCheck":
        """Re-check one stored event: hash, link, signature and the signer's trust there (see :mod:`ledger.proofs`)."""
        from ledger.proofs import check_event

        return check_event(self, seq)

    def inclusion_proof(self, seq: int, size: int | None = None) -> "InclusionProof":
        """RFC 9162 inclusion proof of ``seq``: against ``size`` leaves, else the latest checkpoint covering it, else the head."""
        from ledger.proofs import inclusion_proof

        return inclusion_proof(self, seq, size)

    # ------------------------------------------------------------------ writing
    def append(self, kind: str, body: dict, signer: "Signer", *, event_id: str | None = None) -> int:
        """Append one event; return its seq. Re-appending an existing ``event_id`` with the same body returns the stored seq."""
        return self.append_many([(kind, body)], signer, event_ids=[event_id])[0]

    def append_many(self, items: list[tuple[str, dict]], signer: "Signer", *, event_ids: list[str | None] | None = None) -> list[int]:
        """Append several events in one transaction (all or nothing); return their seqs."""
        if event_ids is not None and len(event_ids) != len(items):
            raise InputError("USAGE", "event_ids must match items one to one")
        built: list[tuple[_Event, str | None]] = []
        for i, (kind, body) in enumerate(items):
            if kind in RESERVED_KINDS:
                raise LedgerError("RESERVED_KIND", f"{kind} events are written by their own command", "use `checkpoint`, `seal` or `init`")
            eid = event_ids[i] if event_ids else None
            if eid is not None and not chain.is_valid_event_id(eid):
                raise LedgerError("BAD_EVENT_ID", f"event_id {eid!r} is not a lower-case UUID")
            built.append((make_event(kind, body), eid))
        return self._append_built(built, signer)

    def checkpoint(self, signer: "Signer") -> int:
        """Append a signed tree head over all events so far; return its seq.

        The Merkle root is computed incrementally: the compact range of the tree is cached per
        ledger file in this process, keyed by the size and last event hash it covers, so a
        checkpoint hashes only the events added since the previous one (a cache that no longer
        matches the file is dropped and the tree rebuilt from every stored hash).
        """

        def make(con: "duckdb.DuckDBPyConnection", size: int) -> _Event:
            origin = self._origin_in(con)
            return make_event("checkpoint", {"origin": origin, "size": size, "root": _tree_root(con, self.path, size).hex()})

        return self._append_built([], signer, builder=make)[0]

    def record_bundle(self, body: dict, signer: "Signer") -> int:
        """Append a ``bundle_recorded`` event (used by ``seal``; the bundle was verified by the caller)."""
        return self._append_built([(make_event("bundle_recorded", body), None)], signer)[0]

    def _append_built(self, built: list[tuple[_Event, str | None]], signer: "Signer", builder=None) -> list[int]:
        if self.read_only:
            raise LedgerError("READ_ONLY", "this ledger handle was opened read-only", "open it without read_only to append")
        encoded = [encode_body(ev) for ev, _ in built]
        # The signature covers only the body (DSSE PAE), so signing starts before the writer lock
        # is taken, in forked workers that stream signatures chunk by chunk: taking the lock,
        # opening the transaction, checking the head and trust, hashing the chain and inserting
        # the first chunks overlap the signing of the later ones.
        from ledger.keys import stream_event_signatures

        with stream_event_signatures(signer, encoded) as sigs:
            with writer_lock(self.path, self.busy_timeout_s):
                with self._connect(read_only=False) as con:
                    con.execute("BEGIN")
                    self._pending_tree = None
                    try:
                        _upgrade_views(con)
                        head = _head(con)
                        if builder is not None:
                            ev = builder(con, head[0])
                            seqs = self._write(con, [(ev, None)], signer, head=head)
                        else:
                            seqs = self._write(con, built, signer, head=head, encoded=encoded, signatures=sigs)
                        con.execute("COMMIT")
                    except BaseException:
                        con.execute("ROLLBACK")
                        raise
                    _remember_trust(self.path, *self._pending_trust)
                    if self._pending_tree is not None:
                        _TREES[os.path.realpath(self.path)] = self._pending_tree
        return seqs

    def _origin_in(self, con) -> str:
        """The ledger origin, read on the caller's connection (never through a second one) if not cached."""
        if self._origin is None:
            rows = con.execute("SELECT body FROM events WHERE seq = 0").fetchall()  # fetchall: leaves no open result
            if not rows:
                raise LedgerError("CORRUPT", "the ledger has no genesis event")
            self._origin = msgspec.json.decode(bytes(rows[0][0]))["origin"]
        return self._origin

    def _write(
        self,
        con,
        items: list[tuple[_Event, str | None]],
        signer: "Signer",
        *,
        head: tuple[int, str],
        origin: str | None = None,
        encoded: list[bytes] | None = None,
        signatures: "ChunkStream | None" = None,
    ) -> list[int]:
        """Check idempotency and key trust, then insert ``items`` after ``head`` inside the caller's transaction.

        ``signatures`` (a :func:`ledger.keys.stream_event_signatures` stream over ``encoded``, made
        by ``signer``) saves signing here; its chunks are inserted as they arrive.
        """
        size, prev = head
        if size == 0:
            prev = chain.GENESIS_PREV_HASH
        if encoded is None:
            encoded = [encode_body(ev) for ev, _ in items]
        if origin is None:
            origin = self._origin_in(con)
        n = len(items)
        result: list[int | None] = [None] * n
        # Idempotency: an event_id seen before returns its seq (same body) or conflicts.
        wanted = {eid: i for i, (_, eid) in enumerate(items) if eid is not None}
        if wanted:
            ids = list(wanted)
            rows = con.execute(f"SELECT event_id, seq, body FROM events WHERE event_id IN ({', '.join('?' for _ in ids)})", ids).fetchall()
            for eid, seq, body in rows:
                i = wanted[eid]
                if bytes(body) != encoded[i]:
                    raise LedgerError("CONFLICT", f"event_id {eid} already exists at seq {seq} with a different body", "use a new event_id for a new event")
                result[i] = seq
        trust = _trust_at(con, self.path, head) if size > 0 else _TrustState()
        key_id = signer.key_id
        trusted = key_id in trust.active  # re-read after every key event (one may revoke the signer)
        kinds = [ev.__struct_config__.tag for ev, _ in items]
        keep: Sequence[int]  # indices into items of the events actually written, ascending
        if not wanted and trusted and _KEY_KINDS.isdisjoint(kinds):
            # Fast path (the usual batch): fresh ids, a trusted signer and no key events, so every
            # event is written, in order, and the trusted set does not change.
            keep, col_ids, col_kinds = range(n), chain.new_event_ids(n), kinds
            result = list(range(size, size + n))
            seq = size + n
        else:
            keep, col_ids, col_kinds = [], [], []
            fresh_ids = iter(chain.new_event_ids(n - len(wanted)))
            seen_ids: dict[str, int] = {}
            seq = size
            for i, (ev, eid) in enumerate(items):
                if result[i] is not None:
                    continue
                if eid is not None and eid in seen_ids:
                    j = seen_ids[eid]
                    if encoded[j] != encoded[i]:
                        raise LedgerError("CONFLICT", f"event_id {eid} appears twice in one batch with different bodies")
                    result[i] = result[j]
                    continue
                if not trusted or type(ev) in _KEY_EVENTS:
                    trust.check_and_apply(ev, key_id, seq)
                    trusted = key_id in trust.active
                if eid is not None:
                    seen_ids[eid] = i
                else:
                    eid = next(fresh_ids)
                keep.append(i)
                col_ids.append(eid)
                col_kinds.append(kinds[i])
                result[i] = seq
                seq += 1
        if keep:
            from ledger.keys import split_signatures, stream_event_signatures

            ts = chain.now_ts()  # one commit time per transaction
            bodies = encoded if len(keep) == n else [encoded[i] for i in keep]
            hashes = chain.event_hashes(size, prev, col_ids, col_kinds, ts, key_id, bodies)
            # Extend the cached Merkle compact range while the workers sign (published after COMMIT).
            self._pending_tree = _tree_after(self.path, size, prev, hashes) if size else None
            if signatures is None:
                signatures = stream_event_signatures(signer, encoded, workers=1)  # inside a transaction: never fork
            # Rows of ``keep`` are inserted in runs of at least _INSERT_ROWS as their signatures
            # arrive (small signing chunks balance the workers; larger inserts cost less per row).
            done = flushed = 0  # rows of ``keep`` signed / inserted so far
            sig_run: list[str] = []
            for _, b, text in signatures:
                part = split_signatures(text)
                a = b - len(part)
                j = bisect_left(keep, b, lo=done)  # chunk [a, b) of items holds rows done..j of keep
                if j > done:
                    sig_run.extend(part if j - done == b - a else [part[keep[r] - a] for r in range(done, j)])
                done = j
                if done - flushed >= _INSERT_ROWS or (done == len(keep) and done > flushed):
                    _insert(
                        con,
                        size + flushed,
                        col_ids[flushed:done],
                        col_kinds[flushed:done],
                        ts,
                        key_id,
                        bodies[flushed:done],
                        hashes[flushed:done],
                        sig_run,
                        head_prev=hashes[flushed - 1] if flushed else prev,
                    )
                    flushed, sig_run = done, []
            if flushed != len(keep):
                raise RuntimeError(f"inserted {flushed} of {len(keep)} events")  # a bug: every kept event lies in some chunk
            prev = hashes[-1]
            con.execute("DELETE FROM ledger_head")
            con.execute("INSERT INTO ledger_head VALUES (?, ?, ?, ?, ?)", [origin, seq, prev, key_id, signer.sign(chain.head_message(origin, seq, prev)).hex()])
            check = _head(con)
            if check != (seq, prev):  # compare-and-set: nobody else moved the head under us
                raise LedgerError("HEAD_MOVED", f"head moved during append (expected {seq}, found {check[0]})", "retry the append")
        self._pending_trust = (seq, prev, trust)  # published by the caller once the transaction commits
        return [int(r) for r in result]  # type: ignore[arg-type]


class _TrustState:
    """Which keys are trusted at a point of the ledger (built from genesis/key events)."""

    def __init__(self) -> None:
        self.active: dict[str, str] = {}  # key_id -> public key b64
        self.revoked: dict[str, int] = {}  # key_id -> seq of revocation

    def copy(self) -> "_TrustState":
        """An independent copy (appending to it leaves this one unchanged)."""
        st = _TrustState()
        st.active, st.revoked = dict(self.active), dict(self.revoked)
        return st

    @classmethod
    def load(cls, con) -> "_TrustState":
        st = cls()
        rows = con.execute("SELECT seq, key_id, body FROM events WHERE kind IN ('genesis', 'key_registered', 'key_revoked') ORDER BY seq").fetchall()
        for seq, key_id, body in rows:
            st.apply(decode_body(bytes(body)), seq)
        return st

    def apply(self, ev: _Event, seq: int) -> None:
        """Update the trusted set with a key event."""
        if isinstance(ev, (Genesis, KeyRegistered)):
            self.active[ev.key_id] = ev.public_key
        elif isinstance(ev, KeyRevoked):
            self.active.pop(ev.key_id, None)
            self.revoked.setdefault(ev.key_id, seq)

    def check_and_apply(self, ev: _Event, signer_key_id: str, seq: int) -> None:
        """Refuse an event the signer may not write; then apply it if it is a key event."""
        if isinstance(ev, Genesis):
            if seq != 0 or ev.key_id != signer_key_id:
                raise LedgerError("BAD_GENESIS", "genesis must be the first event and be signed by the key it registers")
        elif signer_key_id not in self.active:
            if signer_key_id in self.revoked:
                raise LedgerError(
                    "KEY_REVOKED", f"key {signer_key_id} was revoked at seq {self.revoked[signer_key_id]}", "sign with a key that is still trusted (see v_keys)"
                )
            raise LedgerError(
                "UNKNOWN_KEY", f"key {signer_key_id} is not registered in this ledger", "register it with a key_registered event signed by a trusted key"
            )
        if isinstance(ev, KeyRegistered):
            if ev.key_id in self.active or ev.key_id in self.revoked:
                raise LedgerError("KEY_EXISTS", f"key {ev.key_id} is already registered (or was revoked)")
            from ledger.keys import key_id_for, public_key_from_b64
            from cryptography.hazmat.primitives import serialization

            raw = public_key_from_b64(ev.public_key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            if key_id_for(raw) != ev.key_id:
                raise LedgerError("BAD_BODY", "key_registered key_id does not match its public key")
        if isinstance(ev, KeyRevoked):
            if ev.key_id not in self.active:
                raise LedgerError("UNKNOWN_KEY", f"cannot revoke {ev.key_id}: not an active key")
            if len(self.active) == 1:
                raise LedgerError("LAST_KEY", "refusing to revoke the last trusted key", "register a successor key first")
        self.apply(ev, seq)


#: Per ledger file (realpath): (size, head hash, trusted keys after those events), as last committed by this process.
_TRUST: dict[str, tuple[int, str, _TrustState]] = {}


def _trust_at(con, path: Path, head: tuple[int, str]) -> _TrustState:
    """The trusted keys after the events up to ``head`` (a private copy): from this process's cache
    when it was recorded at this very head (same size and head hash), else read from the file."""
    cached = _TRUST.get(os.path.realpath(path))
    if cached is not None and (cached[0], cached[1]) == head:
        return cached[2].copy()
    return _TrustState.load(con)


def _remember_trust(path: Path, size: int, head_hash: str, trust: _TrustState) -> None:
    """Record the trusted keys at a committed head (callers hold the process lock, see :class:`_Conn`)."""
    _TRUST[os.path.realpath(path)] = (size, head_hash, trust)


def _upgrade_views(con) -> bool:
    """Inside the caller's write transaction: recreate stale views and record the version; True if it did."""
    row = con.execute("SELECT value FROM ledger_meta WHERE key = 'views_version'").fetchone()
    if row is not None and row[0] == schema.VIEWS_VERSION:
        return False
    for stmt in schema.view_statements():
        con.execute(stmt)
    con.execute("DELETE FROM ledger_meta WHERE key = 'views_version'")
    con.execute("INSERT INTO ledger_meta VALUES ('views_version', ?)", [schema.VIEWS_VERSION])
    return True


def _head(con) -> tuple[int, str]:
    rows = con.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchall()  # fetchall: leaves no open result
    if not rows:
        return 0, ""
    return int(rows[0][0]) + 1, rows[0][1]


def _insert(
    con, seq0: int, event_ids: list[str], kinds: list[str], ts: str, key_id: str, bodies: list[bytes], hashes: list[str], sigs: list[str], *, head_prev: str
) -> None:
    """Insert consecutive events from ``seq0`` given as columns (``prev_hash`` of each is the hash before it)."""
    n = len(event_ids)
    prevs = [head_prev, *hashes[:-1]]
    if n < 64:
        con.executemany(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[seq0 + i, event_ids[i], kinds[i], ts, key_id, prevs[i], bodies[i], hashes[i], sigs[i]] for i in range(n)],
        )
        return
    import pyarrow as pa

    table = pa.table(
        {
            "seq": pa.array(range(seq0, seq0 + n), pa.int64()),
            "event_id": pa.array(event_ids, pa.string()),
            "kind": pa.array(kinds, pa.string()),
            "ts": pa.array([ts] * n, pa.string()),
            "key_id": pa.array([key_id] * n, pa.string()),
            "prev_hash": pa.array(prevs, pa.string()),
            "body": pa.array(bodies, pa.binary()),
            "hash": pa.array(hashes, pa.string()),
            "sig": pa.array(sigs, pa.string()),
        }
    )
    con.register("_new_events", table)
    try:
        con.execute(f"INSERT INTO events SELECT {_COLUMNS} FROM _new_events")
    finally:
        con.unregister("_new_events")


#: Per ledger file (realpath): (size, hash of event size-1, Merkle accumulator over events [0, size)).
_TREES: dict[str, tuple[int, str, Any]] = {}


def _tree_after(path: Path, size: int, head_hash: str, hashes: list[str]) -> tuple[int, str, Any] | None:
    """The cached compact range extended by the new events ``hashes`` appended after ``(size, head_hash)``,
    as a new cache entry (the cached one is left unchanged), or None when nothing is cached at that head."""
    import copy

    from ledger import merkle

    cached = _TREES.get(os.path.realpath(path))
    if cached is None or cached[0] != size or cached[1] != head_hash or not hashes:
        return None
    acc = copy.deepcopy(cached[2])
    leaf, unhex, add = merkle.leaf_hash, bytes.fromhex, acc.add
    for h in hashes:
        add(leaf(unhex(h)))
    return size + len(hashes), hashes[-1], acc


def _tree_root(con, path: Path, size: int) -> bytes:
    """RFC 9162 root over the hashes of events ``[0, size)``, inside the caller's transaction.

    Extends this process's cached compact range when it still matches the file (same event hash
    at its last position), else rebuilds it from every stored hash. Callers hold the process
    lock (:class:`_Conn`), so the cache is never updated concurrently.
    """
    from ledger import merkle

    key = os.path.realpath(path)
    cached = _TREES.pop(key, None)
    acc, start = merkle.Accumulator(), 0
    if cached is not None and 0 < cached[0] <= size:
        row = con.execute("SELECT hash FROM events WHERE seq = ?", [cached[0] - 1]).fetchall()
        if row and row[0][0] == cached[1]:
            acc, start = cached[2], cached[0]
    hashes = con.sql("SELECT hash FROM events WHERE seq >= ? AND seq < ? ORDER BY seq", params=[start, size]).to_arrow_table().column(0).to_pylist()
    if len(hashes) != size - start:
        raise LedgerError("CORRUPT", f"expected {size - start} events from seq {start}, found {len(hashes)}", "run `geno-lewm-ledger verify`")
    leaf, unhex, add = merkle.leaf_hash, bytes.fromhex, acc.add
    for h in hashes:
        add(leaf(unhex(h)))
    if size:
        last = hashes[-1] if hashes else cached[1]  # type: ignore[index]
        _TREES[key] = (size, last, acc)
    return acc.root()


_ALLOWED_SQL = {"SELECT", "EXPLAIN"}


def _check_read_only_sql(query: str) -> None:
    import duckdb

    try:
        stmts = duckdb.extract_statements(query)
    except Exception as exc:  # noqa: BLE001 - parse error
        raise InputError("BAD_SQL", f"cannot parse query: {str(exc).splitlines()[0]}") from None
    if not stmts:
        raise InputError("BAD_SQL", "empty query")
    for st in stmts:
        kind = st.type.name
        if kind not in _ALLOWED_SQL:
            raise LedgerError(
                "SQL_REFUSED",
                f"{kind} statements are refused: the ledger is read-only through sql",
                "only SELECT queries are allowed; events are added with `append`",
            )


class _Conn:
    """Context manager: one short DuckDB connection, retrying lock conflicts until the timeout.

    DuckDB refuses a second connection to a file that this process already has open with another
    configuration (read-only vs read-write), and the writer's own connection would make a nested
    read wait for itself until ``LEDGER.BUSY``. So an operation started while this thread already
    holds a connection to the same file (e.g. a read of :attr:`Ledger.origin` inside an append's
    transaction) reuses that connection, provided it is at least as capable as the one asked for.
    """

    def __init__(self, path: Path, *, read_only: bool, timeout_s: float, external_access: bool = True) -> None:
        self.path, self.read_only, self.timeout_s, self.external_access = path, read_only, timeout_s, external_access
        self.con = None
        self._key = os.path.realpath(path)
        self._owner = False

    def __enter__(self):
        import duckdb

        _PROCESS_LOCK.acquire()
        try:
            active = _ACTIVE.__dict__.setdefault("cons", {})
            held = active.get(self._key)
            if held is not None:
                con, held_read_only, held_external = held
                if (held_read_only and not self.read_only) or (held_external and not self.external_access):
                    raise LedgerError(
                        "NESTED",
                        f"a {'write' if not self.read_only else 'restricted read'} of {self.path.name} was started inside another operation on it",
                        "finish the outer ledger operation first (this is a bug in the caller)",
                    )
                self.con = con
                return con
            deadline = time.monotonic() + max(0.0, self.timeout_s)
            delay = 0.002
            config: dict[str, Any] = {} if self.external_access else {"enable_external_access": False}
            if not self.read_only:
                config["threads"] = 1  # a write is one short transaction: extra DuckDB threads only contend with the signing workers
            while True:
                try:
                    self.con = duckdb.connect(str(self.path), read_only=self.read_only, config=config)
                    break
                except (duckdb.IOException, duckdb.ConnectionException) as exc:
                    if not _is_lock_error(exc):
                        raise storage_error(self.path, exc) from None
                    if time.monotonic() >= deadline:
                        holder = read_holder(lock_path_for(self.path))
                        raise LedgerError(
                            "BUSY",
                            f"ledger {self.path.name} is busy ({str(exc).splitlines()[0][:200]}; writer lock: {holder})",
                            "wait for the other process, or raise the timeout (--busy-timeout)",
                        ) from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.05)
                except duckdb.Error as exc:  # a damaged header or catalog fails at connect time
                    raise storage_error(self.path, exc) from None
            active[self._key] = (self.con, self.read_only, self.external_access)
            self._owner = True
            return self.con
        except BaseException:
            _PROCESS_LOCK.release()
            raise

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self._owner:
                _ACTIVE.cons.pop(self._key, None)
                self.con.close()
        finally:
            _PROCESS_LOCK.release()
        if exc is not None and is_corruption(exc):
            raise storage_error(self.path, exc) from None  # a checksum or catalog failure mid-query: the file is damaged
