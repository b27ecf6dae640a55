"""Atomic file writes: never leave a half-written artifact behind.

Everything the project writes goes through these helpers: bytes land in a temporary file in the
destination's directory, are flushed and fsynced, then renamed over the destination. A crash or an
error at any point leaves either the old file or the new one, never a mixture.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ledger.errors import ResourceError


def _not_writable(dest: Path, exc: OSError) -> ResourceError:
    why = {
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "read-only file system",
        errno.ENOSPC: "no space left",
        errno.ENOTDIR: "a parent is a file, not a folder",
        errno.EEXIST: "a parent is a file, not a folder",
    }
    reason = why.get(exc.errno or 0, type(exc).__name__)
    return ResourceError(
        "NOT_WRITABLE", f"cannot write {dest.name} in {dest.parent.name or '.'}/ ({reason})", "choose an output path inside a writable folder with free space"
    )


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Check before any work that ``path`` can be written atomically; return it as a Path.

    Raises ``RESOURCE.NOT_WRITABLE`` when ``path`` is an existing directory, when a parent is a
    file, or when its nearest existing folder is not writable (read-only directory or file
    system). Nothing is created.
    """
    dest = Path(path)
    if dest.is_dir():
        raise ResourceError("NOT_WRITABLE", f"output {dest.name or dest} is a directory", "name a file inside it, e.g. DIR/scores.jsonl")
    parent = dest.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ResourceError("NOT_WRITABLE", f"cannot write {dest.name}: {parent.name}/ is a file, not a folder", "choose an output path inside a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ResourceError(
            "NOT_WRITABLE", f"cannot write {dest.name}: folder {parent.name or parent}/ is not writable", "choose an output path inside a writable folder"
        )
    return dest


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    Use for writers that want a filename (pyarrow, pysam, torch.save). On an exception the
    temporary file is removed and ``path`` is untouched.
    """
    dest = Path(path)
    check_writable(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise _not_writable(dest, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file for writing; rename it over ``path`` when the block succeeds."""
    binary = "b" in mode
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=None if binary else encoding, newline=None if binary else "\n") as fh:
            yield fh
            fh.flush()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (LF line endings)."""
    with atomic_open(path, "w") as fh:
        fh.write(text)


class StagedOutputs:
    """Several outputs committed all together or not at all.

    ``stage(path)`` checks ``path`` is writable (:func:`check_writable`) and returns a temporary
    name beside it; writers fill the temporary names. When the ``with`` block succeeds every
    staged file is renamed over its destination; when it fails every staged file is removed and no
    destination is touched. Destinations are checked before any work and must be distinct, so the
    final renames do not fail on a bad path.
    """

    def __init__(self) -> None:
        self._pairs: list[tuple[Path, Path]] = []

    def stage(self, path: str | os.PathLike[str], *, suffix: str = "", companions: tuple[str, ...] = ()) -> Path:
        """A temporary name for ``path`` (ending in ``suffix``); ``companions`` are extra suffixes written beside it (e.g. ``.tbi``)."""
        dest = check_writable(path)
        for _, other in self._pairs:
            if other.resolve() == dest.resolve():
                raise ResourceError("NOT_WRITABLE", f"two outputs name the same file {dest.name}", "give every output its own path")
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{len(self._pairs)}.staged{suffix}")
        self._pairs.append((tmp, dest))
        for extra in companions:
            self._pairs.append((Path(os.fspath(tmp) + extra), Path(os.fspath(dest) + extra)))
        return tmp

    def __enter__(self) -> "StagedOutputs":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            for tmp, dest in self._pairs:
                if tmp.exists():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tmp, dest)
            return
        for tmp, _ in self._pairs:
            with contextlib.suppress(OSError):
                tmp.unlink()
