"""The release invariants as functions, each returning a :class:`Verdict` (``gate-check`` records them).

=========  =========================================================================  ============
ID         Invariant                                                                  ledger step
=========  =========================================================================  ============
INV-REL-1  no breaking public-API change unless the MAJOR goes up (pre-1.0: a MINOR   ``inv_rel_1``
           stays strictly additive), against the last ``v*`` tag's snapshot
INV-REL-2  re-scoring the fixed input matches the committed baseline bit for bit      ``inv_rel_2``
INV-REL-3  CHANGELOG.md has a section for the version                                 ``inv_rel_3``
INV-REL-5  a public symbol removed since the last release was deprecated in a         ``inv_rel_5``
           release at least one MINOR earlier
INV-REL-6  the sdist carries the release assets                                       ``inv_rel_6``
=========  =========================================================================  ============

The last release's snapshot is read with ``git show TAG:docs/public-api.snapshot.json``. A snapshot
may carry a ``deprecated`` map (``module.symbol`` → reason) filled from the ``__deprecated__``
attribute that :func:`geno_lewm.versioning.deprecated` sets (:func:`snapshot_document`); INV-REL-5
looks for each removed symbol in the ``deprecated`` maps of every earlier ``v*`` tag. Every check
takes a ``project_root`` (a git checkout) so tests run them on a temporary repository.

INV-REL-1 and INV-REL-5 compare against the public API of ``project_root``'s *source*, not of the
package installed in the running environment: :func:`source_snapshot` runs the checkout's own
``geno_lewm.api.snapshot()`` in a subprocess with the checkout first on ``sys.path`` (no
``PYTHONPATH`` needed) and refuses (``RELEASE.API_SNAPSHOT``) when a public module would be imported
from anywhere else.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from ledger.errors import GenoError
from geno_lewm.api import deprecated_symbols, snapshot_document

SNAPSHOT_FILE: Final = "docs/public-api.snapshot.json"
_PEP440: Final = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?$")
_TAG: Final = re.compile(r"^v(\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)$")
KEEP_A_CHANGELOG_SECTIONS: Final = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


@dataclass
class Verdict:
    """The outcome of one invariant check."""

    invariant: str  # "INV-REL-1" …
    step: str  # ledger step name ("inv_rel_1" …)
    title: str  # what the invariant says, one line
    ok: bool  # True when it holds
    message: str  # one line: what was compared and the result
    code: str = ""  # error code when it fails (e.g. RELEASE.BIT_MATCH)
    details: list[str] = field(default_factory=list)  # each problem found

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


#: invariant id -> (ledger step, title).
INVARIANTS: Final[dict[str, tuple[str, str]]] = {
    "INV-REL-1": ("inv_rel_1", "a MINOR or PATCH makes no breaking public-API change"),
    "INV-REL-2": ("inv_rel_2", "re-scoring the fixed input matches the baseline bit for bit"),
    "INV-REL-3": ("inv_rel_3", "the release has a CHANGELOG section"),
    "INV-REL-5": ("inv_rel_5", "removed symbols were deprecated at least one MINOR earlier"),
    "INV-REL-6": ("inv_rel_6", "the sdist carries the release assets"),
}


def _verdict(inv: str, ok: bool, message: str, code: str = "", details: list[str] | None = None) -> Verdict:
    step, title = INVARIANTS[inv]
    return Verdict(inv, step, title, ok, message, code if not ok else "", list(details or []))


# --------------------------------------------------------------------------------------------
# Versions, tags and snapshots
# --------------------------------------------------------------------------------------------


def parse_version(text: str) -> tuple[int, int, int, str, int]:
    """``X.Y.Z`` with an optional PEP 440 pre-release (``a1``, ``b2``, ``rc1``) → a sortable tuple.

    A final release sorts after its pre-releases. Raises ``INPUT.VERSION`` on anything else.
    """
    from ledger.errors import InputError

    m = _PEP440.match(text or "")
    if not m:
        raise InputError("VERSION", f"{text!r} is not X.Y.Z or X.Y.Z(a|b|rc)N", "use a version such as 0.2.0 or 0.2.0rc1")
    pre = m[4] or "~"  # '~' sorts after 'a', 'b', 'rc': the final release comes last
    return int(m[1]), int(m[2]), int(m[3]), pre, int(m[5] or 0)


def read_version(project_root: str | os.PathLike[str]) -> str:
    """``__version__`` from ``geno_lewm/__init__.py`` under ``project_root`` (text, no import)."""
    from ledger.errors import InputError

    text = (Path(project_root) / "geno_lewm" / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__\s*=\s*"([^"]+)"', text, re.M)
    if not m:
        raise InputError("VERSION", 'geno_lewm/__init__.py has no __version__ = "…" line')
    return m[1]


def _git(project_root: str | os.PathLike[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(project_root), *args], capture_output=True, text=True)


def release_tags(project_root: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """``(tag, version)`` for every ``v*`` release tag of the repository, oldest version first."""
    proc = _git(project_root, "tag", "--list", "v*")
    if proc.returncode != 0:
        return []
    out = [(t, m[1]) for t in proc.stdout.split() if (m := _TAG.match(t))]
    return sorted(out, key=lambda tv: parse_version(tv[1]))


def last_release_tag(project_root: str | os.PathLike[str], version: str | None = None) -> tuple[str, str] | None:
    """The newest ``v*`` tag older than ``version`` (any, when ``version`` is None), or None."""
    tags = release_tags(project_root)
    if version is not None:
        cur = parse_version(version)
        tags = [tv for tv in tags if parse_version(tv[1]) < cur]
    return tags[-1] if tags else None


def snapshot_at(project_root: str | os.PathLike[str], tag: str) -> dict[str, Any] | None:
    """The snapshot document committed at ``tag`` (None when the tag has no snapshot file)."""
    proc = _git(project_root, "show", f"{tag}:{SNAPSHOT_FILE}")
    if proc.returncode != 0:
        return None
    return _snapshot_doc(json.loads(proc.stdout))


def _snapshot_doc(doc: Any) -> dict[str, Any]:
    from ledger.errors import InputError

    if not isinstance(doc, dict) or not isinstance(doc.get("symbols"), dict):
        raise InputError("BAD_SNAPSHOT", f"{SNAPSHOT_FILE} must be an object with a symbols map")
    dep = doc.get("deprecated", {})
    return {"symbols": dict(doc["symbols"]), "deprecated": dict(dep) if isinstance(dep, dict) else {}}


def committed_snapshot(project_root: str | os.PathLike[str]) -> dict[str, Any]:
    """The snapshot document in the working tree of ``project_root``."""
    return _snapshot_doc(json.loads((Path(project_root) / SNAPSHOT_FILE).read_text(encoding="utf-8")))


def _baseline_snapshot(project_root: Path, version: str) -> tuple[dict[str, Any], str]:
    last = last_release_tag(project_root, version)
    if last is not None:
        doc = snapshot_at(project_root, last[0])
        if doc is not None:
            return doc, f"the last release tag {last[0]}"
        return committed_snapshot(project_root), f"the committed snapshot ({last[0]} has no {SNAPSHOT_FILE})"
    return committed_snapshot(project_root), "the committed snapshot (no v* release tag yet)"


#: Run in a subprocess with the checkout as argv[1]: print the checkout's public API as JSON.
_SNAPSHOT_PROBE: Final = """
import json, sys
from pathlib import Path
root = Path(sys.argv[1]).resolve()
sys.path[:0] = [str(root)]
import geno_lewm.api as api
foreign = []
for name in api.PUBLIC_MODULES:
    __import__(name)
    f = Path(sys.modules[name].__file__).resolve()
    if not f.is_relative_to(root):
        foreign.append(name + " from " + f.name)
