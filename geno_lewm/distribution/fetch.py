"""Small, explicit HTTP(S) fetching for the commands allowed to use the network.

Only ``geno-lewm-update`` and the publication steps fetch anything. URLs must be http(s); a token
(``HF_TOKEN``) is sent only to Hugging Face hosts and never written anywhere. Downloads stream to a
temporary file and are hashed on the way.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ledger.errors import InputError, ResourceError

DEFAULT_TIMEOUT_S = 30.0
MAX_JSON_BYTES = 16 << 20
_HF_HOSTS = ("huggingface.co", "hf.co")


def check_url(url: str, what: str = "URL") -> str:
    """Return ``url`` if it is an absolute http(s) URL, else raise ``INPUT.BAD_URL``."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise InputError("BAD_URL", f"{what} {url!r} is not an http(s) URL", "give a full https:// address")
    return url


def _request(url: str) -> urllib.request.Request:
    req = urllib.request.Request(check_url(url), headers={"User-Agent": "geno-lewm"})
    host = urllib.parse.urlparse(url).hostname or ""
    token = os.environ.get("HF_TOKEN")
    if token and (host in _HF_HOSTS or host.endswith(tuple("." + h for h in _HF_HOSTS))):
        req.add_header("Authorization", f"Bearer {token}")
    return req


def public_url(url: str) -> str:
    """``url`` without userinfo, query or fragment: safe to print or record."""
    p = urllib.parse.urlparse(url)
    host = p.hostname or ""
    netloc = host + (f":{p.port}" if p.port else "")
    return urllib.parse.urlunparse((p.scheme, netloc, p.path, "", "", ""))


def fetch_bytes(url: str, *, limit: int = MAX_JSON_BYTES, timeout: float = DEFAULT_TIMEOUT_S) -> bytes:
    """GET ``url`` into memory (at most ``limit`` bytes); ``RESOURCE.FETCH_FAILED`` on any failure."""
    try:
        with urllib.request.urlopen(_request(url), timeout=timeout) as resp:  # noqa: S310 - scheme checked
            data = resp.read(limit + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ResourceError("FETCH_FAILED", f"could not fetch {public_url(url)}: {exc}", "check the URL and your connection") from None
    if len(data) > limit:
        raise ResourceError("FETCH_TOO_LARGE", f"{public_url(url)} is larger than {limit} bytes")
    return data


def fetch_to_file(url: str, dest: Path, *, timeout: float = DEFAULT_TIMEOUT_S) -> tuple[str, int]:
    """Stream ``url`` into ``dest`` (created fresh); return (sha256 hex, size)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(_request(url), timeout=timeout) as resp, open(dest, "wb") as out:  # noqa: S310
            while chunk := resp.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ResourceError("FETCH_FAILED", f"could not fetch {public_url(url)}: {exc}", "check the URL and your connection") from None
    return digest.hexdigest(), size
