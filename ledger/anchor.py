"""The ledger's trust anchor outside its own file: pinned public keys and exported checkpoints.

A verifier that reads the signing keys from the ledger it checks cannot tell an honest ledger from
one rewritten under an attacker's key, nor a ledger whose tail was cut and whose head witness was
re-signed. Transparency logs anchor trust outside the log; so does this module:

- **Pinned keys** (:func:`load_trusted_keys`, :func:`check_signers`): a file of public keys, one a
  line, kept outside the ledger (the repository pins its maintainers' keys in
  ``.github/release-keys.pub``). Every key that signed an event or the head witness must be listed,
  with the same public key the ledger registered (``LEDGER.UNTRUSTED_KEY`` otherwise).
- **Checkpoints** (:func:`export_checkpoint`, :func:`verify_checkpoint`): a signed tree head
  exported as a C2SP ``tlog-checkpoint`` signed note (:mod:`ledger.note`) that others keep (a
  release publishes it beside its artifacts). A later ledger must be a consistent extension of it:
  an RFC 9162 consistency proof from the checkpoint's tree to the current tree must verify
  (``LEDGER.FORKED`` otherwise), and the ledger may not be shorter (``LEDGER.ROLLED_BACK``).

Key file lines: ``<base64 raw 32-byte Ed25519 public key> [comment]`` (what ``keygen`` writes to
``KEY.pub``) or a note verifier key ``<name>+<key ID hex>+<base64(0x01 || public key)>``; blank
lines and lines starting with ``#`` are ignored.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import merkle, note
from ledger.errors import LedgerError
from ledger.keys import key_id_for, public_key_line  # noqa: F401 - public_key_line re-exported

if TYPE_CHECKING:
    from ledger.keys import Signer
    from ledger.store import Ledger

_KEYS_HINT = "list the maintainers' public keys, one a line (the KEY.pub files `geno-lewm-ledger keygen` writes)"


def _raw_key(token: str, where: str) -> bytes:
    if token.count("+") == 2 and not token.endswith("="):  # note verifier key: name+hash+base64(0x01||key)
        name, hash_hex, b64 = token.split("+")
        try:
            blob = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise LedgerError("BAD_TRUSTED_KEYS", f"{where}: verifier key is not base64", _KEYS_HINT) from None
        if len(blob) != 33 or blob[:1] != note.ED25519_TYPE or note.key_hash(name, blob[1:]).hex() != hash_hex.lower():
            raise LedgerError("BAD_TRUSTED_KEYS", f"{where}: not an Ed25519 note verifier key", _KEYS_HINT)
        return blob[1:]
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise LedgerError("BAD_TRUSTED_KEYS", f"{where}: not a base64 Ed25519 public key", _KEYS_HINT)
    return raw


def load_trusted_keys(path: str | os.PathLike[str]) -> dict[str, bytes]:
    """Read a pinned key file; return key id -> raw 32-byte public key (``LEDGER.BAD_TRUSTED_KEYS`` if unusable)."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise LedgerError("BAD_TRUSTED_KEYS", f"trusted key file {p.name} not found", _KEYS_HINT) from None
    except IsADirectoryError:
        raise LedgerError("BAD_TRUSTED_KEYS", f"trusted key file {p.name} is a directory", _KEYS_HINT) from None
    except PermissionError:
        raise LedgerError("BAD_TRUSTED_KEYS", f"trusted key file {p.name} is not readable", _KEYS_HINT) from None
    except UnicodeDecodeError:
        raise LedgerError("BAD_TRUSTED_KEYS", f"trusted key file {p.name} is not UTF-8 text", _KEYS_HINT) from None
    keys: dict[str, bytes] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        raw = _raw_key(line.split()[0], f"{p.name} line {n}")
        keys[key_id_for(raw)] = raw
    if not keys:
        raise LedgerError("BAD_TRUSTED_KEYS", f"trusted key file {p.name} lists no keys", _KEYS_HINT)
    return keys


def _registered_keys(con) -> dict[str, bytes]:
    """key id -> raw public key of every key the ledger registered (genesis and key_registered events)."""
    from ledger.events import Genesis, KeyRegistered, decode_body_raw

    out: dict[str, bytes] = {}
    for (body,) in con.execute("SELECT body FROM events WHERE kind IN ('genesis', 'key_registered') ORDER BY seq").fetchall():
        try:
            ev = decode_body_raw(bytes(body))
        except Exception:  # noqa: BLE001 - a damaged body is reported by verify, not here
            continue
        if isinstance(ev, (Genesis, KeyRegistered)):
            try:
                out.setdefault(ev.key_id, base64.b64decode(ev.public_key, validate=True))
            except (binascii.Error, ValueError):
                continue
    return out


def check_signers(ledger: "Ledger", trusted: dict[str, bytes]) -> dict[str, Any]:
    """Fail with ``LEDGER.UNTRUSTED_KEY`` unless every key that signed an event or the head witness is pinned.

    Returns ``{"signing_keys": [...]}`` on success.
    """
    with ledger._connect(read_only=True) as con:
        signers = con.execute("SELECT key_id, min(seq) FROM events GROUP BY key_id ORDER BY min(seq)").fetchall()
        witness = con.execute("SELECT key_id FROM ledger_head").fetchone()
        registered = _registered_keys(con)
    seen = [(k, int(s)) for k, s in signers]
    if witness is not None and witness[0] not in {k for k, _ in seen}:
        seen.append((witness[0], -1))
    for key_id, first in seen:
        where = "the head witness" if first < 0 else f"events from seq {first}"
        if key_id not in trusted:
            raise LedgerError(
                "UNTRUSTED_KEY",
                f"{where} are signed by {key_id}, which is not in the pinned key file",
                "the ledger was signed by a key the maintainers did not publish: do not trust it; if a maintainer added a key, update the pinned file from a trusted source",
            )
        if registered.get(key_id) not in (None, trusted[key_id]):
            raise LedgerError(
                "UNTRUSTED_KEY",
                f"the ledger registers a different public key for {key_id} than the pinned file",
                "the ledger's key registration was forged; do not trust it",
            )
    return {"signing_keys": [k for k, _ in seen]}


