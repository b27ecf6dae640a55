"""Model package = a directory with ``manifest.json`` (RFC-0011, manifest half).

Layout: ``manifest.json``, ``encoder/`` (the Carbon checkpoint files, role ``encoder``),
``predictor.safetensors``, ``action_encoder.safetensors``, ``config.effective.yaml`` and optional
``calibration.parquet``. The manifest is stored as canonical JSON bytes (``ledger.canonical``), so
``model_id`` = SHA-256 of those bytes = SHA-256 of the file. Floats never appear (decimal
strings instead). A manifest is decoded by the loader contract
(:func:`geno_lewm.versioning.decode_document`): any ``schema_version`` of the current MAJOR is read,
the current one included; unknown optional fields are ignored (at any depth); a field named in
``required_fields`` that this runtime does not know, or a foreign MAJOR, is ``INPUT.SCHEMA_COMPAT``;
a missing or mistyped known field is ``PROVENANCE.MANIFEST_SCHEMA``. Ignored fields still count for
integrity: ``model_id`` hashes the whole manifest, never the decoded view. Loading verifies every
artifact's sha256 and size first (``PROVENANCE.*`` naming the file).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import msgspec

from ledger.canonical import canonical_json, sha256_hex
from ledger.errors import InputError, ProvenanceError, ResourceError
from ledger.fsutil import atomic_write_bytes
from ledger.identity import check_identity, check_public_path, file_identity, is_sha256_hex, missing_path_message, public_message

from geno_lewm.versioning import SCHEMAS, ReleaseId, decode_document

if TYPE_CHECKING:
    import torch

    from geno_lewm.edits import EditSpec

MANIFEST_SCHEMA_VERSION = SCHEMAS["manifest"].version
ARTIFACT_ROLES = ("encoder", "predictor", "action_encoder", "config", "calibration")


class ModelInfo(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Model name and version (version = package semver the checkpoint was trained under)."""

    name: str  # always "geno-lewm"
    version: str  # MAJOR.MINOR.PATCH
    package_version: str  # exact geno_lewm.__version__ (may carry a pre-release part)