print(json.dumps({"symbols": api.snapshot(), "foreign": foreign}))
"""


def source_snapshot(project_root: str | os.PathLike[str]) -> dict[str, str]:
    """The public API snapshot of ``project_root``'s source (its own ``geno_lewm.api``), not the installed package.

    Runs ``geno_lewm.api.snapshot()`` of the checkout in a fresh interpreter with the checkout first
    on ``sys.path`` and ``PYTHONPATH`` cleared. Raises ``RELEASE.API_SNAPSHOT`` when the checkout
    has no importable ``geno_lewm.api`` or a public module resolves outside the checkout.
    """
    from ledger.errors import ReleaseError

    root = Path(project_root).resolve()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", _SNAPSHOT_PROBE, str(root)], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ReleaseError(
            "API_SNAPSHOT",
            f"cannot extract the public API of the checkout's source ({tail})",
            "gate-check needs a checkout whose geno_lewm/ and ledger/ import (python -m geno_lewm.api --check there)",
        )
    doc = json.loads(proc.stdout)
    if doc["foreign"]:
        raise ReleaseError(
            "API_SNAPSHOT",
            f"public modules resolve outside the checkout: {', '.join(doc['foreign'])}",
            "the checkout must hold every module in geno_lewm.api.PUBLIC_MODULES",
        )
    return dict(doc["symbols"])


# --------------------------------------------------------------------------------------------
# The invariants
# --------------------------------------------------------------------------------------------


def check_public_api(project_root: str | os.PathLike[str], *, version: str | None = None, current: dict[str, str] | None = None) -> Verdict:
    """INV-REL-1: no removal or signature change unless the MAJOR goes up (pre-1.0 MINORs are additive).

    ``current`` overrides the checkout's source snapshot (:func:`source_snapshot`).
    """
    from geno_lewm.api import breaking_changes

    root = Path(project_root)
    version = version or read_version(root)
    old, source = _baseline_snapshot(root, version)
    now = current if current is not None else source_snapshot(root)
    problems = breaking_changes(old["symbols"], now)
    last = last_release_tag(root, version)
    major_bump = last is not None and parse_version(version)[0] > parse_version(last[1])[0]
    if problems and not major_bump:
        return _verdict(
            "INV-REL-1",
            False,
            f"{len(problems)} breaking change(s) against {source} in {version} (breaking changes need a MAJOR)",
            "RELEASE.INV_REL_1",
            problems,
        )
    note = f"; {len(problems)} breaking change(s) allowed by the MAJOR bump" if problems else ""
    return _verdict("INV-REL-1", True, f"public API of {version} vs {source}: {len(now)} symbols, no breaking change{note}", details=problems)


def check_changelog(project_root: str | os.PathLike[str], *, version: str | None = None) -> Verdict:
    """INV-REL-3: ``## [version]`` in CHANGELOG.md with at least one bullet under a Keep a Changelog subsection.

    A pre-release (``a``/``b``/``rc``) may still use the ``[Unreleased]`` section (it rolls into the
    GA section at tag time).
    """
    root = Path(project_root)
    version = version or read_version(root)
    path = root / "CHANGELOG.md"
    if not path.is_file():
        return _verdict("INV-REL-3", False, "CHANGELOG.md is missing", "RELEASE.INV_REL_3")
    text = path.read_text(encoding="utf-8")
    names = [version] + (["Unreleased"] if parse_version(version)[3] != "~" else [])
    for name in names:
        body = changelog_section(text, name)
        if body is None:
            continue
        bad = [h for h in re.findall(r"^### (.+)$", body, re.M) if h.strip() not in KEEP_A_CHANGELOG_SECTIONS]
        if bad:
            return _verdict("INV-REL-3", False, f"CHANGELOG section [{name}] has non-standard subsections: {', '.join(bad)}", "RELEASE.INV_REL_3")
        if not re.search(r"^### ", body, re.M) or not re.search(r"^\s*[-*] \S", body, re.M):
            return _verdict("INV-REL-3", False, f"CHANGELOG section [{name}] has no entries", "RELEASE.INV_REL_3")
        return _verdict("INV-REL-3", True, f"CHANGELOG.md has a section [{name}] for {version}")
    return _verdict("INV-REL-3", False, f"CHANGELOG.md has no section for {version}", "RELEASE.INV_REL_3", [f"expected a heading '## [{version}]'"])


def changelog_section(text: str, name: str) -> str | None:
    """The body of ``## [name]`` (up to the next ``## ``), or None when absent."""
    m = re.search(rf"^## \[{re.escape(name)}\][^\n]*\n", text, re.M)
    if not m:
        return None
    rest = text[m.end() :]
    nxt = re.search(r"^## ", rest, re.M)
    return rest[: nxt.start()] if nxt else rest