def _leaves(con) -> list[bytes]:
    hashes = con.sql("SELECT hash FROM events ORDER BY seq").to_arrow_table().column(0).to_pylist()
    leaf, unhex = merkle.leaf_hash, bytes.fromhex
    return [leaf(unhex(h)) for h in hashes]


def export_checkpoint(ledger: "Ledger", signer: "Signer", seq: int, out: str | os.PathLike[str]) -> str:
    """Write the checkpoint event at ``seq`` as a C2SP ``tlog-checkpoint`` note signed by ``signer`` to ``out``; return the note."""
    from ledger.events import Checkpoint
    from ledger.fsutil import atomic_write_text

    ev = ledger.get(seq).event
    if not isinstance(ev, Checkpoint):
        raise LedgerError("NOT_A_CHECKPOINT", f"event {seq} is not a checkpoint", "export the seq printed by `geno-lewm-ledger checkpoint`")
    text = note.sign_note(note.checkpoint_text(ev.origin, ev.size, bytes.fromhex(ev.root)), ev.origin, signer)
    atomic_write_text(out, text)
    return text


def checkpoint_now(ledger: "Ledger", signer: "Signer", out: str | os.PathLike[str]) -> dict[str, Any]:
    """Append a checkpoint over every event so far and export it to ``out``; return ``{seq, size, root, file}``."""
    from ledger.fsutil import check_writable

    note.check_key_name(ledger.origin)  # checked before appending: the note's key name is the origin
    check_writable(out)
    seq = ledger.checkpoint(signer)
    export_checkpoint(ledger, signer, seq, out)
    data = ledger.get(seq).data
    return {"seq": seq, "size": data["size"], "root": data["root"], "file": Path(out).name}


def verify_checkpoint(ledger: "Ledger", path: str | os.PathLike[str], trusted: dict[str, bytes] | None = None) -> dict[str, Any]:
    """Prove the ledger is a consistent extension of the checkpoint note at ``path``; return the proof.

    The note must carry a valid signature by a pinned key (``trusted``) or, without pinned keys,
    by a key the ledger registered. Raises ``LEDGER.BAD_CHECKPOINT`` / ``LEDGER.UNTRUSTED_CHECKPOINT``
    for an unusable note, ``LEDGER.ROLLED_BACK`` when the ledger has fewer events than the
    checkpoint, ``LEDGER.FORKED`` when the RFC 9162 consistency proof fails (history rewritten).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise LedgerError(
            "BAD_CHECKPOINT",
            f"cannot read checkpoint {p.name} ({type(exc).__name__})",
            "pass the checkpoint file a release published (e.g. checkpoint.txt beside its artifacts)",
        ) from None
    origin = ledger.origin
    with ledger._connect(read_only=True) as con:
        registered = _registered_keys(con)
        leaves = _leaves(con)
    keys = list((trusted if trusted is not None else registered).values())
    text, verified_by = note.verify_note(data, {origin: keys})
    cp = note.parse_checkpoint_text(text)
    if cp.origin != origin:
        raise LedgerError(
            "BAD_CHECKPOINT", f"the checkpoint is for log {cp.origin!r}, this ledger's origin is {origin!r}", "pass the checkpoint of this ledger"
        )
    size = len(leaves)
    if cp.size == 0:
        raise LedgerError("BAD_CHECKPOINT", "the checkpoint covers no events", "export a checkpoint after the genesis event")
    if cp.size > size:
        raise LedgerError(
            "ROLLED_BACK",
            f"the ledger has {size} events but a checkpoint signed earlier covers {cp.size}: events were removed",
            "restore the ledger from a copy that holds every checkpointed event; do not trust this one",
        )
    proof = merkle.consistency_proof(leaves, cp.size) if cp.size < size else []
    head = merkle.root(leaves)
    try:
        merkle.verify_consistency(cp.size, size, proof, cp.root, head)
    except LedgerError as err:
        raise LedgerError(
            "FORKED",
            f"the ledger is not an extension of the checkpoint at size {cp.size}: {err.message}",
            "history before the checkpoint was rewritten (or a different ledger was passed); do not trust this ledger",
        ) from None
    return {
        "checkpoint_size": cp.size,
        "ledger_size": size,
        "checkpoint_root": cp.root.hex(),
        "ledger_root": head.hex(),
        "consistency_proof": [h.hex() for h in proof],
        "signed_by": verified_by,
    }


def check_anchor(ledger: "Ledger", *, trusted_keys: str | os.PathLike[str] | None = None, checkpoint: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Run the pinned-key check (``trusted_keys`` file) and the checkpoint check (``checkpoint`` note) asked for.

    Returns what they proved (``{"trusted_keys": …, "checkpoint": …}``, empty when neither was
    asked); raises the first failure. Used by ``geno-lewm-ledger verify`` and ``geno-lewm-release replay``.
    """
    out: dict[str, Any] = {}
    trusted = load_trusted_keys(trusted_keys) if trusted_keys else None
    if trusted is not None:
        out["trusted_keys"] = check_signers(ledger, trusted)
    if checkpoint:
        out["checkpoint"] = verify_checkpoint(ledger, checkpoint, trusted)
    return out
