"""Shared pieces of the publication steps: targets and public URLs, issue refs, fetch-and-verify, redaction.

Used by ``hub_release``, ``hub_publish``, ``release_candidate``, ``clean_machine_demo``,
``publication_report`` and ``publication_assets`` (one mechanism, no near-copies):

- :class:`Endpoints` / :class:`Targets` and :func:`add_target_flags` — the model/dataset/demo/paper
  targets every publication step names with the same flags;
- :func:`hf_repo`, :func:`github_release`, :func:`file_url`, :func:`asset_url` — public URL
  construction (Hugging Face ``<repo>/resolve/main/<path>``, GitHub release downloads, else a
  direct join onto the public base);
- :data:`ISSUE_REFS` / :func:`row` — readiness rows and blockers carrying the live issue refs;
- :func:`safe_destination`, :func:`download_verified`, :func:`fetch_digest` — downloads that refuse
  unsafe destinations and bad digests and compare SHA-256 and size;
- :func:`secret_values` / :func:`write_public_report` — no report holds a token value or a private path.

Nothing here imports torch.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.errors import GenoError, InputError, ProvenanceError, ResourceError
from ledger.fsutil import atomic_path
from ledger.identity import check_public_path, is_sha256_hex, sha256_file

from tools.release.declare import Flag
from ledger.reports import check_public_report, write_report

#: The release page's live publication issues, in the order the page lists them.
PUBLICATION_ISSUES: tuple[str, ...] = ("#163", "#164", "#165", "#166", "#167", "#101")

#: readiness row / blocker name -> issues to cite while it does not hold.
ISSUE_REFS: dict[str, list[str]] = {
    "dataset_package": ["#163"],
    "training_run": ["#164"],
    "evaluation": ["#165"],
    "efficiency": ["#165"],
    "model_package": ["#166"],
    "fixture_manifest": ["#166"],
    "demo": ["#167"],
    "paper": ["#101"],
    "hub_plan": ["#166", "#167"],
    "public_links": list(PUBLICATION_ISSUES),
    "public_artifacts": list(PUBLICATION_ISSUES),
    "publish": ["#166", "#167", "#101"],
    "clean_machine_demo": ["#167"],
    "publication_evidence": list(PUBLICATION_ISSUES),
}

#: Environment variables whose values are credentials (never written anywhere).
SECRET_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")

DEFAULT_HUB = "https://huggingface.co"
DEFAULT_GITHUB = "https://github.com"
DEFAULT_GITHUB_API = "https://api.github.com"
_HF_HOSTS = {"huggingface.co", "hf.co"}


def refs(name: str) -> list[str]:
    """Issue refs for readiness row or blocker ``name`` (all publication issues when unknown)."""
    return list(ISSUE_REFS.get(name, PUBLICATION_ISSUES))


def row(name: str, check: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
    """Run ``check`` and return a readiness row ``{name, ok, issue_refs, …}``; a typed error makes ``ok=false``.

    ``check`` returns extra fields for the row (evidence identities, counts) or None.
    """
    try:
        extra = check() or {}
    except GenoError as err:
        return {"name": name, "ok": False, "code": err.code, "message": err.message, "issue_refs": refs(name)}
    return {"name": name, "ok": True, **extra, "issue_refs": refs(name)}


def blockers_of(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Blockers derived from readiness rows: each row not ok, with its code, message and issue refs."""
    return [{"name": r["name"], "code": r.get("code", ""), "message": r.get("message", ""), "issue_refs": list(r.get("issue_refs", []))} for r in rows if not r.get("ok")]


# ---------------------------------------------------------------------------------------------
# Targets and public URLs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoints:
    """Where the Hub and GitHub live (configurable so tests point them at 127.0.0.1)."""

    hub: str = DEFAULT_HUB  # Hugging Face endpoint (HfApi(endpoint=…), resolve URLs)
    github: str = DEFAULT_GITHUB  # GitHub web base (release download URLs)
    github_api: str = DEFAULT_GITHUB_API  # GitHub REST API base (release asset uploads and listings)

    def hub_hosts(self) -> set[str]:
        """Host names recognised as Hugging Face."""
        return _HF_HOSTS | {urllib.parse.urlparse(self.hub).netloc}

    def github_hosts(self) -> set[str]:
        """Host names recognised as GitHub web."""
        return {"github.com", urllib.parse.urlparse(self.github).netloc}