def check_deprecations(project_root: str | os.PathLike[str], *, version: str | None = None, current: dict[str, str] | None = None) -> Verdict:
    """INV-REL-5: every symbol of the last release absent now was deprecated ≥ one MINOR before ``version``.

    "Now" is the checkout's source snapshot (:func:`source_snapshot`) unless ``current`` is given.
    """
    root = Path(project_root)
    version = version or read_version(root)
    old, source = _baseline_snapshot(root, version)
    now = current if current is not None else source_snapshot(root)
    removed = sorted(set(old["symbols"]) - set(now))
    if not removed:
        return _verdict("INV-REL-5", True, f"no public symbol removed since {source}")
    cur = parse_version(version)
    tags = [tv for tv in release_tags(root) if parse_version(tv[1]) < cur]
    first_deprecated: dict[str, tuple[str, str]] = {}
    for tag, tag_version in tags:  # oldest first: keep the earliest release that deprecated it
        doc = snapshot_at(root, tag)
        for sym in (doc or {}).get("deprecated", {}):
            first_deprecated.setdefault(sym, (tag, tag_version))
    problems = []
    for sym in removed:
        hit = first_deprecated.get(sym)
        if hit is None:
            problems.append(f"{sym}: removed without a deprecation in any release")
        elif parse_version(hit[1])[:2] >= cur[:2]:
            problems.append(f"{sym}: deprecated in {hit[0]} and removed in {version}, within the same MINOR")
    if problems:
        return _verdict(
            "INV-REL-5", False, f"{len(problems)} symbol(s) removed since {source} without a full MINOR of deprecation", "RELEASE.INV_REL_5", problems
        )
    return _verdict("INV-REL-5", True, f"{len(removed)} symbol(s) removed since {source}, each deprecated at least one MINOR earlier", details=removed)


