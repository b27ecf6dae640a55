"""Artifact identity and public-safe paths: the one library every report and step uses.

An artifact's identity is ``{"path": <package-relative POSIX path>, "sha256": <hex>, "size": <bytes>}``.
Paths recorded anywhere public (reports, ledger events, manifests) must be *public-safe*: relative,
POSIX, no ``..``, no home (``~``) or drive prefix, and must not escape their root through a symlink.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path, PurePosixPath
from typing import TypedDict

from ledger.errors import InputError, ProvenanceError, ResourceError

_CHUNK = 1 << 20
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Identity(TypedDict):
    """A file's identity: package-relative path, SHA-256 and size in bytes."""

    path: str
    sha256: str
    size: int


def sha256_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """Stream ``path`` through SHA-256 (1 MiB chunks, ``hashlib.file_digest``); return (hex, size)."""
    try:
        with open(path, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256")
            size = fh.tell()
    except (PermissionError, IsADirectoryError) as exc:
        why = "permission denied" if isinstance(exc, PermissionError) else "it is a folder"
        raise ResourceError("UNREADABLE", f"cannot read {Path(path).name} ({why})", "check the file's permissions (it must be readable by this user)") from None
    return digest.hexdigest(), size


def is_sha256_hex(text: object) -> bool:
    """True for a 64-character lower-case hex string."""
    return isinstance(text, str) and bool(_HEX64.match(text))


def check_public_path(text: str, what: str = "path") -> str:
    """Return ``text`` if it is a public-safe relative POSIX path, else raise ``INPUT.UNSAFE_PATH``."""
    bad = None
    if not isinstance(text, str) or not text:
        bad = "empty"
    elif "\\" in text or "\x00" in text:
        bad = "backslash or NUL"
    elif text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", text):
        bad = "absolute or home path"
    elif any(part in ("..",) for part in PurePosixPath(text).parts):
        bad = "'..' component"
    elif text != str(PurePosixPath(text)) and text != ".":
        bad = "not normalised"
    if bad:
        raise InputError("UNSAFE_PATH", f"{what} {text!r} is not public-safe ({bad})", "record paths relative to the package root")
    return text


def relative_to_root(path: str | os.PathLike[str], root: str | os.PathLike[str], what: str = "path") -> str:
    """Express ``path`` relative to ``root`` as a public-safe POSIX path.

    Resolves symlinks: a path whose real location is outside ``root`` is rejected
    (``INPUT.PATH_OUTSIDE_ROOT``), so no report can point outside its package.
    """
    root_real = Path(root).resolve()
    p = Path(path)
    if not p.is_absolute():
        p = Path(root) / p if not p.exists() else p
    real = p.resolve()
    try:
        rel = real.relative_to(root_real)
    except ValueError:
        raise InputError(
            "PATH_OUTSIDE_ROOT",
            f"{what} {os.fspath(path)!r} is outside the artifact root",
            "place the file under the artifact root (or pass a different --artifact-root)",
        ) from None
    return check_public_path(rel.as_posix() or ".", what)


def file_identity(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> Identity:
    """Identity of ``path`` with its path expressed relative to ``root``."""
    p = Path(path)
    if not p.is_file():
        raise InputError("MISSING_FILE", f"file not found: {relative_or_name(p, root)}", "check the path; produce the artifact first")
    digest, size = sha256_file(p)
    return Identity(path=relative_to_root(p, root), sha256=digest, size=size)


def relative_or_name(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> str:
    """A path suitable for an error message or report: root-relative if possible, else the bare name."""
    p = Path(path)
    if root is not None:
        try:
            return p.resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return p.name


def check_identity(identity: Identity, root: str | os.PathLike[str], *, hint: str | None = None) -> None:
    """Raise ``PROVENANCE.STALE_ARTIFACT`` (or ``PROVENANCE.MISSING_ARTIFACT``) if bytes on disk differ.

    ``hint`` replaces the family's default hint (e.g. "re-run the step that produces it").
    """
    rel = check_public_path(identity["path"])
    p = Path(root) / rel
    if not p.is_file():
        raise ProvenanceError("MISSING_ARTIFACT", f"recorded artifact {rel} is missing", hint)
    digest, size = sha256_file(p)
    if size != identity["size"] or digest != identity["sha256"]:
        raise ProvenanceError(
            "STALE_ARTIFACT",
            f"{rel} changed since it was recorded (sha256 {digest[:12]}… size {size}; recorded {identity['sha256'][:12]}… size {identity['size']})",
            hint,
        )


_ABS_PATH = re.compile(r"(?<![\w.~-])(?:/[^\s'\"/:,;()\[\]]+)+/([^\s'\"/:,;()\[\]]+)")


def public_message(text: str) -> str:
    """``text`` (e.g. a pysam or OS error message) with every absolute path shortened to its last name.

    Error messages and reports never show absolute paths or home directories.
    """
    return _ABS_PATH.sub(r"\1", str(text))


def missing_path_message(path: str | os.PathLike[str], what: str) -> str:
    """``"<what> not found: <path>"``, naming the first folder that does not exist when the folder is the problem.

    The path is shown as the user typed it when relative, else by its name only (no absolute paths).
    """
    p = Path(path)
    shown = p.as_posix() if not p.is_absolute() else p.name
    missing = None
    for parent in p.parents:
        if parent == parent.parent or str(parent) in ("", "."):
            break
        if parent.exists():
            break
        missing = parent
    if missing is not None:
        folder = missing.as_posix() if not missing.is_absolute() else missing.name
        return f"{what} not found: {shown} (folder {folder}/ does not exist)"
    if p.parent.exists() and not p.parent.is_dir():
        return f"{what} not found: {shown} ({p.parent.name} is a file, not a folder)"
    return f"{what} not found: {shown}"
