"""Artifact references of an evaluation, recorded as identities relative to ``--artifact-root``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ledger.identity import Identity, file_identity, relative_to_root


def resolve_input(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> Path:
    """The file ``path`` names, checked to lie under ``root`` (``INPUT.PATH_OUTSIDE_ROOT`` if not).

    A relative path that does not exist from the working directory is taken relative to ``root``.
    """
    relative_to_root(path, root)  # raises for paths (or symlink targets) outside the root
    p = Path(path)
    if not p.is_absolute() and not p.exists():
        p = Path(root) / p
    return p


def record_artifacts(paths: Mapping[str, str | os.PathLike[str] | None], root: str | os.PathLike[str]) -> dict[str, Identity]:
    """Identity (root-relative path, sha256, size) of each named artifact that was given.

    Raises ``INPUT.PATH_OUTSIDE_ROOT`` for a file outside ``root`` and ``INPUT.MISSING_FILE``
    for a file that does not exist.
    """
    out: dict[str, Identity] = {}
    for role, path in sorted(paths.items()):
        if path is None:
            continue
        out[role] = file_identity(resolve_input(path, root), root)
    return out
