"""Public reports: no token value, home path or private path is ever written (:func:`write_public_report`)."""

from __future__ import annotations
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from ledger.errors import InputError
from ledger.reports import check_public_report, write_report


#: Environment variables whose values are credentials (never written anywhere).
SECRET_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Credential values present in the environment (only values long enough to be real tokens)."""
    env = os.environ if env is None else env
    return [env[k] for k in SECRET_ENV if len(env.get(k, "")) >= 8]


def check_no_secrets(text: str, name: str, secrets: Iterable[str] | None = None) -> None:
    """Raise ``RELEASE.SECRET_IN_REPORT`` when ``text`` contains a credential value."""
    from ledger.errors import ReleaseError

    for s in secret_values() if secrets is None else secrets:
        if s and s in text:
            raise ReleaseError(
                "SECRET_IN_REPORT",
                f"{name} would contain a credential value; nothing was written",
                "never pass tokens as flags or file contents; use the environment",
            )


_HOME_INSIDE = re.compile(r"(^|[\s=:,;'\"(\[])~[A-Za-z0-9_.-]*/")


def check_no_home(text: str, name: str) -> None:
    """Raise ``INPUT.PRIVATE_PATH`` when ``text`` holds a ``~/`` home path anywhere or this machine's home directory."""
    home = str(Path.home())
    if _HOME_INSIDE.search(text) or (len(home) > 1 and home in text):
        raise InputError("PRIVATE_PATH", f"{name} would contain a home-directory path; nothing was written", "record paths relative to the package root")


def write_public_report(path: str | os.PathLike[str], doc: Mapping[str, Any], *, generated_by: str) -> dict[str, Any]:
    """:func:`ledger.reports.write_report` after refusing private paths, home paths and credential values."""
    import json

    check_public_report(doc, Path(path).name)
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False)
    check_no_home(text, Path(path).name)
    check_no_secrets(text, Path(path).name)
    return write_report(path, doc, generated_by=generated_by)
