"""Yanking a released model: the ledger event, the revocation list generated from the ledger, the CHANGELOG entry.

Declared as the release step ``geno-lewm-release yank``.

``yank --model-id ID --reason TEXT [--upgrade-to ID]``:

1. appends a signed ``model_yanked`` event (inside a recorded ``yank`` step);
2. regenerates the revocation list **from the ledger** — every ``model_yanked`` event, in ledger
   order, one entry per model id — and writes it atomically::

       {"schema_version": "1.0.0", "generated_by": "tools.release.yank",
        "yanked": [{"model_id": "…", "reason": "…", "upgrade_to": "…"}]}

   ``geno-lewm-verify-receipts --revocation-list FILE`` reads it and warns ``model_yanked``;
   receipts of a yanked model still verify against its manifest;
3. adds a CHANGELOG entry under ``## [Unreleased]`` → ``### Removed``: the yank, its reason and
   the upgrade path (the release page: "The CHANGELOG records the yank, the reason, and the
   upgrade path").

Yanking the same model twice is ``INPUT.ALREADY_YANKED``. Importable: :func:`yank`,
:func:`revocation_list`, :func:`write_revocation_list`, :func:`add_changelog_entry`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Final

from ledger.errors import InputError
from ledger.fsutil import atomic_write_text

from tools.release.engine.context import ReleaseContext
from tools.release.engine.recording import StepRun

GENERATED_BY: Final = "tools.release.yank"
SCHEMA_VERSION: Final = "1.0.0"
STEP: Final = "yank"
DEFAULT_LIST_NAME: Final = "revocation-list.json"
_MODEL_ID: Final = re.compile(r"^[0-9a-f]{64}$")


def _check_model_ref(text: str, flag: str, *, allow_empty: bool) -> str:
    """A model id (64 hex) or a release id (``geno-lewm-v…``); empty when allowed."""
    if text == "" and allow_empty:
        return text
    if _MODEL_ID.match(text):
        return text
    if text.startswith("geno-lewm-v"):
        from geno_lewm.versioning import ReleaseId

        return str(ReleaseId.parse(text))
    raise InputError(
        "BAD_MODEL_ID",
        f"{flag} {text[:80]!r} is neither a model id (64 lowercase hex) nor a release id",
        "model_id is the sha256 of the package's manifest.json (see geno-lewm-verify-receipts --json)",
    )


def revocation_list(ledger) -> dict[str, Any]:
    """The revocation list derived from ``ledger``'s ``model_yanked`` events (first yank of each id wins)."""
    seen: dict[str, dict[str, str]] = {}
    for ev in ledger.events(kinds=["model_yanked"]):
        d = ev.data
        seen.setdefault(d["model_id"], {"model_id": d["model_id"], "reason": d["reason"], "upgrade_to": d.get("upgrade_to", "")})
    return {"schema_version": SCHEMA_VERSION, "generated_by": GENERATED_BY, "yanked": list(seen.values())}