@dataclass(frozen=True)
class Targets:
    """The local packages and the public places they are (or will be) published at."""

    model_dir: Path  # model package directory
    dataset_dir: Path  # dataset package directory
    demo_dir: Path  # terminal demo directory
    repo_id: str  # Hugging Face model repo (owner/name)
    model_url: str  # public base of the model files
    dataset_url: str  # public base of the dataset files
    demo_url: str  # public base of the demo assets (a GitHub release tag URL in a real release)
    paper_path: Path | None  # the paper draft, if published
    paper_url: str | None  # direct public URL of the paper file
    commit_sha: str  # source commit of the release
    endpoints: Endpoints  # hub and GitHub endpoints

    def local_paths(self) -> tuple[Path, ...]:
        """The local packages (model, dataset, demo, and the paper when there is one), as a step's inputs."""
        return (self.model_dir, self.dataset_dir, self.demo_dir) + ((self.paper_path,) if self.paper_path else ())


_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")


#: The flags naming packages and public targets (shared by plan, publish and candidate); the local
#: packages are the steps' recorded inputs.
TARGET_FLAGS: tuple[Flag, ...] = (
    Flag("--model-dir", "model package directory (SHA256SUMS + training_run_SHA256SUMS)", required=True, role="input"),
    Flag("--dataset-dir", "dataset package directory (SHA256SUMS)", required=True, role="input"),
    Flag("--demo-dir", "terminal demo directory (terminal_demo_manifest.json)", required=True, role="input"),
    Flag("--repo-id", "Hugging Face model repo id (owner/name)", "str", required=True),
    Flag("--model-url", "public base URL of the model files (default: <hub-endpoint>/<repo-id>)", "str"),
    Flag("--dataset-url", "public base URL of the dataset (a Hugging Face dataset URL for a real release)", "str", required=True),
    Flag("--demo-url", "public base URL of the demo assets (a GitHub release tag URL for a real release)", "str", required=True),
    Flag("--paper-path", "paper draft to publish (requires --paper-url)", role="input"),
    Flag("--paper-url", "direct public URL of the paper file (its last component is the paper file name)", "str"),
    Flag("--commit-sha", "source commit of the release (hex)", "str", required=True),
    Flag("--hub-endpoint", "Hugging Face endpoint", "str", default=DEFAULT_HUB),
    Flag("--github-url", "GitHub web base", "str", default=DEFAULT_GITHUB),
    Flag("--github-api-url", "GitHub REST API base", "str", default=DEFAULT_GITHUB_API),
)


def targets_from_args(args: argparse.Namespace) -> Targets:
    """Validate the target flags (``INPUT.USAGE`` / ``INPUT.BAD_URL``) and build :class:`Targets`."""
    from geno_lewm.distribution.fetch import check_url

    if args.paper_path and not args.paper_url:
        raise InputError("USAGE", "--paper-path requires --paper-url", "give the direct public URL the paper will be downloadable from")
    if not _REPO_ID.match(args.repo_id or ""):
        raise InputError("BAD_REPO_ID", f"--repo-id {args.repo_id!r} is not owner/name", "e.g. --repo-id geno-lewm/geno-lewm-v0.1.0")
    if not _COMMIT.match(args.commit_sha or ""):
        raise InputError("BAD_COMMIT", f"--commit-sha {args.commit_sha!r} is not a hex commit id", "pass `git rev-parse HEAD`")
    ep = Endpoints(check_url(args.hub_endpoint, "--hub-endpoint").rstrip("/"), check_url(args.github_url, "--github-url").rstrip("/"), check_url(args.github_api_url, "--github-api-url").rstrip("/"))
    model_url = check_url(args.model_url or f"{ep.hub}/{args.repo_id}", "--model-url")
    for flag, value in (("--dataset-url", args.dataset_url), ("--demo-url", args.demo_url)) + ((("--paper-url", args.paper_url),) if args.paper_url else ()):
        check_url(value, flag)
        if urllib.parse.urlparse(value).username or urllib.parse.urlparse(value).query:
            raise InputError("BAD_URL", f"{flag} must not carry credentials or a query string", "give the plain public URL")
    return Targets(
        model_dir=Path(args.model_dir), dataset_dir=Path(args.dataset_dir), demo_dir=Path(args.demo_dir), repo_id=args.repo_id,
        model_url=model_url.rstrip("/"), dataset_url=args.dataset_url.rstrip("/"), demo_url=args.demo_url.rstrip("/"),
        paper_path=Path(args.paper_path) if args.paper_path else None, paper_url=args.paper_url, commit_sha=args.commit_sha, endpoints=ep,
    )


def hf_repo(url: str, endpoints: Endpoints) -> tuple[str, str] | None:
    """``(repo_type, repo_id)`` when ``url`` is a Hugging Face model or dataset URL, else None."""
    p = urllib.parse.urlparse(url)
    if p.netloc not in endpoints.hub_hosts():
        return None
    hub_prefix = urllib.parse.urlparse(endpoints.hub).path.rstrip("/") if p.netloc == urllib.parse.urlparse(endpoints.hub).netloc else ""
    parts = [x for x in p.path[len(hub_prefix):].split("/") if x]
    if len(parts) >= 3 and parts[0] == "datasets":
        return "dataset", f"{parts[1]}/{parts[2]}"
    if len(parts) >= 2 and parts[0] not in ("datasets", "spaces", "api"):
        return "model", f"{parts[0]}/{parts[1]}"
    return None


