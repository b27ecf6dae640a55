"""Preparing a release version: semver check, version bump, CHANGELOG draft and the PR body.

Declared as the release step ``geno-lewm-release prepare --version X.Y.Z``.

1. **Semver check** against the last ``v*`` tag and the public-API snapshot: the new version must
   be newer than the last release and not older than ``__version__``; a breaking change needs a
   MAJOR (pre-1.0 MINORs stay strictly additive — the release page's commitment), and a PATCH may
   not add public symbols either (additions need a MINOR).
2. **Version**: ``__version__`` in ``geno_lewm/__init__.py`` and ``version`` in ``pyproject.toml``
   are rewritten together (both patterns are found before either file is written).
3. **CHANGELOG**: a ``## [X.Y.Z] - YYYY-MM-DD`` section is drafted from ``git log LAST..HEAD
   --no-merges`` (:mod:`tools.release.changelog`), merged after the curated ``[Unreleased]``
   entries, which roll into it; ``[Unreleased]`` is left empty. An existing section is kept.
4. **PR body** (stdout): version, bump kind, gate states from the ledger, the CHANGELOG section.

Recorded as the ``prepare`` step (outputs: the three files, when under the artifact root). Every
function takes ``project_root`` so tests run on a temporary copy of the repository.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from ledger.errors import InputError, ReleaseError
from ledger.fsutil import atomic_write_text

from tools.release.engine.context import ReleaseContext
from tools.release.gate.invariants import KEEP_A_CHANGELOG_SECTIONS, changelog_section, last_release_tag, parse_version, read_version
from tools.release.engine.recording import StepRun

STEP: Final = "prepare"
_INIT_VERSION: Final = re.compile(r'^(__version__\s*=\s*")([^"]+)(")', re.M)
_PYPROJECT_VERSION: Final = re.compile(r'(\[project\][^\[]*?^version\s*=\s*")([^"]+)(")', re.M | re.S)


@dataclass
class PrepareResult:
    """What ``prepare`` did."""

    version: str  # the new version
    previous_version: str  # __version__ before
    last_tag: str | None  # the last v* tag compared against
    bump: str  # major | minor | patch | prerelease
    changelog_section: str  # the section text for the version
    changelog_written: bool  # False when the section already existed
    api_additions: list[str]  # public symbols added since the last release
    api_breaking: list[str]  # breaking changes since the last release

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


def bump_kind(old: str, new: str) -> str:
    """``major``, ``minor``, ``patch`` or ``prerelease`` (same X.Y.Z) going from ``old`` to ``new``."""
    a, b = parse_version(old), parse_version(new)
    if b[0] != a[0]:
        return "major"
    if b[1] != a[1]:
        return "minor"
    if b[2] != a[2]:
        return "patch"
    return "prerelease"


def check_semver(version: str, *, previous: str, last_release: str | None, breaking: list[str], additions: list[str]) -> str:
    """Validate ``version`` for the change; return the bump kind (``RELEASE.SEMVER`` naming the rule broken)."""
    new = parse_version(version)
    if new < parse_version(previous):
        raise ReleaseError("SEMVER", f"{version} is older than the current version {previous}", "choose a newer version")
    if last_release is None:
        return bump_kind(previous, version) if new != parse_version(previous) else "prerelease"
    if new <= parse_version(last_release):
        raise ReleaseError("SEMVER", f"{version} is not newer than the last release {last_release}", "choose a version after the last tag")
    kind = bump_kind(last_release, version)
    if breaking and kind != "major":
        shown = "; ".join(breaking[:5])
        why = "pre-1.0 MINOR bumps stay strictly additive (the release page's commitment)" if new[0] == 0 else "a breaking change needs a MAJOR"
        raise ReleaseError(
            "SEMVER",
            f"{version} is a {kind} bump but the public API has {len(breaking)} breaking change(s): {shown}",
            f"{why}; restore the symbols (deprecate first), or release a MAJOR",
        )
    if additions and kind == "patch":
        raise ReleaseError(
            "SEMVER", f"{version} is a PATCH but {len(additions)} public symbol(s) were added: {', '.join(additions[:5])}", "additive changes need a MINOR"
        )
    return kind


def set_version(project_root: str | os.PathLike[str], version: str) -> None:
    """Rewrite ``__version__`` and ``pyproject.toml``'s ``[project] version`` together."""
    root = Path(project_root)
    init, pyproject = root / "geno_lewm" / "__init__.py", root / "pyproject.toml"
    texts = {}
    for path, pattern in ((init, _INIT_VERSION), (pyproject, _PYPROJECT_VERSION)):
        if not path.is_file():
            raise InputError("MISSING_FILE", f"{path.relative_to(root).as_posix()} not found", "run from the project root or pass --project-root")
        text = path.read_text(encoding="utf-8")
        if not pattern.search(text):
            raise InputError("VERSION", f"no version line found in {path.name}", "restore the version line")
        texts[path] = pattern.sub(lambda m: f"{m[1]}{version}{m[3]}", text, count=1)
    for path, text in texts.items():
        atomic_write_text(path, text)


