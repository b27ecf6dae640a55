"""The default workspace: a directory holding ``ledger.duckdb`` and ``keys/maintainer.key``.

The workspace directory is ``$GENO_LEWM_WORKSPACE`` or ``./geno-lewm-workspace``. Commands that take
``--ledger``/``--key`` default to the workspace's files.
"""

from __future__ import annotations

import os
from pathlib import Path

from ledger.errors import LedgerError

ENV_VAR = "GENO_LEWM_WORKSPACE"
DEFAULT_DIR = "geno-lewm-workspace"


def default_workspace_dir() -> Path:
    """``$GENO_LEWM_WORKSPACE`` or ``./geno-lewm-workspace``."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


def resolve_dirs(workdir: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """``(workspace directory, artifact root)`` — the one rule every CLI, step and the cockpit use.

    With a release working directory ``workdir`` both are ``workdir``; without one the workspace is
    :func:`default_workspace_dir` and the artifact root the current directory. Both absolute.
    """
    if workdir:
        d = Path(workdir).absolute()
        return d, d
    return default_workspace_dir().absolute(), Path.cwd()


def resolve_ledger_path(ledger: str | os.PathLike[str] | None = None, workspace_dir: str | os.PathLike[str] | None = None) -> Path:
    """The ledger file: ``ledger`` (``--ledger``) when given, else the workspace's ``ledger.duckdb``."""
    return Path(ledger) if ledger else Workspace(workspace_dir).ledger_path


def resolve_key_path(key: str | os.PathLike[str] | None = None, workspace_dir: str | os.PathLike[str] | None = None) -> Path:
    """The signing key: ``key`` (``--key``) when given, else the workspace's ``keys/maintainer.key``."""
    return Path(key) if key else Workspace(workspace_dir).key_path


class Workspace:
    """A workspace directory with the ledger and the maintainer key."""

    def __init__(self, directory: str | os.PathLike[str] | None = None, *, origin: str = "geno-lewm") -> None:
        self.dir = Path(directory) if directory is not None else default_workspace_dir()
        self.origin = origin

    @property
    def ledger_path(self) -> Path:
        """``<dir>/ledger.duckdb``."""
        return self.dir / "ledger.duckdb"

    @property
    def key_path(self) -> Path:
        """``<dir>/keys/maintainer.key``."""
        return self.dir / "keys" / "maintainer.key"

    def ensure(self) -> "Workspace":
        """Create the key (mode 0600) and the ledger with its genesis if missing (else upgrade its views); return self."""
        from ledger.keys import Signer, keygen
        from ledger.store import Ledger

        self.dir.mkdir(parents=True, exist_ok=True)
        if not self.key_path.exists():
            if self.ledger_path.exists():
                raise LedgerError(
                    "KEY_NOT_FOUND", "the workspace ledger exists but its maintainer key is missing", f"restore {self.key_path.name} or use --key"
                )
            keygen(self.key_path)
        if not self.ledger_path.exists():
            Ledger.init(self.ledger_path, Signer.load(self.key_path), origin=self.origin)
        else:
            Ledger.open(self.ledger_path)  # a writable open brings older auditor views up to date
        return self

    def open_ledger(self, *, read_only: bool = False, busy_timeout_s: float = 10.0):
        """Open the workspace ledger (``LEDGER.NOT_FOUND`` if missing)."""
        from ledger.store import Ledger

        return Ledger.open(self.ledger_path, read_only=read_only, busy_timeout_s=busy_timeout_s)

    def signer(self):
        """Load the maintainer key."""
        from ledger.keys import Signer

        return Signer.load(self.key_path)


def check_workdir(path: str | os.PathLike[str], flag: str = "--workdir") -> Path:
    """Check before any work that ``path`` can be a workspace folder (existing or to be created); return it.

    ``INPUT.WORKDIR_NOT_A_FOLDER`` when it (or a parent) is a file; ``RESOURCE.NOT_WRITABLE`` when
    its nearest existing folder is not writable. Nothing is created.
    """
    from ledger.errors import InputError, ResourceError

    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InputError(
            "WORKDIR_NOT_A_FOLDER", f"{flag} {p.name} is a file, not a folder", f"pass a folder (it is created on first run), e.g. {flag} geno-lewm-workspace"
        )
    parent = p
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError("WORKDIR_NOT_A_FOLDER", f"{flag} {p.name}: {parent.name} is a file, not a folder", f"pass a folder path for {flag}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ResourceError("NOT_WRITABLE", f"{flag} {p.name}: folder {parent.name or parent}/ is not writable", "choose a writable folder")
    return p
