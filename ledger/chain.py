"""The bytes that are hashed and signed: the event hash preimage and the DSSE PAE.

* Signature: Ed25519 over ``PAE(PAYLOAD_TYPE, body)`` (DSSE v1 pre-authentication encoding) of
  the exact stored body bytes. Verification uses the stored bytes; nothing is re-serialised.
* Event hash: ``SHA-256("geno-lewm.ledger.event.v1\\n" seq "\\n" event_id "\\n" kind "\\n" ts "\\n"
  key_id "\\n" prev_hash "\\n" body)`` as lower-case hex. Every field before ``body`` is validated to be
  newline-free, so the preimage is unambiguous; the hash binds the envelope (position, time,
  signer, predecessor) to the body, and ``prev_hash`` chains the events.
* Head witness: the last writer signs ``PAE(HEAD_PAYLOAD_TYPE, origin "\\n" size "\\n" head_hash)``
  so removing events from the end of the table is detected.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from datetime import UTC, datetime

PAYLOAD_TYPE = "application/vnd.geno-lewm.ledger-event+json;version=1"
HEAD_PAYLOAD_TYPE = "application/vnd.geno-lewm.ledger-head;version=1"
GENESIS_PREV_HASH = "0" * 64
_HASH_PREFIX = b"geno-lewm.ledger.event.v1\n"
_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: ``"DSSEv1" SP len(type) SP type SP len(body) SP body``."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def event_pae(body: bytes) -> bytes:
    """The bytes an event signature covers."""
    return pae(PAYLOAD_TYPE, body)


def head_message(origin: str, size: int, head_hash: str) -> bytes:
    """The bytes the head witness signature covers."""
    return pae(HEAD_PAYLOAD_TYPE, f"{origin}\n{size}\n{head_hash}".encode("utf-8"))


def event_hash(seq: int, event_id: str, kind: str, ts: str, key_id: str, prev_hash: str, body: bytes) -> str:
    """Hex SHA-256 event hash (see module docstring for the preimage)."""
    return hashlib.sha256(_HASH_PREFIX + f"{seq}\n{event_id}\n{kind}\n{ts}\n{key_id}\n{prev_hash}\n".encode("utf-8") + body).hexdigest()


def event_hashes(seq: int, prev_hash: str, event_ids: list[str], kinds: list[str], ts: str, key_id: str, bodies: list[bytes]) -> list[str]:
    """Hashes of consecutive events from ``seq`` on, each chained to the one before (the first to ``prev_hash``).

    The same values as calling :func:`event_hash` per event (a test checks it); one commit time
    ``ts`` and one signer ``key_id`` for the whole batch.
    """
    sha = hashlib.sha256
    prefix = _HASH_PREFIX
    out: list[str] = []
    append = out.append
    mid = f"\n{ts}\n{key_id}\n"
    for eid, kind, body in zip(event_ids, kinds, bodies, strict=True):
        prev_hash = sha(prefix + f"{seq}\n{eid}\n{kind}{mid}{prev_hash}\n".encode("utf-8") + body).hexdigest()
        append(prev_hash)
        seq += 1
    return out


#: The same preimage as :func:`event_hash`, as a DuckDB expression over an ``events`` row (a BLOB).
#: Verification builds the preimages in the database and hashes them with ``hashlib``; a test
#: checks that both definitions agree.
EVENT_HASH_PREIMAGE_SQL = (
    "encode('geno-lewm.ledger.event.v1' || chr(10) || CAST(seq AS VARCHAR) || chr(10) || event_id || chr(10) || kind || chr(10)"
    " || ts || chr(10) || key_id || chr(10) || prev_hash || chr(10)) || body"
)


def now_ts() -> str:
    """Current UTC time as RFC 3339 with microseconds and ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_valid_ts(text: str) -> bool:
    """True for an RFC 3339 UTC timestamp ending in ``Z``."""
    return bool(_TS_RE.match(text))


def new_event_id() -> str:
    """A fresh random UUID (v4), lower-case canonical form."""
    return str(uuid.uuid4())


def new_event_ids(n: int) -> list[str]:
    """``n`` fresh random UUIDs (v4, lower-case canonical form), from one ``os.urandom`` call."""
    raw = bytearray(os.urandom(16 * n))
    raw[6::16] = raw[6::16].translate(_V4_VERSION)  # version 4
    raw[8::16] = raw[8::16].translate(_V4_VARIANT)  # RFC 4122 variant
    h = raw.hex()
    return [f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-{h[i + 12 : i + 16]}-{h[i + 16 : i + 20]}-{h[i + 20 : i + 32]}" for i in range(0, 32 * n, 32)]


_V4_VERSION = bytes((b & 0x0F) | 0x40 for b in range(256))
_V4_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))


def is_valid_event_id(text: object) -> bool:
    """True for a lower-case canonical UUID string."""
    return isinstance(text, str) and bool(_UUID_RE.match(text))
