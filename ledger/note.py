"""C2SP signed notes with Ed25519 signatures, and the ``tlog-checkpoint`` note body.

Implemented from the specifications (c2sp.org/signed-note, c2sp.org/tlog-checkpoint):

- A signed note is a UTF-8 text ending in a newline, a blank line, then one or more signature
  lines ``— <key name> <base64(key ID || signature)>`` (em dash U+2014, single spaces). No ASCII
  control characters other than newline anywhere.
- For Ed25519 (signature type ``0x01``) the 4-byte key ID is
  ``SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]`` and the 64-byte signature is
  RFC 8032 Ed25519 over the note text (which includes its final newline).
- A checkpoint's text is three lines: the log's origin, the tree size in decimal (no leading
  zeros) and the base64 RFC 6962/9162 Merkle root at that size. The signing key's name is the
  origin.

Verification follows the note rules: signatures from unknown keys (name and key ID not both
matching a known key) are ignored; a known key whose signature fails rejects the note; a note with
no verified signature from a known key is rejected. Errors are ``LEDGER.BAD_CHECKPOINT``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from ledger.errors import LedgerError

ED25519_TYPE = b"\x01"  # signature type identifier byte for Ed25519 (c2sp.org/signed-note)
_DASH = "\u2014"
#: Most signature lines read from one note (the spec asks verifiers to accept at least 16).
MAX_SIGNATURES = 64
#: Largest note read, in bytes.
MAX_NOTE_BYTES = 1 << 20
_NAME_BAD = re.compile(r"[\s+]")
_HINT = "pass a checkpoint written by `geno-lewm-ledger checkpoint --out FILE` (a C2SP tlog-checkpoint signed note)"


def _bad(message: str) -> LedgerError:
    return LedgerError("BAD_CHECKPOINT", message, _HINT)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line of a note."""

    name: str  # key name
    key_hash: bytes  # 4-byte key ID
    signature: bytes  # the algorithm's signature bytes (64 for Ed25519)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The parsed text of a ``tlog-checkpoint`` note."""

    origin: str  # log origin (first line)
    size: int  # tree size (second line)
    root: bytes  # 32-byte Merkle root (third line, base64)


def check_key_name(name: str) -> str:
    """Return ``name`` if it is a valid note key name (non-empty, no spaces or '+'), else ``LEDGER.BAD_CHECKPOINT``."""
    if not name or _NAME_BAD.search(name) or any(ord(c) < 0x20 for c in name):
        raise _bad(f"{name!r} cannot name a note key (it must be non-empty, without spaces or '+')")
    return name


def key_hash(name: str, public_key_raw: bytes) -> bytes:
    """The 4-byte Ed25519 note key ID of ``public_key_raw`` under key name ``name``."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519_TYPE + public_key_raw).digest()[:4]


def vkey(name: str, public_key_raw: bytes) -> str:
    """The verifier-key string ``<name>+<key ID hex>+<base64(0x01 || public key)>`` used by note tooling."""
    return f"{check_key_name(name)}+{key_hash(name, public_key_raw).hex()}+{base64.b64encode(ED25519_TYPE + public_key_raw).decode('ascii')}"


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    """The note text of a checkpoint (origin, size, base64 root; each line ending in a newline)."""
    check_key_name(origin)
    if size < 0 or len(root) != 32:
        raise _bad("a checkpoint needs a non-negative size and a 32-byte root")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def sign_note(text: str, name: str, signer) -> str:
    """``text`` signed by ``signer`` (a :class:`ledger.keys.Signer`) under key ``name``: the whole signed note."""
    if not text.endswith("\n"):
        raise _bad("note text must end with a newline")
    check_key_name(name)
    sig = signer.sign(text.encode("utf-8"))
    blob = key_hash(name, signer.public_key_raw) + sig
    return f"{text}\n{_DASH} {name} {base64.b64encode(blob).decode('ascii')}\n"


def parse_note(data: bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines (format checks only; nothing is verified)."""
    if len(data) > MAX_NOTE_BYTES:
        raise _bad(f"the note is {len(data)} bytes (limit {MAX_NOTE_BYTES})")
    try:
        note = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("the note is not valid UTF-8") from None
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise _bad("the note holds control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise _bad("no blank line separates the note text from its signatures")
    text, sig_block = note[: split + 1], note[split + 2 :]
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _bad(f"the note has {len(lines)} signature lines (limit {MAX_SIGNATURES})")
    sigs: list[NoteSignature] = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH or not parts[1]:
            raise _bad(f"malformed signature line {line[:80]!r}")
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except (binascii.Error, ValueError):
            raise _bad(f"signature of {parts[1]!r} is not base64") from None
        if len(blob) < 5:
            raise _bad(f"signature of {parts[1]!r} is too short")
        sigs.append(NoteSignature(parts[1], blob[:4], blob[4:]))
    return text, sigs


def verify_note(data: bytes, known: dict[str, list[bytes]]) -> tuple[str, list[str]]:
    """Verify a signed note against ``known`` (key name -> raw Ed25519 public keys); return (text, verifying names).

    Raises ``LEDGER.BAD_CHECKPOINT`` if a known key's signature fails or no known key signed.
    """
    text, sigs = parse_note(data)
    verified: list[str] = []
    message = text.encode("utf-8")
    for s in sigs:
        for raw in known.get(s.name, []):
            if key_hash(s.name, raw) != s.key_hash:
                continue
            try:
                ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(s.signature, message)
            except (InvalidSignature, ValueError):
                raise _bad(f"the signature of known key {s.name!r} ({s.key_hash.hex()}) does not verify: the note was altered") from None
            verified.append(s.name)
    if not verified:
        raise LedgerError(
            "UNTRUSTED_CHECKPOINT",
            "the checkpoint is not signed by any trusted key",
            "pin the maintainers' keys with --trusted-keys FILE, or fetch the checkpoint the release published",
        )
    return text, verified


def parse_checkpoint_text(text: str) -> Checkpoint:
    """Parse a ``tlog-checkpoint`` note text (extension lines are allowed and ignored)."""
    lines = text[:-1].split("\n") if text.endswith("\n") else []
    if len(lines) < 3 or any(not line for line in lines):
        raise _bad("a checkpoint text has at least three non-empty lines: origin, size, root")
    origin, size_text, root_text = lines[:3]
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", size_text):
        raise _bad(f"tree size {size_text[:40]!r} is not a decimal number without leading zeros")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise _bad("the root hash line is not base64") from None
    if len(root) != 32:
        raise _bad(f"the root hash is {len(root)} bytes, not 32")
    return Checkpoint(origin, int(size_text), root)
