"""Write evaluation outputs: payload JSON text, in-memory identities, all-or-nothing writes."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ledger.fsutil import atomic_write_bytes
from ledger.identity import Identity, relative_to_root

#: Sentence every metrics payload carries: where its claims stop.
CLAIM_BOUNDARY = (
    "Model-quality claims are limited to the benchmarks, splits and figures in this payload, each measured "
    "beside the baselines named with it; the negative findings state what these figures do not show."
)

EFFECTIVE_CONFIG_NAME = "eval_config.effective.yaml"


def payload_bytes(payload: Mapping[str, Any]) -> bytes:
    """The metrics JSON bytes: sorted keys, 2-space indent, no NaN, trailing newline."""
    return (json.dumps(payload, indent=2, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n").encode("utf-8")


def bytes_identity(path: str | os.PathLike[str], data: bytes, root: str | os.PathLike[str]) -> Identity:
    """The identity ``data`` will have once written to ``path`` (path relative to ``root``)."""
    return Identity(path=relative_to_root(path, root), sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def artifact_list(identities: Mapping[str, Identity] | Sequence[tuple[str, Identity]]) -> list[dict[str, Any]]:
    """``[{"role", "path", "sha256", "size"}]`` sorted by role, the payload's ``artifacts`` form."""
    items = identities.items() if isinstance(identities, Mapping) else identities
    return sorted(({"role": role, **ident} for role, ident in items), key=lambda a: (a["role"], a["path"]))


def write_all(files: Sequence[tuple[Path, bytes]]) -> None:
    """Write every ``(path, bytes)`` atomically, in order (each file is whole or absent)."""
    for path, data in files:
        atomic_write_bytes(path, data)
