"""Sigstore bundles: offline verification (pinned trusted root) and sealing the ledger.

* :func:`verify_bundle` verifies a bundle against an artifact fully offline with sigstore-python:
  certificate chain to the trusted root's Fulcio CAs at the log/TSA time, SCT, transparency-log
  inclusion proof and checkpoint, signed timestamps, the identity/issuer policy, and the signature
  over the artifact (message signatures) or over the DSSE envelope whose in-toto subject must name
  the artifact's SHA-256. The trusted root is ``configs/sigstore/trusted_root.json`` (the
  public-good root shipped with sigstore-python) unless one is given.
* Managed-key bundles (verification with a bare public key) are not supported by sigstore-python;
  they fail with ``LEDGER.SIGSTORE_UNSUPPORTED`` rather than pretending.
* :func:`seal` signs an in-toto Statement over the latest checkpoint and the recorded artifacts
  with an ambient OIDC identity (release CI) and records the bundle. Without network or identity
  it fails with ``LEDGER.SIGSTORE_OFFLINE`` / ``LEDGER.SIGSTORE_NO_IDENTITY``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger.events import BundleRecorded
    from ledger.keys import Signer
    from ledger.store import Ledger

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SEAL_PREDICATE_TYPE = "https://geno-lewm.dev/ledger-seal/v1"
CHECKPOINT_SUBJECT_PREFIX = "ledger-checkpoint:"


def default_trusted_root() -> Path:
    """The pinned public-good trusted root (checkout ``configs/`` or the wheel's bundled copy)."""
    here = Path(__file__).resolve().parent.parent / "configs" / "sigstore" / "trusted_root.json"
    if here.is_file():
        return here
    spec = importlib.util.find_spec("geno_lewm")  # locates the package without importing it
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            p = Path(loc) / "_bundled" / "configs" / "sigstore" / "trusted_root.json"
            if p.is_file():
                return p
    raise LedgerError("SIGSTORE_NO_TRUST_ROOT", "the pinned Sigstore trusted root is missing", "pass --trusted-root FILE")


def _invalid(message: str) -> LedgerError:
    return LedgerError("SIGSTORE_INVALID", message, "the bundle does not verify for this artifact, identity and trusted root")


def load_trusted_root(path: str | os.PathLike[str] | None):
    """Load a sigstore ``TrustedRoot`` from ``path`` (default: the pinned root)."""
    from sigstore.models import TrustedRoot

    p = Path(path) if path is not None else default_trusted_root()
    try:
        return TrustedRoot.from_file(str(p))
    except FileNotFoundError:
        raise LedgerError("SIGSTORE_NO_TRUST_ROOT", f"trusted root not found: {p.name}", "pass an existing --trusted-root FILE") from None
    except Exception as exc:  # noqa: BLE001 - any parse/validation failure of the root
        raise _invalid(f"trusted root {p.name} is invalid: {exc}") from None


def verify_bundle_bytes(
    bundle_json: bytes,
    artifact: bytes | None,
    *,
    identity: str | None = None,
    issuer: str | None = None,
    key_pem: bytes | None = None,
    trusted_root: str | os.PathLike[str] | None = None,
    artifact_sha256: str | None = None,
) -> dict[str, Any]:
    """Verify a bundle offline; return a summary dict, or raise ``LEDGER.SIGSTORE_*``.

    ``artifact`` (bytes) or ``artifact_sha256`` (hex) names what was signed. For DSSE bundles the
    in-toto Statement must list that digest as a subject; the Statement is returned under
    ``statement``.
    """
    if key_pem is not None:
        raise LedgerError(
            "SIGSTORE_UNSUPPORTED",
            "managed-key (bare public key) bundle verification is not supported by sigstore-python",
            "verify with --identity/--issuer (keyless bundles), or use cosign for managed-key bundles",
        )
    if not identity or not issuer:
        raise LedgerError("SIGSTORE_POLICY", "verification needs --identity and --issuer (or --key)")
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity

    root = load_trusted_root(trusted_root)
    try:
        bundle = Bundle.from_json(bundle_json)
    except Exception as exc:  # noqa: BLE001 - malformed bundles raise many exception types
        raise _invalid(f"malformed bundle: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    digest = artifact_sha256 or (hashlib.sha256(artifact).hexdigest() if artifact is not None else None)
    policy = Identity(identity=identity, issuer=issuer)
    try:
        verifier = Verifier(trusted_root=root)
        if bundle._dsse_envelope is not None:  # noqa: SLF001 - public accessor absent in sigstore 4.x
            ptype, payload = verifier.verify_dsse(bundle, policy)
            if ptype != INTOTO_PAYLOAD_TYPE:
                raise _invalid(f"DSSE payload type {ptype!r} is not in-toto")
            try:
                statement = json.loads(payload)
            except ValueError:
                raise _invalid("DSSE payload is not JSON") from None
            subjects = statement.get("subject") or []
            if digest is None or not any((s.get("digest") or {}).get("sha256") == digest for s in subjects if isinstance(s, dict)):
                raise _invalid("the artifact's sha256 is not a subject of the attested statement")
            return {"ok": True, "kind": "dsse", "identity": identity, "issuer": issuer, "statement": statement}
        if artifact is None:
            raise _invalid("a message-signature bundle needs the artifact bytes")
        verifier.verify_artifact(artifact, bundle, policy)
        return {"ok": True, "kind": "message_signature", "identity": identity, "issuer": issuer, "sha256": digest}
    except LedgerError:
        raise
    except (SigstoreError, ValueError, TypeError, KeyError) as exc:
        raise _invalid(f"bundle verification failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None


def verify_bundle(
    bundle: str | os.PathLike[str],
    artifact: str | os.PathLike[str],
    *,
    identity: str | None = None,
    issuer: str | None = None,
    key: str | os.PathLike[str] | None = None,
    trusted_root: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """File-based :func:`verify_bundle_bytes` (the ``verify-bundle`` command)."""
    try:
        bundle_bytes = Path(bundle).read_bytes()
        artifact_bytes = Path(artifact).read_bytes()
        key_pem = Path(key).read_bytes() if key is not None else None
    except FileNotFoundError as exc:
        raise LedgerError("NOT_FOUND", f"file not found: {Path(exc.filename).name}") from None
    return verify_bundle_bytes(bundle_bytes, artifact_bytes, identity=identity, issuer=issuer, key_pem=key_pem, trusted_root=trusted_root)


def verify_recorded_bundle(
    ev: "BundleRecorded", leaves: list[bytes], recorded: dict[str, set[str]], *, origin: str, trusted_root: str | os.PathLike[str] | None = None
) -> None:
    """Re-verify a ``bundle_recorded`` event offline; its subjects must match the ledger.

    Each subject is either ``ledger-checkpoint:<origin>:<size>`` (digest = the Merkle root of the
    first ``size`` events) or a recorded artifact path with a recorded sha256.
    """
    from ledger import merkle

    if not ev.subjects:
        raise _invalid("recorded bundle has no subjects")
    summary = verify_bundle_bytes(
        ev.bundle.encode("utf-8"), None, identity=ev.identity, issuer=ev.issuer, trusted_root=trusted_root, artifact_sha256=ev.subjects[0].sha256
    )
    signed = {(s.get("name"), (s.get("digest") or {}).get("sha256")) for s in summary["statement"].get("subject") or []}
    for s in ev.subjects:
        if (s.name, s.sha256) not in signed:
            raise _invalid(f"recorded subject {s.name} is not in the signed statement")
        if s.name.startswith(CHECKPOINT_SUBJECT_PREFIX):
            try:
                o, size_text = s.name[len(CHECKPOINT_SUBJECT_PREFIX) :].rsplit(":", 1)
                size = int(size_text)
            except ValueError:
                raise _invalid(f"malformed checkpoint subject {s.name!r}") from None
            if o != origin or size > len(leaves) or merkle.root(leaves[:size]).hex() != s.sha256:
                raise _invalid(f"sealed checkpoint {s.name} does not match the ledger's events")
        elif s.sha256 not in recorded.get(s.name, set()):
            raise _invalid(f"sealed subject {s.name} is not a recorded artifact identity")


def seal_statement(ledger: "Ledger") -> tuple[dict[str, Any], int, list[dict[str, str]]]:
    """The in-toto Statement a seal signs: latest checkpoint + latest identity of each recorded artifact."""
    cps = list(ledger.events(kinds=["checkpoint"]))
    if not cps:
        raise LedgerError("NO_CHECKPOINT", "nothing to seal: the ledger has no checkpoint", "run `geno-lewm-ledger checkpoint` first")
    cp = cps[-1]
    body = cp.data
    subjects = [{"name": f"{CHECKPOINT_SUBJECT_PREFIX}{body['origin']}:{body['size']}", "sha256": body["root"]}]
    latest: dict[str, str] = {}
    for ev in ledger.events(kinds=["artifact_recorded"], until_seq=cp.seq):
        d = ev.data
        latest[d["path"]] = d["sha256"]
    subjects += [{"name": p, "sha256": h} for p, h in sorted(latest.items())]
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": s["name"], "digest": {"sha256": s["sha256"]}} for s in subjects],
        "predicateType": SEAL_PREDICATE_TYPE,
        "predicate": {"origin": body["origin"], "checkpoint_seq": cp.seq, "size": body["size"], "root": body["root"]},
    }
    return statement, cp.seq, subjects


def seal(ledger: "Ledger", signer: "Signer", *, trusted_root: str | os.PathLike[str] | None = None) -> int:
    """Sign the seal Statement with Sigstore (ambient OIDC identity, network) and record the bundle; return its seq."""
    statement, cp_seq, subjects = seal_statement(ledger)
    from sigstore import dsse, oidc
    from sigstore.models import ClientTrustConfig
    from sigstore.sign import SigningContext

    try:
        token_text = oidc.detect_credential()
    except Exception as exc:  # noqa: BLE001 - ambient detection failures
        raise LedgerError("SIGSTORE_NO_IDENTITY", f"no ambient OIDC identity: {exc}", "run `seal --sigstore` in release CI with id-token: write") from None
    if not token_text:
        raise LedgerError(
            "SIGSTORE_NO_IDENTITY", "no ambient OIDC identity (not in a CI job with an OIDC token)", "run `seal --sigstore` in release CI with id-token: write"
        )
    try:
        token = oidc.IdentityToken(token_text)
        ctx = SigningContext.from_trust_config(ClientTrustConfig.production())
        stmt = dsse.Statement(json.dumps(statement, sort_keys=True, separators=(",", ":")).encode())
        with ctx.signer(token) as s:
            bundle = s.sign_dsse(stmt)
    except Exception as exc:  # noqa: BLE001 - network/TUF/Fulcio/Rekor failures
        raise LedgerError(
            "SIGSTORE_OFFLINE",
            f"Sigstore signing failed (network needed for Fulcio/Rekor): {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            "run `seal --sigstore` where sigstore.dev is reachable",
        ) from None
    bundle_json = bundle.to_json()
    body = {"bundle": bundle_json, "identity": token.identity, "issuer": token.issuer, "subjects": subjects, "checkpoint_seq": cp_seq}
    verify_recorded_bundle(_as_event(body), _leaves(ledger), _recorded_artifacts(ledger), origin=ledger.origin, trusted_root=trusted_root)
    return ledger.record_bundle(body, signer)


def record_existing_bundle(
    ledger: "Ledger",
    signer: "Signer",
    bundle_json: str,
    *,
    identity: str,
    issuer: str,
    subjects: list[dict[str, str]],
    checkpoint_seq: int,
    trusted_root: str | os.PathLike[str] | None = None,
) -> int:
    """Verify an existing bundle against the ledger offline and record it as ``bundle_recorded``."""
    body = {"bundle": bundle_json, "identity": identity, "issuer": issuer, "subjects": subjects, "checkpoint_seq": checkpoint_seq}
    verify_recorded_bundle(_as_event(body), _leaves(ledger), _recorded_artifacts(ledger), origin=ledger.origin, trusted_root=trusted_root)
    return ledger.record_bundle(body, signer)


def _as_event(body: dict[str, Any]) -> "BundleRecorded":
    from ledger.events import make_event

    return make_event("bundle_recorded", body)  # type: ignore[return-value]


def _leaves(ledger: "Ledger") -> list[bytes]:
    from ledger import merkle

    return [merkle.leaf_hash(bytes.fromhex(r[7])) for r in ledger.raw_rows()]


def _recorded_artifacts(ledger: "Ledger") -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for ev in ledger.events(kinds=["artifact_recorded"]):
        d = ev.data
        out.setdefault(d["path"], set()).add(d["sha256"])
    return out