def git_subjects_since(project_root: str | os.PathLike[str], tag: str | None) -> list[str]:
    """Commit subjects since ``tag`` (whole history when None), no merges (``INPUT.GIT_LOG`` on failure)."""
    from tools.release.changelog import git_subjects

    if tag is not None:
        return git_subjects(tag, project_root)
    proc = subprocess.run(["git", "-C", str(project_root), "log", "--no-merges", "--format=%s"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputError("GIT_LOG", f"git log failed: {proc.stderr.strip()[:200]}", "run inside a git checkout")
    return proc.stdout.splitlines()


def _entries(body: str) -> dict[str, list[str]]:
    """``{subsection: [entry text (multi-line bullets kept whole)]}`` of a CHANGELOG section body."""
    out: dict[str, list[str]] = {}
    current: str | None = None
    for line in body.splitlines():
        if line.startswith("### "):
            current = line[4:].strip()
            out.setdefault(current, [])
        elif current is not None and re.match(r"^[-*] ", line):
            out[current].append(line)
        elif current is not None and line.startswith(" ") and out[current]:
            out[current][-1] += "\n" + line
    return out


def merge_sections(curated: str, drafted: str) -> str:
    """Curated entries first, then drafted ones not already present, in Keep a Changelog order."""
    a, b = _entries(curated), _entries(drafted)
    lines: list[str] = []
    for sec in KEEP_A_CHANGELOG_SECTIONS:
        items = list(a.get(sec, []))
        have = {i.split("\n", 1)[0].lstrip("-* ").strip().lower() for i in items}
        items += [i for i in b.get(sec, []) if i.split("\n", 1)[0].lstrip("-* ").strip().lower() not in have]
        if items:
            lines += [f"### {sec}", *items, ""]
    return "\n".join(lines)


def write_changelog(project_root: str | os.PathLike[str], version: str, drafted_body: str, *, date: str) -> tuple[str, bool]:
    """Add ``## [version] - date`` (Unreleased entries roll into it); return (section text, written)."""
    path = Path(project_root) / "CHANGELOG.md"
    if not path.is_file():
        raise InputError("MISSING_FILE", "CHANGELOG.md not found", "a release without a CHANGELOG entry is not a release: create it")
    text = path.read_text(encoding="utf-8")
    existing = changelog_section(text, version)
    if existing is not None:
        return existing.strip("\n"), False
    unreleased = changelog_section(text, "Unreleased")
    body = merge_sections(unreleased or "", drafted_body)
    if not body.strip():
        raise ReleaseError(
            "EMPTY_CHANGELOG",
            f"nothing to put in the CHANGELOG section for {version}: no commits since the last tag and no Unreleased entries",
            "commit the release's changes first",
        )
    section = f"## [{version}] - {date}\n\n{body}"
    m = re.search(r"^## \[Unreleased\][^\n]*\n", text, re.M)
    if m:
        rest = text[m.end() :]
        nxt = re.search(r"^## ", rest, re.M)
        tail = rest[nxt.start() :] if nxt else ""
        new = text[: m.end()] + "\n" + section + ("\n" + tail if tail else "")
    else:
        first = re.search(r"^## ", text, re.M)
        at = first.start() if first else len(text)
        new = text[:at] + "## [Unreleased]\n\n" + section + "\n" + text[at:]
    atomic_write_text(path, new.rstrip("\n") + "\n")
    return section.strip("\n"), True


def pr_body(result: PrepareResult, gates_text: str) -> str:
    """The release-PR body: version, bump, API summary, gate states, CHANGELOG section, checklist."""
    api = f"{len(result.api_additions)} public symbol(s) added, {len(result.api_breaking)} breaking change(s)"
    since = f"since {result.last_tag}" if result.last_tag else "(no previous release tag)"
    return "\n".join(
        [
            f"# Release v{result.version}",
            "",
            f"- Version: {result.previous_version} → **{result.version}** ({result.bump} {since})",
            f"- Public API: {api}",
            "- Updated together: `geno_lewm/__init__.py` (`__version__`) and `pyproject.toml`",
            "",
            "## Gate states (from the ledger)",
            "",
            "```",
            gates_text.rstrip("\n"),
            "```",
            "",
            "## CHANGELOG",
            "",
            result.changelog_section,
            "",
            "## Checklist",
            "",
            "- [ ] `geno-lewm-release gate-check` passes (INV-REL-1, -2, -3, -5, -6)",
            "- [ ] CHANGELOG section curated (Added / Changed / Deprecated / Removed / Fixed / Security)",
            "- [ ] Sign-off from a non-author maintainer",
            f"- [ ] After merge: tag `v{result.version}`",
            "",
        ]
    )


def prepare(
    ctx: ReleaseContext | None,
    project_root: str | os.PathLike[str],
    version: str,
    *,
    current: dict[str, str] | None = None,
    date: str | None = None,
    argv: list[str] | None = None,
) -> PrepareResult:
    """Check, bump, draft; record as step ``prepare`` when ``ctx`` records. ``current`` overrides the live API snapshot."""
    from geno_lewm.api import breaking_changes, snapshot

    from tools.release.changelog import draft
    from tools.release.gate.invariants import committed_snapshot, snapshot_at

    root = Path(project_root)
    parse_version(version)
    previous = read_version(root)
    last = last_release_tag(root, version)
    old = (snapshot_at(root, last[0]) if last else None) or committed_snapshot(root)
    now = current if current is not None else snapshot()
    breaking = breaking_changes(old["symbols"], now)
    additions = sorted(set(now) - set(old["symbols"]))

    def work(run: StepRun | None) -> PrepareResult:
        kind = check_semver(version, previous=previous, last_release=last[1] if last else None, breaking=breaking, additions=additions)
        drafted = draft(git_subjects_since(root, last[0] if last else None), version)
        drafted_body = drafted.split("\n", 2)[2] if drafted.count("\n") >= 2 else ""
        set_version(root, version)
        section, written = write_changelog(root, version, drafted_body, date=date or datetime.now(UTC).strftime("%Y-%m-%d"))
        if run is not None:
            for rel in ("geno_lewm/__init__.py", "pyproject.toml", "CHANGELOG.md"):
                if run.ctx.holds(root / rel):
                    run.output(root / rel)
        return PrepareResult(version, previous, last[0] if last else None, kind, section, written, additions, breaking)

    if ctx is None or not ctx.record:
        return work(None)
    with StepRun(ctx, STEP, ["geno-lewm-release", "prepare", *(argv or [])]) as run:
        return work(run)
