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
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
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


def _pubkey(b64: str):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(b64))


def _check_signatures(jobs: list[tuple[int, Any, bytes, str]], workers: int | None) -> tuple[int, str] | None:
    """Verify (seq, public key, body, sig hex) jobs; return (seq, reason) of the first failure."""
    from cryptography.exceptions import InvalidSignature

    def run(chunk: list[tuple[int, Any, bytes, str]]) -> tuple[int, str] | None:
        for seq, pk, body, sig in chunk:
            try:
                pk.verify(bytes.fromhex(sig), chain.event_pae(body))
            except (InvalidSignature, ValueError):
                return seq, "signature does not verify under the recorded key"
        return None

    w = max(1, workers or os.cpu_count() or 1)
    if len(jobs) < 1024 or w == 1:
        return run(jobs)
    from concurrent.futures import ThreadPoolExecutor

    step = -(-len(jobs) // (w * 4))
    chunks = [jobs[i : i + step] for i in range(0, len(jobs), step)]
    with ThreadPoolExecutor(w) as ex:
        fails = [r for r in ex.map(run, chunks) if r is not None]
    return min(fails) if fails else None


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
            if isinstance(ev, KeyRegistered):
                if ev.key_id in active or ev.key_id in revoked:
                    raise _Fail(i, "LEDGER.BAD_EVENT", f"key {ev.key_id} registered twice")
                if _key_id_of(ev.public_key) != ev.key_id:
                    raise _Fail(i, "LEDGER.BAD_EVENT", "key_registered key_id does not match its public key")
                active[ev.key_id] = _pubkey(ev.public_key)
                active_b64[ev.key_id] = ev.public_key
            elif isinstance(ev, KeyRevoked):
                if ev.key_id not in active:
                    raise _Fail(i, "LEDGER.BAD_EVENT", f"revokes {ev.key_id}, which is not an active key")
                del active[ev.key_id]
                revoked[ev.key_id] = i
            elif isinstance(ev, Checkpoint):
                checkpoints += 1
                if ev.origin != origin:
                    raise _Fail(i, "LEDGER.CHECKPOINT_MISMATCH", f"checkpoint origin {ev.origin!r} is not the ledger's {origin!r}")
                if ev.size > i:
                    raise _Fail(i, "LEDGER.CHECKPOINT_MISMATCH", f"checkpoint size {ev.size} covers events after itself")
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
        # Head witness: the last writer's signed (size, head hash).
        if witness is None:
            raise _Fail(n, "LEDGER.TRUNCATED", "head witness is missing")
        w_origin, w_size, w_hash, w_key, w_sig = witness
        if w_size > n:
            raise _Fail(n, "LEDGER.TRUNCATED", f"events missing from seq {n}: the head witness records {w_size} events")
        if w_size < n:
            raise _Fail(int(w_size), "LEDGER.TRUNCATED", f"events from seq {w_size} are not covered by the signed head witness")
        if w_hash != prev or w_origin != origin or w_key != rows[-1][4]:
            raise _Fail(n - 1, "LEDGER.TRUNCATED", "head witness does not match the last event")
        key = _pubkey_any(w_key, active_b64, rows)
        try:
            key.verify(bytes.fromhex(w_sig), chain.head_message(w_origin, int(w_size), w_hash))
        except Exception:  # noqa: BLE001 - InvalidSignature or malformed hex
            raise _Fail(n - 1, "LEDGER.TRUNCATED", "head witness signature does not verify") from None
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


def _pubkey_any(key_id: str, known: dict[str, str], rows: list[tuple]):
    if key_id not in known:
        raise _Fail(len(rows) - 1, "LEDGER.TRUNCATED", f"head witness signed by unknown key {key_id}")
    return _pubkey(known[key_id])


def verify_ledger(ledger: "Ledger", *, artifacts_root: str | os.PathLike[str] | None = None, signatures: bool = True,
                  workers: int | None = None, trusted_root: str | os.PathLike[str] | None = None, bundles: bool = True) -> VerifyReport:
    """Verify everything about ``ledger`` (see module docstring); never raises for a bad ledger, reports it."""
    t0 = time.perf_counter()
    rows = ledger.raw_rows()
    witness = ledger.head_witness()
    report, material = verify_rows(rows, witness, signatures=signatures, workers=workers)
    fails: list[tuple[int, str, str]] = []
    if report.ok or report.first_bad_seq is not None:
        limit = report.first_bad_seq if not report.ok else len(rows)
        if bundles and material["bundles"]:
            from ledger.sigstore_bundle import verify_recorded_bundle

            for seq, ev in material["bundles"]:
                if seq >= limit:
                    break
                try:
                    verify_recorded_bundle(ev, material["leaves"], material["artifacts_all"] if "artifacts_all" in material else _recorded(rows, seq), origin=material["origin"], trusted_root=trusted_root)
                    report.bundles += 1
                except GenoError as err:
                    fails.append((seq, err.code, err.message))
                    break
        if artifacts_root is not None:
            from ledger.identity import check_identity

            for path, (seq, ev) in sorted(material["artifacts"].items(), key=lambda kv: kv[1][0]):
                if seq >= limit:
                    continue
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


def _recorded(rows: list[tuple], before_seq: int) -> dict[str, set[str]]:
    """path -> sha256 digests recorded by artifact_recorded events before ``before_seq``."""
    out: dict[str, set[str]] = {}
    for row in rows[:before_seq]:
        if row[2] == "artifact_recorded":
            ev = decode_body_raw(bytes(row[6]))
            out.setdefault(ev.path, set()).add(ev.sha256)
    return out
