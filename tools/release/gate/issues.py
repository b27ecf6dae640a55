"""``geno-lewm-release issues sync``: cache the titles and states of the issues the gates cite.

Gates cite issues by number (``issue_refs`` in ``configs/release/gates.toml``, e.g. ``#163``).
:func:`sync_issues` asks GitHub's REST API (``GET {api}/repos/{owner}/{name}/issues/{number}``) for
each cited number and writes what it learnt — title, state, URL, whether it is a pull request — to
``<workdir>/issues_cache.json`` (atomic; ``schema_version``, ``generated_by``, ``fetched_at``).
:func:`load_issue_cache` reads it back for ``status`` and the cockpit, offline, with its age.

The token comes from ``GITHUB_TOKEN`` or ``GH_TOKEN`` in the environment (optional: public
repositories answer without one). It is sent only in the ``Authorization`` header, never written
to the cache, never printed; the cache is refused if any token value would appear in it.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import InputError, ReleaseError

#: The cache file, relative to the release working directory.
CACHE_NAME = "issues_cache.json"
#: ``generated_by`` of the cache.
GENERATED_BY = "tools.release.issues"  # the cache format's generator marker (kept when the module moved: old caches stay valid)
#: GitHub's REST API root (``--api-url`` overrides it, e.g. for GitHub Enterprise).
DEFAULT_API_URL = "https://api.github.com"
#: Environment variables read for the token, in order.
TOKEN_ENV = ("GITHUB_TOKEN", "GH_TOKEN")

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class IssueInfo:
    """One cached issue."""

    number: int  # issue number
    title: str  # title as GitHub returned it
    state: str  # "open" or "closed"
    url: str  # the issue's web address
    pull_request: bool  # True when the number is a pull request


@dataclass(frozen=True)
class IssueCache:
    """The cache as read back: repository, when it was fetched, the issues by number."""

    repo: str  # OWNER/NAME the issues came from
    fetched_at: str  # UTC timestamp of the fetch (ISO 8601, ``Z``)
    issues: dict[int, IssueInfo]  # number -> issue

    def age(self, now: _dt.datetime | None = None) -> str:
        """How old the cache is, in words (``"just now"``, ``"3 min ago"``, ``"2 h ago"``, ``"5 d ago"``)."""
        return describe_age(self.fetched_at, now)

    def describe(self, ref: str) -> str:
        """``#163 open: Title`` for a ref the cache knows, else the bare ref."""
        n = ref_number(ref)
        info = self.issues.get(n) if n is not None else None
        if info is None:
            return ref
        return f"{ref} {info.state}: {info.title}"


def cache_path(workdir: str | os.PathLike[str]) -> Path:
    """Where ``sync`` writes the cache for ``workdir``."""
    return Path(workdir) / CACHE_NAME


def ref_number(ref: str) -> int | None:
    """``"#163"`` or ``"163"`` → 163; anything else → None."""
    text = ref.strip().lstrip("#")
    return int(text) if text.isdigit() else None


def cited_refs(gates: Iterable[Any] | None = None) -> list[int]:
    """Every issue number the gates cite (sorted, distinct)."""
    if gates is None:
        from tools.release.gate.states import load_gates

        gates = load_gates()
    numbers = {ref_number(r) for g in gates for r in g.issue_refs}
    return sorted(n for n in numbers if n is not None)


def _token() -> str:
    for name in TOKEN_ENV:
        value = os.environ.get(name, "")
        if value:
            return value
    return ""


