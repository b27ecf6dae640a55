"""``python -m tools.release.changelog --since REF``: draft CHANGELOG sections from git history.

Reads ``git log REF..HEAD --no-merges`` subjects and sorts them into Keep a Changelog sections by
conventional keywords (``feat``/``add`` → Added, ``fix`` → Fixed, ``deprecate`` → Deprecated,
``remove``/``drop`` → Removed, ``security``/``CVE`` → Security, everything else → Changed). The
draft is for a maintainer to curate; it is printed or written with ``--output``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tools.release.engine.declare import Flag, Step, StepCall
from ledger.errors import InputError
from ledger.fsutil import atomic_write_text

SECTIONS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("Security", re.compile(r"^(security|sec)(\(.*\))?!?:|\bCVE-\d{4}-\d+|\bsecurity\b", re.I)),
    ("Deprecated", re.compile(r"^deprecat\w*(\(.*\))?!?:|\bdeprecat", re.I)),
    ("Removed", re.compile(r"^(remove|drop)\w*(\(.*\))?!?:|^(remove|drop)\b", re.I)),
    ("Fixed", re.compile(r"^fix\w*(\(.*\))?!?:|^fix(es|ed)?\b", re.I)),
    ("Added", re.compile(r"^(feat|add)\w*(\(.*\))?!?:|^add(s|ed)?\b", re.I)),
]
_PREFIX = re.compile(r"^[a-z]+(\([^)]*\))?!?:\s*", re.I)


def classify(subject: str) -> str:
    """The Keep a Changelog section for a commit subject."""
    for section, rule in _RULES:
        if rule.search(subject):
            return section
    return "Changed"


def draft(subjects: list[str], version: str = "Unreleased") -> str:
    """The Markdown draft for ``subjects`` (conventional prefixes stripped, empty sections left out)."""
    groups: dict[str, list[str]] = {s: [] for s in SECTIONS}
    for subj in subjects:
        subj = subj.strip()
        if subj:
            groups[classify(subj)].append(_PREFIX.sub("", subj))
    lines = [f"## [{version}]", ""]
    for section in SECTIONS:
        if groups[section]:
            lines += [f"### {section}", *[f"- {s}" for s in groups[section]], ""]
    return "\n".join(lines)


def git_subjects(since: str, repo: str | Path = ".") -> list[str]:
    """Subjects of ``git log SINCE..HEAD --no-merges`` in ``repo`` (``INPUT.GIT_LOG`` on failure)."""
    proc = subprocess.run(["git", "-C", str(repo), "log", f"{since}..HEAD", "--no-merges", "--format=%s"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise InputError("GIT_LOG", f"git log {since}..HEAD failed: {proc.stderr.strip()[:200]}", "pass an existing tag or commit with --since")
    return proc.stdout.splitlines()


def _body(call: StepCall) -> None:
    text = draft(git_subjects(call.args.since, call.args.repo), call.args.version)
    if call.args.output:
        atomic_write_text(call.args.output, text)
    else:
        call.say(text.rstrip("\n"))


STEP = Step(
    "changelog",
    gate="",
    body=_body,
    purpose="draft CHANGELOG sections from git history",
    flags=(
        Flag("--since", "previous release tag or commit (e.g. v0.1.0)", "str", required=True),
        Flag("--version", "section heading", "str", default="Unreleased"),
        Flag("--repo", "git checkout", default="."),
        Flag("--output", "write the draft here instead of stdout", role="output"),
    ),
    details="Draft CHANGELOG sections from git log SINCE..HEAD --no-merges.",
)
main = STEP.main

if __name__ == "__main__":
    sys.exit(main())
