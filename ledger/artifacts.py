"""Artifact identity, public-safe paths and argv, staleness and ``SHA256SUMS`` files.

The one library every release step uses for "what is this file" questions. It builds on
:mod:`ledger.identity` (streaming SHA-256 via ``hashlib.file_digest``, public-safe path rules):

- :func:`identity` / :func:`identities` — ``{"path", "sha256", "size"}`` relative to a root;
- :func:`public_path` / :func:`public_argv` — what may appear in a report or a ledger event;
- :func:`check_fresh` / :func:`stale_identities` — recorded identity vs bytes on disk now;
- :func:`read_sums` / :func:`write_sums` / :func:`check_sums` — ``SHA256SUMS`` files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from ledger.errors import InputError, ProvenanceError
from ledger.fsutil import atomic_write_text
from ledger.identity import (
    Identity,
    check_identity,
    check_public_path,
    file_identity,
    is_sha256_hex,
    relative_to_root,
    sha256_file,
)

__all__ = [
    "Identity",
    "check_complete_sums",
    "check_fresh",
    "check_public_path",
    "check_sums",
    "identities",
    "identity",
    "list_files",
    "public_argv",
    "public_path",
    "read_sums",
    "render_sums",
    "sha256_file",
    "stale_identities",
    "write_sums",
]

_SUMS_LINE = re.compile(r"^(?P<digest>\S+) (?P<mode>[ *])(?P<path>.+)$")


def identity(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> Identity:
    """Identity of ``path`` (package-relative path, sha256, size); ``root`` is the package root.

    Raises ``INPUT.MISSING_FILE`` when the file does not exist and ``INPUT.PATH_OUTSIDE_ROOT``
    when it (after resolving symlinks) lies outside ``root``.
    """
    return file_identity(path, root)


def identities(paths: Iterable[str | os.PathLike[str]], root: str | os.PathLike[str]) -> list[Identity]:
    """Identities of ``paths`` relative to ``root``, sorted by path, duplicates refused."""
    out = [identity(p, root) for p in paths]
    seen: set[str] = set()
    for ident in out:
        if ident["path"] in seen:
            raise InputError("DUPLICATE_PATH", f"{ident['path']} is listed twice", "list each artifact once")
        seen.add(ident["path"])
    return sorted(out, key=lambda i: i["path"])


def list_files(directory: str | os.PathLike[str], *, exclude: Iterable[str] = (), within: str | os.PathLike[str] | None = None) -> list[Path]:
    """Every regular file under ``directory`` (sorted; hidden temp files of atomic writes skipped).

    ``exclude`` holds ``directory``-relative POSIX paths to leave out. A symlink is listed only
    when it resolves inside ``within`` (default: ``directory``); one that escapes raises
    ``INPUT.PATH_OUTSIDE_ROOT``.
    """
    root = Path(directory)
    fence = Path(within) if within is not None else root
    skip = set(exclude)
    files: list[Path] = []
    for path in sorted(root.rglob("*")):
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            continue
        if "__pycache__" in path.parts:
            continue
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if path.is_symlink() or any(p.is_symlink() for p in path.relative_to(root).parents if str(p) != "."):
            relative_to_root(path, fence, "package file")  # raises when the link escapes
            if within is None and relative_to_root(path, root, "package file") != rel:
                raise InputError(
                    "PATH_OUTSIDE_ROOT", f"package file {rel} is a symlink to another place", "copy the file into the package instead of linking it"
                )
        if rel in skip:
            continue
        files.append(path)
    return files


def public_path(path: str | os.PathLike[str], root: str | os.PathLike[str], what: str = "path") -> str:
    """``path`` as a public-safe POSIX path relative to ``root`` (refuses paths outside ``root``)."""
    return relative_to_root(path, root, what)


def _public_token(token: str, root: Path) -> str:
    if token.startswith("~"):
        return "<home>/" + PurePosixPath(token).name
    if os.path.isabs(token):
        try:
            return relative_to_root(token, root)
        except InputError:
            return "<outside-root>/" + Path(token).name
    return token


def public_argv(argv: Sequence[str], root: str | os.PathLike[str]) -> list[str]:
    """A copy of ``argv`` safe to publish: absolute paths become root-relative.

    Absolute paths inside ``root`` are rewritten relative to it; absolute or home paths outside
    become ``<outside-root>/NAME`` or ``<home>/NAME``. ``--flag=/abs/path`` forms are handled too.
    """
    root_p = Path(root)
    out: list[str] = []
    for arg in argv:
        arg = str(arg)
        if arg.startswith("--") and "=" in arg:
            flag, value = arg.split("=", 1)
            out.append(f"{flag}={_public_token(value, root_p)}")
        else:
            out.append(_public_token(arg, root_p))
    return out


def check_fresh(ident: Identity, root: str | os.PathLike[str]) -> None:
    """Raise ``PROVENANCE.STALE_ARTIFACT`` / ``PROVENANCE.MISSING_ARTIFACT`` if ``ident`` no longer holds.

    :func:`ledger.identity.check_identity` with the release steps' hint.
    """
    check_identity(ident, root, hint="re-run the step that produces it (and the steps after it), or restore the recorded bytes")


def stale_identities(idents: Iterable[Identity], root: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """``(path, reason)`` for each identity whose bytes on disk differ (``stale``) or are gone (``missing``)."""
    out: list[tuple[str, str]] = []
    for ident in idents:
        try:
            check_fresh(ident, root)
        except ProvenanceError as err:
            out.append((ident["path"], "missing" if err.code.endswith("MISSING_ARTIFACT") else "stale"))
    return out


# ---------------------------------------------------------------------------------------------
# SHA256SUMS
# ---------------------------------------------------------------------------------------------


def render_sums(idents: Iterable[Identity]) -> str:
    """``SHA256SUMS`` text (``<hex>  <path>`` per line, sorted by path), refusing bad digests or duplicates."""
    lines: dict[str, str] = {}
    for ident in idents:
        path = check_public_path(ident["path"], "checksum path")
        if not is_sha256_hex(ident["sha256"]):
            raise InputError("BAD_DIGEST", f"invalid sha256 for {path}: {ident['sha256']!r}", "a digest is 64 lower-case hex characters")
        if path in lines:
            raise InputError("DUPLICATE_CHECKSUM_PATH", f"{path} appears twice in the checksum list", "list each file once")
        lines[path] = f"{ident['sha256']}  {path}"
    return "".join(lines[p] + "\n" for p in sorted(lines))


def write_sums(path: str | os.PathLike[str], files: Iterable[str | os.PathLike[str]], root: str | os.PathLike[str]) -> list[Identity]:
    """Hash ``files`` (relative to ``root``) and write them atomically as a ``SHA256SUMS`` file."""
    idents = [identity(f, root) for f in files]
    atomic_write_text(path, render_sums(idents))
    return sorted(idents, key=lambda i: i["path"])


def read_sums(path: str | os.PathLike[str]) -> dict[str, str]:
    """Parse a ``SHA256SUMS`` file into ``{path: sha256}``.

    Raises ``PROVENANCE.BAD_CHECKSUMS`` on a malformed line, an invalid digest, an unsafe path or a
    duplicate path (each error names the line).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError("MISSING_FILE", f"checksum file not found: {p.name}", "generate the package first")
    out: dict[str, str] = {}
    for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        m = _SUMS_LINE.match(line)
        if not m:
            raise ProvenanceError("BAD_CHECKSUMS", f"{p.name} line {n} is not '<sha256>  <path>'", "regenerate the checksum file")
        digest, rel = m["digest"], m["path"]
        if not is_sha256_hex(digest):
            raise ProvenanceError("BAD_CHECKSUMS", f"{p.name} line {n}: invalid sha256 digest {digest[:70]!r}", "regenerate the checksum file")
        try:
            check_public_path(rel, "checksum path")
        except InputError as err:
            raise ProvenanceError("BAD_CHECKSUMS", f"{p.name} line {n}: {err.message}", "regenerate the checksum file") from None
        if rel in out:
            raise ProvenanceError("BAD_CHECKSUMS", f"{p.name} line {n}: duplicate path {rel}", "regenerate the checksum file")
        out[rel] = digest
    return out