def write_revocation_list(ledger, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Write :func:`revocation_list` of ``ledger`` to ``path`` atomically; return the document."""
    doc = revocation_list(ledger)
    atomic_write_text(path, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return doc


def changelog_line(model_id: str, reason: str, upgrade_to: str) -> str:
    """The CHANGELOG bullet recording a yank."""
    upgrade = f"upgrade to `{upgrade_to}`" if upgrade_to else "no replacement yet"
    return f"- Yanked model `{model_id}`: {reason.strip()} ({upgrade}; `geno-lewm-verify-receipts --revocation-list` warns `model_yanked`)."


def add_changelog_entry(changelog: str | os.PathLike[str], line: str) -> bool:
    """Insert ``line`` under ``## [Unreleased]`` → ``### Removed`` (created in Keep a Changelog order).

    Returns False when the line is already there. ``INPUT.MISSING_FILE`` when the file is missing.
    """
    from tools.release.gate.invariants import KEEP_A_CHANGELOG_SECTIONS

    path = Path(changelog)
    if not path.is_file():
        raise InputError("MISSING_FILE", f"{path.name} not found", "pass --changelog or run from the project root")
    text = path.read_text(encoding="utf-8")
    if line in text:
        return False
    lines = text.splitlines()
    head = next((i for i, s in enumerate(lines) if re.match(r"^## \[Unreleased\]", s)), None)
    if head is None:
        first = next((i for i, s in enumerate(lines) if s.startswith("## ")), len(lines))
        lines[first:first] = ["## [Unreleased]", ""]
        head = first
    end = next((i for i in range(head + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    subs = {lines[i][4:].strip(): i for i in range(head + 1, end) if lines[i].startswith("### ")}
    if "Removed" in subs:
        i = subs["Removed"] + 1
        while i < end and not lines[i].startswith("### ") and not lines[i].startswith("## "):
            i += 1
        while i > subs["Removed"] + 1 and not lines[i - 1].strip():
            i -= 1
        lines[i:i] = [line]
    else:
        order = KEEP_A_CHANGELOG_SECTIONS.index("Removed")
        later = [subs[s] for s in KEEP_A_CHANGELOG_SECTIONS[order + 1 :] if s in subs]
        at = min(later) if later else end
        while at > head + 1 and not lines[at - 1].strip() and not later:
            at -= 1
        block = ["### Removed", line, ""]
        if lines[at - 1].strip():
            block.insert(0, "")
        lines[at:at] = block
    atomic_write_text(path, "\n".join(lines).rstrip("\n") + "\n")
    return True


def yank(
    ctx: ReleaseContext,
    *,
    model_id: str,
    reason: str,
    upgrade_to: str = "",
    changelog: str | os.PathLike[str] | None = None,
    output: str | os.PathLike[str] | None = None,
    argv: list[str] | None = None,
) -> dict[str, Any]:
    """Record the yank, regenerate the revocation list from the ledger, add the CHANGELOG entry.

    ``output`` defaults to ``revocation-list.json`` under the artifact root, ``changelog`` to
    ``CHANGELOG.md`` under it. Returns ``{revocation_list, yanked, changelog_updated}``.
    """
    model_id = _check_model_ref(model_id, "--model-id", allow_empty=False)
    if not _MODEL_ID.match(model_id):
        raise InputError(
            "BAD_MODEL_ID",
            "--model-id must be a model id (64 lowercase hex), the cryptographic source of truth",
            "a release id may be given to --upgrade-to only",
        )
    upgrade_to = _check_model_ref(upgrade_to or "", "--upgrade-to", allow_empty=True)
    if upgrade_to == model_id:
        raise InputError("BAD_MODEL_ID", "--upgrade-to names the yanked model itself")
    if not reason.strip():
        raise InputError("EMPTY_REASON", "--reason must say why the model is yanked")
    out = Path(output) if output is not None else ctx.artifact_root / DEFAULT_LIST_NAME
    log_path = Path(changelog) if changelog is not None else ctx.artifact_root / "CHANGELOG.md"
    if not log_path.is_file():
        raise InputError("MISSING_FILE", f"{log_path.name} not found", "pass --changelog PATH")
    ledger, signer = ctx.ledger(), ctx.signer()
    if any(ev.data["model_id"] == model_id for ev in ledger.events(kinds=["model_yanked"])):
        raise InputError("ALREADY_YANKED", f"model {model_id[:16]}… is already yanked in this ledger", "the revocation list already names it")
    with StepRun(ctx, STEP, ["geno-lewm-release", "yank", *(argv or [])]) as run:
        ledger.append("model_yanked", {"model_id": model_id, "reason": reason.strip(), "upgrade_to": upgrade_to}, signer)
        doc = write_revocation_list(ledger, out)
        updated = add_changelog_entry(log_path, changelog_line(model_id, reason, upgrade_to))
        for p in (out, log_path):
            if ctx.holds(p):
                run.output(p)
    return {"revocation_list": out.name, "yanked": [e["model_id"] for e in doc["yanked"]], "changelog_updated": updated}