def check_bit_match_invariant(project_root: str | os.PathLike[str], *, model_dir: str | os.PathLike[str] | None = None, threads: int | None = None) -> Verdict:
    """INV-REL-2: :func:`tools.release.gate.bit_match.check_bit_match` as a verdict."""
    from tools.release.gate.bit_match import check_bit_match

    try:
        res = check_bit_match(project_root, model_dir=model_dir, threads=threads)
    except GenoError as err:
        return _verdict("INV-REL-2", False, err.message, err.code)
    return _verdict(
        "INV-REL-2", True, f"{res['rows']} score rows and {res['commitments']} output commitments match the baseline (model {res['model_id'][:12]}…)"
    )


def check_sdist(project_root: str | os.PathLike[str], *, sdist: str | os.PathLike[str] | None = None) -> Verdict:
    """INV-REL-6: :func:`tools.release.check_sdist_assets.check_sdist_assets` as a verdict."""
    from tools.release.check_sdist_assets import check_sdist_assets

    try:
        res = check_sdist_assets(project_root, sdist=sdist)
    except GenoError as err:
        return _verdict("INV-REL-6", False, err.message, err.code)
    return _verdict("INV-REL-6", True, f"{res['archive']}: {res['members']} files, all release assets present")


#: invariant id -> check taking (project_root, options dict).
CHECKS: Final[dict[str, Callable[[Path, dict[str, Any]], Verdict]]] = {
    "INV-REL-1": lambda root, o: check_public_api(root, version=o.get("version"), current=o.get("current")),
    "INV-REL-2": lambda root, o: check_bit_match_invariant(root, model_dir=o.get("model_dir"), threads=o.get("threads")),
    "INV-REL-3": lambda root, o: check_changelog(root, version=o.get("version")),
    "INV-REL-5": lambda root, o: check_deprecations(root, version=o.get("version"), current=o.get("current")),
    "INV-REL-6": lambda root, o: check_sdist(root, sdist=o.get("sdist")),
}

__all__ = [
    "CHECKS",
    "INVARIANTS",
    "Verdict",
    "changelog_section",
    "check_bit_match_invariant",
    "check_changelog",
    "check_deprecations",
    "check_public_api",
    "check_sdist",
    "committed_snapshot",
    "deprecated_symbols",
    "last_release_tag",
    "parse_version",
    "read_version",
    "release_tags",
    "snapshot_at",
    "snapshot_document",
    "source_snapshot",
]