def github_release(url: str, endpoints: Endpoints) -> tuple[str, str] | None:
    """``(owner/repo, tag)`` when ``url`` is a GitHub release tag or download URL, else None."""
    p = urllib.parse.urlparse(url)
    if p.netloc not in endpoints.github_hosts():
        return None
    web_prefix = urllib.parse.urlparse(endpoints.github).path.rstrip("/") if p.netloc == urllib.parse.urlparse(endpoints.github).netloc else ""
    parts = [urllib.parse.unquote(x) for x in p.path[len(web_prefix):].split("/") if x]
    if len(parts) >= 5 and parts[2] == "releases" and parts[3] in ("tag", "download"):
        return f"{parts[0]}/{parts[1]}", parts[4]
    return None


def _quote(path: str) -> str:
    return urllib.parse.quote(path, safe="/")


def file_url(base: str, path: str, endpoints: Endpoints) -> str:
    """Public URL of package file ``path`` under ``base`` (Hugging Face ``resolve/main``, else a direct join)."""
    check_public_path(path, "published path")
    hf = hf_repo(base, endpoints)
    if hf is not None and "/resolve/" not in base:
        host = base.split("://", 1)[0] + "://" + urllib.parse.urlparse(base).netloc
        prefix = endpoints.hub if urllib.parse.urlparse(base).netloc == urllib.parse.urlparse(endpoints.hub).netloc else host
        kind = "datasets/" if hf[0] == "dataset" else ""
        return f"{prefix}/{kind}{hf[1]}/resolve/main/{_quote(path)}"
    return f"{base.rstrip('/')}/{_quote(path)}"


def asset_url(base: str, asset_name: str, endpoints: Endpoints) -> str:
    """Public URL of release asset ``asset_name`` (GitHub ``releases/download/<tag>/``, else a direct join)."""
    gh = github_release(base, endpoints)
    if gh is not None:
        return f"{endpoints.github}/{gh[0]}/releases/download/{urllib.parse.quote(gh[1], safe='')}/{urllib.parse.quote(asset_name, safe='')}"
    return f"{base.rstrip('/')}/{urllib.parse.quote(asset_name, safe='')}"


# ---------------------------------------------------------------------------------------------
# Downloads
# ---------------------------------------------------------------------------------------------


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
        raise ProvenanceError("BAD_DIGEST", f"{where}: expected sha256 {str(entry.get('sha256'))[:70]!r} is not 64 lower-case hex characters", "regenerate the plan and candidate")
    if not isinstance(entry.get("size"), int) or isinstance(entry.get("size"), bool) or entry["size"] < 0:
        raise ProvenanceError("BAD_DIGEST", f"{where}: expected size {entry.get('size')!r} is not a byte count", "regenerate the plan and candidate")


def _fetch(url: str, dest: Path) -> tuple[str, int]:
    from geno_lewm.distribution.fetch import fetch_to_file, public_url

    try:
        return fetch_to_file(url, dest)
    except ResourceError as err:
        if "404" in err.message or "Not Found" in err.message:
            raise ProvenanceError("PUBLIC_FILE_MISSING", f"{public_url(url)} is not published (HTTP 404)", "publish the planned file, or regenerate the plan") from None
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


# ---------------------------------------------------------------------------------------------
# Identities and redaction
# ---------------------------------------------------------------------------------------------


def named_identity(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``{name, sha256, size}`` of a report file, by public-safe file name (no directory)."""
    p = Path(path)
    if not p.is_file():
        raise InputError("MISSING_FILE", f"{p.name} not found", "produce it with the step that writes it")
    digest, size = sha256_file(p)
    return {"name": p.name, "sha256": digest, "size": size}


def secret_values(env: Mapping[str, str] | None = None) -> list[str]:
    """Credential values present in the environment (only values long enough to be real tokens)."""
    env = os.environ if env is None else env
    return [env[k] for k in SECRET_ENV if len(env.get(k, "")) >= 8]


def check_no_secrets(text: str, name: str, secrets: Iterable[str] | None = None) -> None:
    """Raise ``RELEASE.SECRET_IN_REPORT`` when ``text`` contains a credential value."""
    from ledger.errors import ReleaseError

    for s in secret_values() if secrets is None else secrets:
        if s and s in text:
            raise ReleaseError("SECRET_IN_REPORT", f"{name} would contain a credential value; nothing was written", "never pass tokens as flags or file contents; use the environment")


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