def _get(url: str, token: str) -> dict[str, Any] | None:
    """GET one JSON object from the API; None for a 404 (unknown or inaccessible issue)."""
    from geno_lewm.distribution.fetch import check_url, public_url

    headers = {"User-Agent": "geno-lewm", "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(check_url(url, "--api-url"), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - scheme checked
            body = resp.read(4 * 1024 * 1024)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        hint = "set GITHUB_TOKEN (or GH_TOKEN) to a token that may read the repository's issues" if exc.code in (401, 403) else "check --repo and --api-url"
        raise ReleaseError("ISSUES_FETCH", f"GET {public_url(url)} failed: HTTP {exc.code}", hint) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ReleaseError(
            "ISSUES_FETCH", f"GET {public_url(url)} failed: {type(exc).__name__}", "check --api-url and the connection; the cockpit keeps using the old cache"
        ) from None
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ReleaseError("ISSUES_FETCH", f"GET {public_url(url)} did not return JSON", "check --api-url points at the GitHub REST API") from None
    if not isinstance(doc, dict):
        raise ReleaseError("ISSUES_FETCH", f"GET {public_url(url)} did not return an issue object", "check --api-url points at the GitHub REST API")
    return doc


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sync_issues(
    workdir: str | os.PathLike[str],
    repo: str,
    *,
    api_url: str = DEFAULT_API_URL,
    numbers: Iterable[int] | None = None,
) -> dict[str, Any]:
    """Fetch every cited issue (or ``numbers``) of ``repo`` and write the cache; return the written document.

    Issues the API does not know (404) are listed under ``missing``. Nothing is written when any
    request fails, so an old cache stays as it was.
    """
    from ledger.fsutil import atomic_write_text

    from tools.release.publication.public_report import check_no_secrets
    from ledger.reports import REPORT_SCHEMA_VERSION, dumps

    if not _REPO.match(repo):
        raise InputError("USAGE", f"--repo {repo!r} is not OWNER/NAME", "e.g. --repo octo-org/geno-lewm")
    token = _token()
    base = api_url.rstrip("/")
    wanted = sorted(set(numbers)) if numbers is not None else cited_refs()
    issues: dict[str, dict[str, Any]] = {}
    missing: list[int] = []
    for n in wanted:
        doc = _get(f"{base}/repos/{repo}/issues/{int(n)}", token)
        if doc is None:
            missing.append(int(n))
            continue
        issues[str(int(n))] = {
            "title": str(doc.get("title") or ""),
            "state": str(doc.get("state") or "unknown"),
            "url": str(doc.get("html_url") or ""),
            "pull_request": "pull_request" in doc,
        }
    out = {"schema_version": REPORT_SCHEMA_VERSION, "repo": repo, "fetched_at": _now(), "issues": issues, "missing": missing, "generated_by": GENERATED_BY}
    text = dumps(out)  # issue titles are third-party text: written as given, not path-checked
    check_no_secrets(text, CACHE_NAME, [token] if token else [])
    Path(workdir).mkdir(parents=True, exist_ok=True)
    atomic_write_text(cache_path(workdir), text)
    return out


def load_issue_cache(workdir: str | os.PathLike[str]) -> IssueCache | None:
    """The cache in ``workdir`` (None when there is none or it cannot be read: the UI then shows bare refs)."""
    path = cache_path(workdir)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(doc, Mapping) or doc.get("generated_by") != GENERATED_BY or not str(doc.get("schema_version", "")).startswith("1."):
        return None
    issues: dict[int, IssueInfo] = {}
    for key, v in (doc.get("issues") or {}).items():
        if str(key).isdigit() and isinstance(v, Mapping):
            issues[int(key)] = IssueInfo(int(key), str(v.get("title", "")), str(v.get("state", "")), str(v.get("url", "")), bool(v.get("pull_request")))
    return IssueCache(str(doc.get("repo", "")), str(doc.get("fetched_at", "")), issues)


def describe_age(fetched_at: str, now: _dt.datetime | None = None) -> str:
    """``fetched_at`` (ISO 8601 UTC) as an age in words relative to ``now`` (default: the clock): ``"2 h ago"``."""
    try:
        then = _dt.datetime.strptime(fetched_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.UTC)
    except ValueError:
        return "unknown age"
    seconds = max(((now or _dt.datetime.now(_dt.UTC)) - then).total_seconds(), 0)
    if seconds < 60:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def add_subcommand(sub: Any) -> None:
    """Add ``issues sync`` to the ``geno-lewm-release`` subparsers."""
    p = sub.add_parser("issues", help="issue titles and states for the gates' blockers (cached in the workspace)")
    isub = p.add_subparsers(dest="issues_command", required=True)
    s = isub.add_parser("sync", help="fetch the cited issues from GitHub's REST API into <workdir>/issues_cache.json")
    s.add_argument("--repo", metavar="OWNER/NAME", help="repository the gates' issue refs belong to (default: $GITHUB_REPOSITORY, else the cache's repo)")
    s.add_argument("--api-url", default=DEFAULT_API_URL, metavar="URL", help="GitHub REST API root (default: %(default)s)")
    s.add_argument("--workdir", metavar="DIR", help="release working directory (default: $GENO_LEWM_WORKSPACE or ./geno-lewm-workspace)")


def run_from_args(args: Any) -> int:
    """Run ``issues sync`` from parsed arguments; prints one line per issue."""
    from ledger.workspace import default_workspace_dir

    workdir = Path(args.workdir) if args.workdir else default_workspace_dir()
    repo = args.repo or os.environ.get("GITHUB_REPOSITORY", "")
    if not repo:
        old = load_issue_cache(workdir)
        repo = old.repo if old is not None else ""
    if not repo:
        raise InputError("USAGE", "issues sync needs the repository the issue refs belong to", "pass --repo OWNER/NAME (it is remembered in the cache)")
    doc = sync_issues(workdir, repo, api_url=args.api_url)
    for key, v in sorted(doc["issues"].items(), key=lambda kv: int(kv[0])):
        print(f"#{key:<6} {v['state']:<7} {v['title']}")
    for n in doc["missing"]:
        print(f"#{n:<6} not found in {repo}")
    print(f"{len(doc['issues'])} issues cached in {CACHE_NAME} ({repo}, fetched {doc['fetched_at']})")
    return 0