class EncoderInfo(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The frozen encoder the predictor was trained against."""

    id: str  # encoder id, e.g. carbon-500m or tiny-carbon
    revision: str  # checkpoint revision
    hash: str  # sha256 over the checkpoint files (geno_lewm.encoder.carbon.checkpoint_hash)
    stand_in: bool  # true for the tiny stand-in (not real Carbon weights)
    num_layers: int  # transformer blocks
    hidden_size: int  # hidden width H


class StateContractInfo(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """geno_lewm.state.StateContract fields plus its hash."""

    layer: int  # hidden-state layer
    pooling: str  # centred | window_mean
    radius: int  # tokens each side of the locus token
    normalize: str  # none | layernorm | l2
    dtype: str  # float32 | bfloat16
    window_bp: int  # window width in bases
    hash: str  # StateContract.hash()


class Artifact(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One package file: package-relative path, role, sha256 and size."""

    path: str  # package-relative POSIX path
    role: Literal["encoder", "predictor", "action_encoder", "config", "calibration"]  # what the file is
    sha256: str  # lower-case hex
    size: int  # bytes


class Architecture(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Shapes needed to rebuild the trainable modules before loading their weights."""

    action: dict  # geno_lewm.model.config.ActionConfig fields
    predictor: dict  # geno_lewm.model.config.PredictorConfig fields


class Manifest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The model package manifest (RFC-0011 §2)."""

    schema_version: str  # "1.0.0"
    generated_by: str  # the command that wrote it
    model: ModelInfo  # name/version
    release_id: str  # geno-lewm-v<X.Y.Z>-<encoder-id>-r<N>
    encoder: EncoderInfo  # frozen encoder identity
    state_contract: StateContractInfo  # the latent-state contract
    architecture: Architecture  # trainable module shapes
    artifacts: list[Artifact]  # sorted by path
    training_config_hash: str  # sha256 of the canonical effective training config
    dataset_snapshot_id: str  # id of the dataset snapshot trained on
    stand_in: bool  # true when built on the stand-in encoder
    note: str  # one sentence; says "stand-in" when stand_in is true


def _fail(msg: str) -> ProvenanceError:
    return ProvenanceError("MANIFEST_SCHEMA", f"manifest.json: {msg}", "regenerate the package with geno-lewm-train or restore the original manifest")


def validate_manifest(doc: dict) -> Manifest:
    """Decode and check a manifest dict by the loader contract; the result is this runtime's view.

    A manifest from another MINOR/PATCH of the current MAJOR is returned at the current
    ``schema_version`` without the fields this runtime does not know (a reseal writes that view).
    """
    if not isinstance(doc, dict):
        raise _fail("not a JSON object")
    man = decode_document("manifest", doc, Manifest, invalid=_fail)  # SchemaCompatError: foreign MAJOR / unknown required field
    if man.schema_version != MANIFEST_SCHEMA_VERSION:
        man = msgspec.structs.replace(man, schema_version=MANIFEST_SCHEMA_VERSION)
    ReleaseId.parse(man.release_id)
    paths = [a.path for a in man.artifacts]
    if paths != sorted(paths) or len(set(paths)) != len(paths):
        raise _fail("artifacts must be unique and sorted by path")
    for a in man.artifacts:
        check_public_path(a.path, "artifact path")
        if not is_sha256_hex(a.sha256) or a.size < 0:
            raise _fail(f"artifact {a.path} has a malformed sha256/size")
    for h in (man.encoder.hash, man.state_contract.hash, man.training_config_hash):
        if not is_sha256_hex(h):
            raise _fail("encoder/state-contract/config hashes must be sha256 hex")
    if man.stand_in != man.encoder.stand_in or (man.stand_in and "stand-in" not in man.note):
        raise _fail("stand_in must match the encoder and the note must say 'stand-in'")
    return man


def manifest_bytes(manifest: Manifest | dict) -> bytes:
    """Canonical JSON bytes of a manifest (what is written to disk and hashed)."""
    return canonical_json(manifest)


def manifest_id(manifest: Manifest | dict) -> str:
    """``model_id``: SHA-256 of the canonical manifest bytes."""
    return sha256_hex(manifest_bytes(manifest))


def parse_manifest_bytes(data: bytes) -> dict:
    """Decode manifest.json bytes (``PROVENANCE.MANIFEST_SCHEMA`` when not JSON)."""
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _fail(f"not valid JSON ({exc})") from None


# --------------------------------------------------------------------------------------------
# Package files: verify, id, write, reseal
# --------------------------------------------------------------------------------------------

MANIFEST_NAME = "manifest.json"


def _manifest_bytes(model_dir: str | os.PathLike[str]) -> bytes:
    """The manifest's bytes; a missing model folder is ``INPUT.MISSING_MODEL_DIR`` (naming the missing folder)."""
    root = Path(model_dir)
    if not root.is_dir():
        what = missing_path_message(root, "model directory") if not root.exists() else f"model directory {root.name} is a file, not a folder"
        raise InputError("MISSING_MODEL_DIR", what, "pass --model-dir with a model package folder (the one holding manifest.json)")
    path = root / MANIFEST_NAME
    if not path.is_file():
        raise ProvenanceError(
            "MISSING_MANIFEST", f"{MANIFEST_NAME} not found in the model directory {root.name}", "point at a model package (a directory with manifest.json)"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ResourceError("UNREADABLE", f"cannot read {MANIFEST_NAME} in {root.name} ({type(exc).__name__})", "check the file's permissions") from None


def read_manifest(model_dir: str | os.PathLike[str]) -> Manifest:
    """Read and schema-check ``manifest.json`` (no artifact hashing)."""
    return validate_manifest(parse_manifest_bytes(_manifest_bytes(model_dir)))


def model_id_of(model_dir: str | os.PathLike[str]) -> str:
    """``model_id``: SHA-256 of the exact bytes of the package's ``manifest.json`` (which must be JSON).

    The bytes are hashed as stored, never re-serialised, so fields the loader contract ignores
    (unknown optional fields of a newer MINOR) are still covered by the id.
    """
    data = _manifest_bytes(model_dir)
    parse_manifest_bytes(data)
    return sha256_hex(data)


def verify_package(model_dir: str | os.PathLike[str]) -> dict:
    """The manifest (as a dict) after checking every artifact's sha256 and size.

    Raises ``PROVENANCE.MISSING_ARTIFACT`` / ``PROVENANCE.STALE_ARTIFACT`` naming the first bad
    file, and ``PROVENANCE.UNLISTED_ARTIFACT`` for a file under ``encoder/`` the manifest does not
    list (it could change what the loader reads).
    """
    root = Path(model_dir)
    man = read_manifest(root)
    for art in man.artifacts:
        check_identity({"path": art.path, "sha256": art.sha256, "size": art.size}, root)
    listed = {a.path for a in man.artifacts}
    enc_dir = root / "encoder"
    if enc_dir.is_dir():
        for f in sorted(enc_dir.rglob("*")):
            rel = f.relative_to(root).as_posix()
            if f.is_file() and rel not in listed:
                raise ProvenanceError("UNLISTED_ARTIFACT", f"{rel} is in the package but not in the manifest", "remove the file or reseal the package")
    return msgspec.to_builtins(man)


def write_manifest(model_dir: str | os.PathLike[str], manifest: Manifest) -> str:
    """Write ``manifest`` as canonical bytes atomically; return its ``model_id``."""
    validate_manifest(msgspec.to_builtins(manifest))
    data = manifest_bytes(manifest)
    atomic_write_bytes(Path(model_dir) / MANIFEST_NAME, data)
    return sha256_hex(data)


def artifact_entries(model_dir: str | os.PathLike[str], files: list[tuple[str, str]]) -> list[Artifact]:
    """Artifact entries (sorted by path) for ``(rel_path, role)`` pairs under ``model_dir``."""
    out = []
    for rel, role in files:
        ident = file_identity(Path(model_dir) / check_public_path(rel, "artifact path"), model_dir)
        if role not in ARTIFACT_ROLES:
            raise ProvenanceError("MANIFEST_SCHEMA", f"unknown artifact role {role!r} for {rel}", f"roles: {', '.join(ARTIFACT_ROLES)}")
        out.append(Artifact(path=ident["path"], role=role, sha256=ident["sha256"], size=ident["size"]))  # type: ignore[arg-type]
    return sorted(out, key=lambda a: a.path)


def reseal(model_dir: str | os.PathLike[str], *, add: list[tuple[str, str]] | tuple = ()) -> str:
    """Add/update ``(rel_path, role)`` artifacts, rewrite the manifest, return the new ``model_id``.

    Every artifact not being replaced is verified first, so resealing never blesses a tampered file.
    """
    root = Path(model_dir)
    man = read_manifest(root)
    replaced = {check_public_path(rel, "artifact path") for rel, _ in add}
    for art in man.artifacts:
        if art.path not in replaced:
            check_identity({"path": art.path, "sha256": art.sha256, "size": art.size}, root)
    keep = [a for a in man.artifacts if a.path not in replaced]
    new = sorted(keep + artifact_entries(root, list(add)), key=lambda a: a.path)
    return write_manifest(root, msgspec.structs.replace(man, artifacts=new))


# --------------------------------------------------------------------------------------------
# Loading a package
# --------------------------------------------------------------------------------------------


class ModelPackage:
    """A verified model package: encoder, state contract, action encoder and predictor, ready to predict."""

    def __init__(self, model_dir: Path, manifest: dict, model_id: str, encoder, contract, action_encoder, predictor) -> None:
        self.dir = model_dir
        self.manifest = manifest
        self.model_id = model_id
        self.encoder = encoder
        self.contract = contract
        self.action_encoder = action_encoder
        self.predictor = predictor
        self.stand_in = bool(manifest["stand_in"])

    @classmethod
    def load(cls, model_dir: str | os.PathLike[str], *, device: str = "auto") -> ModelPackage:
        """Verify every artifact, then load the encoder and the trained modules (weights only)."""
        from safetensors.torch import load_file

        from geno_lewm.encoder.carbon import CarbonEncoder
        from geno_lewm.model.action import ActionEncoder
        from geno_lewm.model.config import ActionConfig, PredictorConfig
        from geno_lewm.model.predictor import Predictor
        from geno_lewm.state import StateContract

        root = Path(model_dir)
        manifest = verify_package(root)
        model_id = model_id_of(root)
        sc = dict(manifest["state_contract"])
        recorded_hash = sc.pop("hash")
        contract = msgspec.convert(sc, StateContract)
        if contract.hash() != recorded_hash:
            raise ProvenanceError(
                "STATE_CONTRACT_MISMATCH",
                "the manifest's state contract does not hash to its recorded value",
                "this runtime pools states differently; use the geno-lewm version the model was trained with",
            )
        # verify_package just checked every encoder/ file against the manifest: reuse those digests
        verified = {
            a["path"].removeprefix("encoder/"): (a["sha256"], int(a["size"]))
            for a in manifest["artifacts"]
            if a["role"] == "encoder" and a["path"].count("/") == 1
        }
        encoder = CarbonEncoder.load(root / "encoder", device=device, verified=verified)
        if encoder.identity.hash != manifest["encoder"]["hash"]:
            raise ProvenanceError("ENCODER_MISMATCH", "encoder/ files do not hash to the manifest's encoder hash")
        arch = manifest["architecture"]
        action = ActionEncoder(msgspec.convert(arch["action"], ActionConfig))
        predictor = Predictor(msgspec.convert(arch["predictor"], PredictorConfig))
        pkg = cls(root, manifest, model_id, encoder, contract, action, predictor)
        for module, role in ((action, "action_encoder"), (predictor, "predictor")):
            path = pkg.artifact_path(role)
            if path is None:
                raise ProvenanceError("MISSING_ARTIFACT", f"the manifest lists no {role} artifact")
            try:
                module.load_state_dict(load_file(str(path)), strict=True)
            except Exception as exc:  # noqa: BLE001 - SafetensorError, a pickle renamed .safetensors, wrong tensor shapes
                raise ProvenanceError(
                    "BAD_WEIGHTS",
                    f"{path.name} is not a usable safetensors file for the {role} ({type(exc).__name__}: {public_message(str(exc).splitlines()[0] if str(exc) else '')[:160]})",
                    "rebuild the model package: only safetensors weights with the manifest's architecture are loaded (never pickles)",
                ) from None
            module.to(encoder.device).eval().requires_grad_(False)
        return pkg

    def artifact_path(self, role: str) -> Path | None:
        """Path of the first artifact with ``role`` (None when the manifest has none)."""
        for art in self.manifest["artifacts"]:
            if art["role"] == role:
                return self.dir / art["path"]
        return None

    @property
    def uses_context(self) -> bool:
        """True when :meth:`predict` needs each edit's window (the predictor reads edit-context tokens)."""
        return bool(getattr(self.predictor, "uses_context", False))

    @property
    def uses_scale(self) -> bool:
        """True when :meth:`predict` needs each source's pre-normalisation scale (``geno_lewm.state.pool_scales``)."""
        return bool(getattr(self.predictor, "uses_scale", False))

    def context(self, edits: list[EditSpec], windows: list[tuple[str, str]], alts: list[str] | None = None) -> torch.Tensor:
        """Edit-context tokens (B, C, 2D) for edits in ``windows`` = (sequence, right flank) pairs; no encoder pass.

        ``alts`` — the changed window of each row — defaults to each window with its edit applied;
        the reference-anchored rollout passes the window with *every* edit so far applied
        (:mod:`geno_lewm.rollout`), so the rows show all changed tokens around the locus.
        """
        from geno_lewm.edits import apply_edit
        from geno_lewm.model.context import edit_context

        if len(windows) != len(edits):
            raise InputError("BATCH_MISMATCH", f"{len(edits)} edits but {len(windows)} windows")
        if alts is None:
            alts = [apply_edit(seq, e, right_flank=flank) for e, (seq, flank) in zip(edits, windows, strict=True)]
        elif len(alts) != len(edits):
            raise InputError("BATCH_MISMATCH", f"{len(edits)} edits but {len(alts)} changed windows")
        ctx, _ = edit_context(
            self.encoder, int(self.contract.window_bp), [seq for seq, _ in windows], alts, [e.locus for e in edits], self.predictor.cfg.context_radius
        )
        return ctx  # (B, C, 2D)

    def predict(
        self,
        source_states: torch.Tensor,
        edits: list[EditSpec],
        windows: list[tuple[str, str]] | None = None,
        alts: list[str] | None = None,
        scales: torch.Tensor | None = None,
        actions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predicted latent after each edit: (B, D), B edits → (B, D) float32 on CPU. No encoder call.

        ``windows`` — each edit's (window sequence, right flank) — is required when the predictor
        reads edit-context tokens (:attr:`uses_context`) and ignored otherwise; ``alts`` (optional,
        context models only) overrides each row's changed window (see :meth:`context`). ``scales``
        (B,) — each source's pre-normalisation scale from the same encoder pass
        (``geno_lewm.state.pool_scales``) — is required when :attr:`uses_scale` and ignored otherwise.
        ``actions`` (B, A) may carry the edits' action embeddings already computed (the scorer's
        memo, :class:`geno_lewm.scoring.scorer.RowMemo`).
        """
        import torch

        if self.uses_context and windows is None:
            raise InputError(
                "MISSING_CONTEXT",
                "this model's predictor reads each edit's window, and none was given",
                "pass windows=[(sequence, right_flank), …] to ModelPackage.predict",
            )
        dev = next(self.predictor.parameters()).device
        with torch.inference_mode():
            a = self.action_encoder.embed(edits) if actions is None else actions.to(dev)  # (B, A)
            s = source_states.to(dev, torch.float32).unsqueeze(1)  # (B, 1, D)
            if self.uses_scale:
                if scales is None:
                    raise InputError(
                        "MISSING_SCALE",
                        "this model's predictor reads each source state's pre-normalisation scale, and none was given",
                        "pass scales=geno_lewm.state.pool_scales(…) from the source's encoder pass",
                    )
                extra = {"scale": scales.to(dev, torch.float32)}  # (B,)
            else:
                extra = {}
            if not self.uses_context:
                return self.predictor(s, a, **extra).float().cpu()  # (B, D)
            ctx = self.context(edits, windows, alts).to(dev)  # (B, C, 2D)
            return self.predictor(s, a, ctx, **extra).float().cpu()  # (B, D)
