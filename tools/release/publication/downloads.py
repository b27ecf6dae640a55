"""Downloads that verify: safe destinations, SHA-256 and size compared with what a report expects."""

from __future__ import annotations
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from ledger.errors import InputError, ProvenanceError, ResourceError
from ledger.fsutil import atomic_path
from ledger.identity import check_public_path, is_sha256_hex, sha256_file


def safe_destination(root: str | os.PathLike[str], rel: str, what: str = "destination") -> Path:
    """``root / rel`` after refusing an unsafe ``rel`` (``INPUT.UNSAFE_PATH``): absolute, ``..``, backslash, escape."""
    check_public_path(rel, what)
    base = Path(root).resolve()
    dest = (base / rel).resolve()
    try:
        dest.relative_to(base)
    except ValueError:
        raise InputError("UNSAFE_PATH", f"{what} {rel!r} escapes its directory", "the plan must name package-relative files only") from None
    return base / rel


def check_expected(entry: Mapping[str, Any], where: str) -> None:
    """Refuse a plan entry whose expected sha256/size are malformed (``PROVENANCE.BAD_DIGEST``)."""
    if not is_sha256_hex(entry.get("sha256")):
        raise ProvenanceError(
            "BAD_DIGEST", f"{where}: expected sha256 {str(entry.get('sha256'))[:70]!r} is not 64 lower-case hex characters", "regenerate the plan and candidate"
        )
    if not isinstance(entry.get("size"), int) or isinstance(entry.get("size"), bool) or entry["size"] < 0:
        raise ProvenanceError("BAD_DIGEST", f"{where}: expected size {entry.get('size')!r} is not a byte count", "regenerate the plan and candidate")


def _fetch(url: str, dest: Path) -> tuple[str, int]:
    from geno_lewm.distribution.fetch import fetch_to_file, public_url

    try:
        return fetch_to_file(url, dest)
    except ResourceError as err:
        if "404" in err.message or "Not Found" in err.message:
            raise ProvenanceError(
                "PUBLIC_FILE_MISSING", f"{public_url(url)} is not published (HTTP 404)", "publish the planned file, or regenerate the plan"
            ) from None
        raise


def download_verified(url: str, dest: Path, expected: Mapping[str, Any], label: str) -> dict[str, Any]:
    """Download ``url`` to ``dest`` (atomically) and require the expected sha256 and size.

    Raises ``PROVENANCE.PUBLIC_FILE_MISSING`` (404), ``PROVENANCE.PUBLIC_HASH_MISMATCH`` (bytes
    differ; nothing is left at ``dest``) or ``RESOURCE.FETCH_FAILED``.
    """
    check_expected(expected, label)
    with atomic_path(dest) as tmp_path:
        digest, size = _fetch(url, tmp_path)
        if digest != expected["sha256"] or size != expected["size"]:
            raise ProvenanceError(
                "PUBLIC_HASH_MISMATCH",
                f"{label}: published bytes differ from the plan (sha256 {digest[:12]}… size {size}; planned {expected['sha256'][:12]}… size {expected['size']})",
                "re-publish the verified file or regenerate the plan from the package",
            )
    return {"sha256": digest, "size": size}


def fetch_digest(url: str) -> tuple[str, int]:
    """SHA-256 and size of the bytes at ``url`` (streamed through a temporary file, then removed)."""
    with tempfile.TemporaryDirectory(prefix="geno-lewm-public-") as d:
        return _fetch(url, Path(d) / "body")


def named_identity(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{name, sha256, size}`` of a report file, by public-safe file name (no directory)."""
    p = Path(path)
    if not p.is_file():
        raise InputError("MISSING_FILE", f"{p.name} not found", "produce it with the step that writes it")
    digest, size = sha256_file(p)
    return {"name": p.name, "sha256": digest, "size": size}
