"""Locate the project's bundled data (``configs/``, ``examples/``) in a checkout or an installed wheel."""

from __future__ import annotations

import os
from pathlib import Path

from ledger.errors import ResourceError

_PKG = Path(__file__).resolve().parent


def project_root() -> Path | None:
    """The source checkout's root when running from one (it has ``pyproject.toml``), else None."""
    root = _PKG.parent
    return root if (root / "pyproject.toml").is_file() and (root / "configs").is_dir() else None


def require_project_root(explicit: str | os.PathLike[str] | None, why: str, hint: str = "run from a git checkout or pass --project-root") -> Path:
    """``explicit`` as a path, else the source checkout's root; ``RESOURCE.NO_CHECKOUT`` (saying ``why``) when there is none."""
    if explicit is not None:
        return Path(explicit)
    root = project_root()
    if root is None:
        raise ResourceError("NO_CHECKOUT", why, hint)
    return root


def data_dir(name: str) -> Path:
    """Path of the bundled top-level folder ``name`` (``configs`` or ``examples``)."""
    root = project_root()
    if root is not None and (root / name).is_dir():
        return root / name
    return _PKG / "_bundled" / name


def example_path(name: str) -> Path:
    """Path of a file in ``examples/`` (e.g. ``rCRS_chrM.fa``)."""
    return data_dir("examples") / name


def config_path(*parts: str) -> Path:
    """Path of a file under ``configs/``."""
    return data_dir("configs").joinpath(*parts)
