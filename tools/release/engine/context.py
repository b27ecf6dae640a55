"""Where a release step records: workspace (ledger + key), artifact root, and a log callback.

A :class:`ReleaseContext` is built from the common flags every step and ``geno-lewm-release``
accept (:func:`add_common_flags`):

- ``--workdir DIR``: a release working directory holding the workspace *and* the artifacts
  (ledger ``DIR/ledger.duckdb``, key ``DIR/keys/maintainer.key``, artifact root ``DIR``);
- ``--ledger FILE`` / ``--key FILE``: override the ledger file or the signing key;
- ``--artifact-root DIR``: the root that ledger artifact paths are relative to.

Without ``--workdir`` the workspace is ``$GENO_LEWM_WORKSPACE`` or ``./geno-lewm-workspace`` and the
artifact root is the current directory (so a checkout's ``configs/…`` can be recorded). The rule
is :func:`ledger.workspace.resolve_dirs`, shared with ``geno-lewm-ledger`` and the cockpit.
Nothing here imports torch.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.workspace import resolve_dirs, resolve_ledger_path

Log = Callable[[str], None]


def _stderr_log(line: str) -> None:
    print(line, file=sys.stderr)


@dataclass
class ReleaseContext:
    """Everything a step needs to record itself: ledger file, signing key, artifact root, log.

    ``ledger_path``/``key_path`` default to the workspace's; the ledger (with its genesis) and the
    key are created on first use. ``record`` False turns ledger recording off (pure checks).
    """

    workspace_dir: Path  # the workspace holding ledger.duckdb and keys/maintainer.key
    artifact_root: Path  # ledger artifact paths are relative to this directory
    ledger_path: Path | None = None  # override of the workspace ledger
    key_path: Path | None = None  # override of the workspace key
    log: Log = field(default=_stderr_log)  # receives progress lines (stderr by default)
    record: bool = True  # append events to the ledger
    _ledger: Any = field(default=None, repr=False)
    _signer: Any = field(default=None, repr=False)

    @classmethod
    def for_workdir(cls, workdir: str | os.PathLike[str], *, log: Log | None = None) -> ReleaseContext:
        """The context of a release working directory (workspace and artifact root are both ``workdir``)."""
        workspace_dir, artifact_root = resolve_dirs(workdir)
        return cls(workspace_dir=workspace_dir, artifact_root=artifact_root, log=log or _stderr_log)

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, log: Log | None = None) -> ReleaseContext:
        """Build from the flags added by :func:`add_common_flags`."""
        workspace_dir, artifact_root = resolve_dirs(getattr(args, "workdir", None))
        ctx = cls(workspace_dir=workspace_dir, artifact_root=artifact_root, log=log or _stderr_log)
        if getattr(args, "artifact_root", None):
            ctx.artifact_root = Path(args.artifact_root).absolute()
        if getattr(args, "ledger", None):
            ctx.ledger_path = Path(args.ledger).absolute()
        if getattr(args, "key", None):
            ctx.key_path = Path(args.key).absolute()
        if getattr(args, "no_ledger", False):
            ctx.record = False
        return ctx

    # -- workspace ------------------------------------------------------------------------------

    def workspace(self):
        """The :class:`ledger.workspace.Workspace` of this context."""
        from ledger.workspace import Workspace

        return Workspace(self.workspace_dir)

    @property
    def resolved_ledger_path(self) -> Path:
        """The ledger file this context writes to."""
        return resolve_ledger_path(self.ledger_path, self.workspace_dir)

    def signer(self):
        """The signing key (``--key`` or the workspace key, created with the workspace if missing)."""
        if self._signer is None:
            from ledger.keys import Signer

            if self.key_path is not None:
                self._signer = Signer.load(self.key_path)
            else:
                ws = self.workspace()
                ws.ensure()
                self._signer = ws.signer()
        return self._signer

    def ledger(self):
        """The open ledger (created with a genesis event signed by :meth:`signer` if missing)."""
        if self._ledger is None:
            from ledger.store import Ledger

            if self.ledger_path is None:
                ws = self.workspace()
                ws.ensure()
                self._ledger = ws.open_ledger()
            elif self.ledger_path.exists():
                self._ledger = Ledger.open(self.ledger_path)
            else:
                self._ledger = Ledger.init(self.ledger_path, self.signer())
        return self._ledger

    def holds(self, path: str | os.PathLike[str]) -> bool:
        """True when ``path`` lies under the artifact root (so a step can record it)."""
        try:
            Path(path).resolve().relative_to(self.artifact_root.resolve())
        except ValueError:
            return False
        return True

    @property
    def checkpoints_dir(self) -> Path:
        """Where exported checkpoints go: ``checkpoints/`` beside the ledger file."""
        return self.resolved_ledger_path.parent / "checkpoints"

    def checkpoint(self) -> dict:
        """Append a checkpoint over the whole ledger and export it as a C2SP note.

        Writes ``checkpoints/<size>.txt`` and ``checkpoints/latest.txt`` beside the ledger (see
        :meth:`checkpoints_dir`); returns ``{seq, size, root, file}``.
        """
        from ledger.anchor import checkpoint_now
        from ledger.fsutil import atomic_write_text

        out = checkpoint_now(self.ledger(), self.signer(), self.checkpoints_dir / "latest.txt")
        atomic_write_text(self.checkpoints_dir / f"{out['size']}.txt", (self.checkpoints_dir / "latest.txt").read_text(encoding="utf-8"))
        return out

    def close(self) -> None:
        """Close the ledger if this context opened it."""
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    """Add ``--workdir``, ``--ledger``, ``--key``, ``--artifact-root`` and ``--no-ledger``."""
    g = parser.add_argument_group("ledger recording")
    g.add_argument("--workdir", metavar="DIR", help="release working directory: workspace (ledger, key) and artifact root")
    g.add_argument("--ledger", metavar="FILE", help="ledger file (default: the workspace ledger)")
    g.add_argument("--key", metavar="FILE", help="signing key (default: the workspace key)")
    g.add_argument("--artifact-root", metavar="DIR", help="root that recorded artifact paths are relative to (default: --workdir or the current directory)")
    g.add_argument("--no-ledger", action="store_true", help="do not record this run in the ledger")
