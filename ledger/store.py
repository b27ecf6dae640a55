"""The ledger store: one DuckDB file of signed, hash-chained events.

Concurrency design (see rfcs/RFC-0012-release-ledger.md): DuckDB allows one writing process per
file, so a :class:`Ledger` never keeps a connection open between operations. Each read or write
opens a connection, does one short transaction and closes it. Writers are serialised across
processes by an ``fcntl`` lock file (:mod:`ledger.lockfile`) that records the holder; inside the
transaction the writer re-reads the head and appends ``head+1 …`` (compare-and-set: the primary
key on ``seq`` and the head check make a fork or a gap impossible). DuckDB's own file-lock
errors (a reader or writer in another process mid-operation) are retried until the timeout,
then reported as ``LEDGER.BUSY`` naming the holder.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from ledger import chain, schema
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
    from ledger.proofs import EventCheck, InclusionProof
    from ledger.verify import VerifyReport

#: Kinds written only through dedicated methods (init, checkpoint, record_bundle).
RESERVED_KINDS = frozenset({"genesis", "checkpoint", "bundle_recorded"})
_COLUMNS = "seq, event_id, kind, ts, key_id, prev_hash, body, hash, sig"
_PROCESS_LOCK = threading.RLock()  # one DuckDB connection per process at a time (instance cache)
_ACTIVE = threading.local()  # .cons: realpath -> (connection, read_only, external_access) held by this thread
_CHUNK = 20_000


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
        """A JSON-friendly form (``body`` as the decoded dict)."""
        return {
            "seq": self.seq, "event_id": self.event_id, "kind": self.kind, "ts": self.ts, "key_id": self.key_id,
            "prev_hash": self.prev_hash, "hash": self.hash, "sig": self.sig, "body": msgspec.json.decode(self.body),
        }


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
            except Exception:  # noqa: BLE001 - any failure here means "not our file"
                meta = {}
        if "format_version" not in meta:
            raise LedgerError("NOT_A_LEDGER", f"{p.name} is not a GenoLeWM ledger", "pass the ledger.duckdb created by `geno-lewm-ledger init`")
        if meta["format_version"] != schema.FORMAT_VERSION:
            raise LedgerError("FORMAT", f"{p.name} has storage format {meta['format_version']}; this runtime reads {schema.FORMAT_VERSION}", "upgrade geno-lewm")
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

    def verify(self, *, artifacts_root: str | os.PathLike[str] | None = None, signatures: bool = True, workers: int | None = None,
               trusted_root: str | os.PathLike[str] | None = None, bundles: bool = True) -> "VerifyReport":
        """Verify chain, signatures, key trust, checkpoints, head witness, bundles (and artifacts); see :mod:`ledger.verify`."""
        from ledger.verify import verify_ledger

        return verify_ledger(self, artifacts_root=artifacts_root, signatures=signatures, workers=workers, trusted_root=trusted_root, bundles=bundles)

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
        """Append a signed tree head over all events so far; return its seq."""
        from ledger import merkle

        def make(con: "duckdb.DuckDBPyConnection", size: int) -> _Event:
            hashes = con.execute("SELECT hash FROM events ORDER BY seq").fetchall()
            leaf, unhex = merkle.leaf_hash, bytes.fromhex
            r = merkle.root([leaf(unhex(h)) for (h,) in hashes])
            origin = msgspec.json.decode(bytes(con.execute("SELECT body FROM events WHERE seq = 0").fetchone()[0]))["origin"]
            return make_event("checkpoint", {"origin": origin, "size": size, "root": r.hex()})

        return self._append_built([], signer, builder=make)[0]

    def record_bundle(self, body: dict, signer: "Signer") -> int:
        """Append a ``bundle_recorded`` event (used by ``seal``; the bundle was verified by the caller)."""
        return self._append_built([(make_event("bundle_recorded", body), None)], signer)[0]

    def _append_built(self, built: list[tuple[_Event, str | None]], signer: "Signer", builder=None) -> list[int]:
        if self.read_only:
            raise LedgerError("READ_ONLY", "this ledger handle was opened read-only", "open it without read_only to append")
        bodies = [(ev, encode_body(ev), eid) for ev, eid in built]
        # The signature covers only the body (DSSE PAE), so sign before taking the writer lock:
        # the slowest part of a batch then never holds up other writers.
        from ledger.keys import sign_many

        pae = chain.event_pae
        sigs: list[str] | None = [s.hex() for s in sign_many(signer, [pae(b) for _, b, _ in bodies])] if bodies else None
        with writer_lock(self.path, self.busy_timeout_s):
            with self._connect(read_only=False) as con:
                con.execute("BEGIN")
                try:
                    _upgrade_views(con)
                    head = _head(con)
                    if builder is not None:
                        ev = builder(con, head[0])
                        bodies = [(ev, encode_body(ev), None)]
                    seqs = self._write(con, [(ev, eid) for ev, _, eid in bodies], signer, head=head, encoded=[b for _, b, _ in bodies], signatures=sigs)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
        return seqs

    def _write(self, con, items: list[tuple[_Event, str | None]], signer: "Signer", *, head: tuple[int, str],
               origin: str | None = None, encoded: list[bytes] | None = None, signatures: list[str] | None = None) -> list[int]:
        """Check idempotency and key trust, then insert ``items`` after ``head`` inside the caller's transaction.

        ``signatures`` (hex, one per item, made by ``signer`` over each body's PAE) saves signing here.
        """
        size, prev = head
        if size == 0:
            prev = chain.GENESIS_PREV_HASH
        if encoded is None:
            encoded = [encode_body(ev) for ev, _ in items]
        if origin is None:
            origin = self._origin
        if origin is None:  # read on this transaction's connection, never through a second one
            row = con.execute("SELECT body FROM events WHERE seq = 0").fetchone()
            if row is None:
                raise LedgerError("CORRUPT", "the ledger has no genesis event")
            origin = self._origin = msgspec.json.decode(bytes(row[0]))["origin"]
        result: list[int | None] = [None] * len(items)
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
        trust = _TrustState.load(con) if size > 0 else _TrustState()
        rows_out = []
        seen_ids: dict[str, int] = {}
        seq = size
        ts = chain.now_ts()  # one commit time per transaction
        fresh_ids = iter(chain.new_event_ids(sum(1 for _, eid in items if eid is None)))
        key_id = signer.key_id
        ehash = chain.event_hash
        for i, ((ev, eid), body) in enumerate(zip(items, encoded, strict=True)):
            if result[i] is not None:
                continue
            if eid is not None and eid in seen_ids:
                j = seen_ids[eid]
                if encoded[j] != body:
                    raise LedgerError("CONFLICT", f"event_id {eid} appears twice in one batch with different bodies")
                result[i] = result[j]
                continue
            trust.check_and_apply(ev, key_id, seq)
            if eid is not None:
                seen_ids[eid] = i
            else:
                eid = next(fresh_ids)
            kind = ev.__struct_config__.tag
            h = ehash(seq, eid, kind, ts, key_id, prev, body)
            rows_out.append([seq, eid, kind, ts, key_id, prev, body, h, signatures[i] if signatures is not None else ""])
            result[i] = seq
            prev = h
            seq += 1
        if rows_out:
            if signatures is None:
                from ledger.keys import sign_many

                for r, sig in zip(rows_out, sign_many(signer, [chain.event_pae(r[6]) for r in rows_out]), strict=True):
                    r[8] = sig.hex()
            _insert(con, rows_out)
            con.execute("DELETE FROM ledger_head")
            con.execute("INSERT INTO ledger_head VALUES (?, ?, ?, ?, ?)",
                        [origin, seq, prev, signer.key_id, signer.sign(chain.head_message(origin, seq, prev)).hex()])
            check = _head(con)
            if check != (seq, prev):  # compare-and-set: nobody else moved the head under us
                raise LedgerError("HEAD_MOVED", f"head moved during append (expected {seq}, found {check[0]})", "retry the append")
        return [int(r) for r in result]  # type: ignore[arg-type]


class _TrustState:
    """Which keys are trusted at a point of the ledger (built from genesis/key events)."""

    def __init__(self) -> None:
        self.active: dict[str, str] = {}  # key_id -> public key b64
        self.revoked: dict[str, int] = {}  # key_id -> seq of revocation

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
                raise LedgerError("KEY_REVOKED", f"key {signer_key_id} was revoked at seq {self.revoked[signer_key_id]}", "sign with a key that is still trusted (see v_keys)")
            raise LedgerError("UNKNOWN_KEY", f"key {signer_key_id} is not registered in this ledger", "register it with a key_registered event signed by a trusted key")
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


def _insert(con, rows: list[tuple]) -> None:
    if len(rows) < 64:
        con.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return
    import pyarrow as pa

    cols = list(zip(*rows, strict=True))
    table = pa.table({
        "seq": pa.array(cols[0], pa.int64()), "event_id": pa.array(cols[1], pa.string()), "kind": pa.array(cols[2], pa.string()),
        "ts": pa.array(cols[3], pa.string()), "key_id": pa.array(cols[4], pa.string()), "prev_hash": pa.array(cols[5], pa.string()),
        "body": pa.array(cols[6], pa.binary()), "hash": pa.array(cols[7], pa.string()), "sig": pa.array(cols[8], pa.string()),
    })
    con.register("_new_events", table)
    try:
        con.execute(f"INSERT INTO events SELECT {_COLUMNS} FROM _new_events")
    finally:
        con.unregister("_new_events")


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
            raise LedgerError("SQL_REFUSED", f"{kind} statements are refused: the ledger is read-only through sql", "only SELECT queries are allowed; events are added with `append`")


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
                    raise LedgerError("NESTED", f"a {'write' if not self.read_only else 'restricted read'} of {self.path.name} was started inside another operation on it",
                                      "finish the outer ledger operation first (this is a bug in the caller)")
                self.con = con
                return con
            deadline = time.monotonic() + max(0.0, self.timeout_s)
            delay = 0.002
            config = {} if self.external_access else {"enable_external_access": False}
            while True:
                try:
                    self.con = duckdb.connect(str(self.path), read_only=self.read_only, config=config)
                    break
                except (duckdb.IOException, duckdb.ConnectionException) as exc:
                    if not _is_lock_error(exc):
                        raise LedgerError("IO", f"cannot open {self.path.name}: {str(exc).splitlines()[0]}") from None
                    if time.monotonic() >= deadline:
                        holder = read_holder(lock_path_for(self.path))
                        raise LedgerError("BUSY", f"ledger {self.path.name} is busy ({str(exc).splitlines()[0][:200]}; writer lock: {holder})",
                                          "wait for the other process, or raise the timeout (--busy-timeout)") from None
                    time.sleep(delay)
                    delay = min(delay * 2, 0.05)
            active[self._key] = (self.con, self.read_only, self.external_access)
            self._owner = True
            return self.con
        except BaseException:
            _PROCESS_LOCK.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self._owner:
                _ACTIVE.cons.pop(self._key, None)
                self.con.close()
        finally:
            _PROCESS_LOCK.release()
