"""Ed25519 maintainer keys: generate, load, sign, and derive the stable key id.

A key id is ``"ed25519:" + first 32 hex of sha256(raw 32-byte public key)``; the ledger's
``key_registered`` events carry the base64 public key so any verifier can rebuild the key from
the ledger alone.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger.parallel import ChunkStream

KEY_ID_PREFIX = "ed25519:"


def key_id_for(raw_public_key: bytes) -> str:
    """The key id of a raw 32-byte Ed25519 public key."""
    return KEY_ID_PREFIX + hashlib.sha256(raw_public_key).hexdigest()[:32]


def public_key_from_b64(text: str) -> ed25519.Ed25519PublicKey:
    """Rebuild a public key from its base64 raw form (``LEDGER.BAD_KEY`` if malformed)."""
    try:
        raw = base64.b64decode(text, validate=True)
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError) as exc:
        raise LedgerError("BAD_KEY", f"malformed Ed25519 public key: {exc}", "register keys with `geno-lewm-ledger keygen` output") from None


def verify_signature(public_key: ed25519.Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``data`` by ``public_key``."""
    try:
        public_key.verify(signature, data)
        return True
    except InvalidSignature:
        return False


class Signer:
    """A loaded Ed25519 private key that signs ledger events.

    Attributes: ``key_id`` (stable id, see :func:`key_id_for`) and ``public_key_b64`` (base64 of
    the raw public key, as recorded in ``genesis``/``key_registered`` events).
    """

    def __init__(self, private_key: ed25519.Ed25519PrivateKey) -> None:
        self._key = private_key
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_key_raw: bytes = raw
        self.public_key_b64: str = base64.b64encode(raw).decode("ascii")
        self.key_id: str = key_id_for(raw)

    @classmethod
    def generate(cls) -> "Signer":
        """A fresh in-memory key (tests and benchmarks; use :func:`keygen` for a key file)."""
        return cls(ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Signer":
        """Load a PEM (PKCS#8) Ed25519 private key written by :func:`keygen`."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise LedgerError("KEY_NOT_FOUND", f"key file not found: {p.name}", "create one with `geno-lewm-ledger keygen --out KEY`") from None
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise LedgerError(
                "BAD_KEY", f"{p.name} is not an unencrypted PEM private key ({exc})", "create one with `geno-lewm-ledger keygen --out KEY`"
            ) from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise LedgerError("BAD_KEY", f"{p.name} is not an Ed25519 key", "create one with `geno-lewm-ledger keygen --out KEY`")
        return cls(key)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data``."""
        return self._key.sign(data)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (what :func:`keygen` writes)."""
        return self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def public_key_line(signer: Signer) -> str:
    """The line ``keygen`` writes to ``KEY.pub``: base64 raw public key, then its key id as a comment."""
    return f"{signer.public_key_b64} {signer.key_id}\n"


def keygen(out_path: str | os.PathLike[str]) -> str:
    """Write a new Ed25519 private key (PEM, mode 0600) to ``out_path``; return its key id.

    Also writes the public key to ``out_path + ".pub"`` (one line, see
    :func:`public_key_line`: what a pinned ``--trusted-keys`` file lists). Refuses to
    overwrite an existing file (``LEDGER.KEY_EXISTS``). The private key is created with ``O_EXCL``
    and mode 0600 so it is never world-readable, even briefly.
    """
    from ledger.errors import ResourceError
    from ledger.fsutil import atomic_write_text

    p = Path(out_path)
    pub = p.with_name(p.name + ".pub")
    for existing in (p, pub):
        if existing.exists():
            raise LedgerError("KEY_EXISTS", f"key file {existing.name} already exists", "choose another --out path; never overwrite a key")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResourceError(
            "NOT_WRITABLE", f"cannot create the folder for {p.name} ({type(exc).__name__})", "choose an --out path inside a writable folder"
        ) from None
    signer = Signer.generate()
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise LedgerError("KEY_EXISTS", f"temporary key file {tmp.name} exists", "remove the stale temporary file") from None
    except OSError as exc:
        raise ResourceError(
            "NOT_WRITABLE", f"cannot write {p.name} in its folder ({type(exc).__name__})", "choose an --out path inside a writable folder"
        ) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(signer.private_pem())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, p)  # atomic and refuses to overwrite
        except FileExistsError:
            raise LedgerError("KEY_EXISTS", f"key file {p.name} already exists", "choose another --out path; never overwrite a key") from None
    finally:
        tmp.unlink(missing_ok=True)
    atomic_write_text(pub, public_key_line(signer))
    return signer.key_id


def _sign_range(start: int, stop: int) -> list[bytes]:
    from ledger.parallel import data

    signer, messages = data()
    sign = signer._key.sign
    return [sign(m) for m in messages[start:stop]]


def sign_many(signer: Signer, messages: list[bytes], *, workers: int | None = None) -> list[bytes]:
    """Sign each message; large batches are split over one process per core (see :mod:`ledger.parallel`)."""
    from ledger.parallel import map_ranges

    parts = map_ranges(_sign_range, (signer, messages), len(messages), workers=workers)
    return [s for part in parts for s in part]


def _sign_events_range(start: int, stop: int) -> list[str]:
    from ledger.chain import event_pae
    from ledger.parallel import data

    signer, bodies = data()
    sign = signer._key.sign
    return [sign(event_pae(b)).hex() for b in bodies[start:stop]]


def sign_events(signer: Signer, bodies: list[bytes], *, workers: int | None = None) -> list[str]:
    """Hex Ed25519 signatures of DSSE PAE(``bodies[i]``), as stored in the ledger's ``sig`` column.

    The PAE and the hex are built in the workers too, so the whole per-event signing cost is
    spread over the cores (see :mod:`ledger.parallel`).
    """
    from ledger.parallel import map_ranges

    parts = map_ranges(_sign_events_range, (signer, bodies), len(bodies), workers=workers)
    return [s for part in parts for s in part]


#: Events per chunk of a signature stream (small enough that inserting a chunk overlaps the signing of the next).
SIGN_CHUNK = 512
_SIG_HEX = 128  # hex characters of one Ed25519 signature


def _sign_events_chunk(start: int, stop: int) -> str:
    from ledger.chain import event_pae
    from ledger.parallel import data

    signer, bodies = data()
    sign = signer._key.sign
    return b"".join([sign(event_pae(b)) for b in bodies[start:stop]]).hex()


def stream_event_signatures(signer: Signer, bodies: list[bytes], *, chunk: int | None = None, workers: int | None = None) -> "ChunkStream":
    """Start signing DSSE PAE(``bodies[i]``) in forked workers; read the results chunk by chunk, in order.

    Iterating the returned :class:`ledger.parallel.ChunkStream` yields ``(start, stop, text)``
    where :func:`split_signatures` turns ``text`` into the hex signatures of ``bodies[start:stop]``
    (the same values as :func:`sign_events`). Small batches are signed in this process as they
    are read. ``chunk`` defaults to :data:`SIGN_CHUNK`. Use it as a context manager so an
    abandoned stream stops its workers.
    """
    from ledger.parallel import stream_chunks

    return stream_chunks(_sign_events_chunk, (signer, bodies), len(bodies), chunk=chunk or SIGN_CHUNK, workers=workers)


def split_signatures(text: str) -> list[str]:
    """The hex signatures packed in one chunk of :func:`stream_event_signatures`."""
    return [text[i : i + _SIG_HEX] for i in range(0, len(text), _SIG_HEX)]


def _verify_range(start: int, stop: int) -> int | None:
    from ledger.chain import event_pae
    from ledger.parallel import data

    public_keys, bodies, sigs = data()
    unhex = bytes.fromhex
    for i in range(start, stop):
        pk = public_keys[i]
        if pk is None:
            continue
        try:
            pk.verify(unhex(sigs[i]), event_pae(bodies[i]))
        except (InvalidSignature, ValueError):
            return i
    return None


def verify_events(public_keys: list, bodies: list[bytes], sigs: list[str], *, workers: int | None = None) -> int | None:
    """Index of the first event whose hex ``sigs[i]`` is not a valid signature of DSSE PAE(``bodies[i]``)
    under ``public_keys[i]`` (entries with key None are skipped); None when all verify.

    Large batches are split over one process per core (see :mod:`ledger.parallel`).
    """
    from ledger.parallel import map_ranges

    fails = [r for r in map_ranges(_verify_range, (public_keys, bodies, sigs), len(bodies), workers=workers) if r is not None]
    return min(fails) if fails else None
