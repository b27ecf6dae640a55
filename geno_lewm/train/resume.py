"""``predictor_checkpoint.pt``: what it holds, how it is written, and the resume identity check.

The checkpoint carries only tensors and plain values, so it loads with ``weights_only=True``.
Resuming is refused (``TRAINING.RESUME_MISMATCH`` naming the field) when the checkpoint's run id,
dataset snapshot, seed split or config identity differ from the target run.
"""

from __future__ import annotations

import os
from pathlib import Path

from ledger.errors import ResourceError, TrainingError
from ledger.fsutil import atomic_path

CHECKPOINT_NAME = "predictor_checkpoint.pt"
CHECKPOINT_FORMAT = "geno-lewm-predictor-checkpoint"
CHECKPOINT_SCHEMA_VERSION = "1.0.0"
IDENTITY_FIELDS = ("run_id", "dataset_snapshot_id", "split_id", "seed", "config_hash")


def save_checkpoint(path: str | os.PathLike[str], *, identity: dict, step: int, predictor, action_encoder, optimizer) -> None:
    """Write the checkpoint atomically (identity fields + step + module and optimiser states)."""
    import torch

    payload = {
        "format": CHECKPOINT_FORMAT,
        "schema_version": CHECKPOINT_SCHEMA_VERSION,
        **{k: identity[k] for k in IDENTITY_FIELDS},
        "step": int(step),
        "predictor": predictor.state_dict(),
        "action_encoder": action_encoder.state_dict(),
        "optimizer": optimizer.state_dict(),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(path: str | os.PathLike[str]) -> dict:
    """Load a checkpoint with ``weights_only=True`` (``RESOURCE.BAD_CHECKPOINT`` if unreadable)."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise ResourceError("MISSING_CHECKPOINT", f"checkpoint {p.name!r} not found", "pass --resume-from <run-dir>/predictor_checkpoint.pt")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for bad files
        raise ResourceError("BAD_CHECKPOINT", f"{p.name} cannot be loaded as a weights-only checkpoint ({type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ResourceError("BAD_CHECKPOINT", f"{p.name} is not a GenoLeWM predictor checkpoint")
    return ckpt


def check_resume_identity(ckpt: dict, target: dict) -> None:
    """Refuse a checkpoint whose identity differs from the target run's (first differing field named)."""
    labels = {"run_id": "run id", "dataset_snapshot_id": "dataset snapshot", "split_id": "seed split", "seed": "seed", "config_hash": "config identity"}
    for field in IDENTITY_FIELDS:
        if ckpt.get(field) != target.get(field):
            raise TrainingError(
                "RESUME_MISMATCH",
                f"checkpoint {labels[field]} ({field}={str(ckpt.get(field))[:24]!r}) differs from the target run ({str(target.get(field))[:24]!r})",
                "resume only into the run that wrote the checkpoint, with the same dataset, seed and config",
            )
