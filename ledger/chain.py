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
    raw = os.urandom(16 * n)
    out = []
    for i in range(0, 16 * n, 16):
        b = bytearray(raw[i : i + 16])
        b[6] = (b[6] & 0x0F) | 0x40  # version 4
        b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
        h = b.hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


def is_valid_event_id(text: object) -> bool:
    """True for a lower-case canonical UUID string."""
    return isinstance(text, str) and bool(_UUID_RE.match(text))