def check_sums(path: str | os.PathLike[str], root: str | os.PathLike[str], *, require: Iterable[str] = ()) -> dict[str, str]:
    """Verify every file listed in the ``SHA256SUMS`` at ``path`` against the bytes under ``root``.

    ``require`` names files that must be listed. Raises ``PROVENANCE.STALE_ARTIFACT`` /
    ``PROVENANCE.MISSING_ARTIFACT`` naming the first file that fails, ``PROVENANCE.UNCOVERED`` for a
    required file that is not listed.
    """
    sums = read_sums(path)
    for rel in require:
        if rel not in sums:
            raise ProvenanceError("UNCOVERED", f"{rel} is not covered by {Path(path).name}", "regenerate the package checksums")
    for rel, digest in sums.items():
        p = Path(root) / rel
        if not p.is_file():
            raise ProvenanceError("MISSING_ARTIFACT", f"{rel} (listed in {Path(path).name}) is missing", "re-run the packaging step")
        have, _ = sha256_file(p)
        if have != digest:
            raise ProvenanceError("STALE_ARTIFACT", f"{rel} does not match {Path(path).name}", "re-run the packaging step or restore the file")
    return sums


def check_complete_sums(path: str | os.PathLike[str], root: str | os.PathLike[str], *, require: Iterable[str] = (), what: str, hint: str) -> dict[str, str]:
    """:func:`check_sums`, and every file under ``root`` (but the checksum file) must be listed in it.

    A file that is not listed raises ``PROVENANCE.UNCOVERED`` naming it as a ``what`` file, with ``hint``.
    """
    sums = check_sums(path, root, require=require)
    name = Path(path).name
    for f in list_files(root, exclude=[name]):
        rel = f.relative_to(root).as_posix()
        if rel not in sums:
            raise ProvenanceError("UNCOVERED", f"{what} file {rel} is not covered by {name}", hint)
    return sums
