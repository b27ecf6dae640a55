"""The publication targets: local packages, public URLs and Hub/GitHub endpoints, named by the same flags.

:data:`TARGET_FLAGS` are the flags ``hub_release``, ``hub_publish`` and ``release_candidate`` declare;
:func:`targets_from_args` validates them into :class:`Targets`. :func:`hf_repo`, :func:`github_release`,
:func:`file_url` and :func:`asset_url` build public URLs (Hugging Face ``<repo>/resolve/main/<path>``,
GitHub release downloads, else a direct join onto the public base).
"""

from __future__ import annotations
import argparse
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from ledger.errors import InputError
from ledger.identity import check_public_path
from tools.release.engine.declare import Flag, common_flag


DEFAULT_HUB = "https://huggingface.co"


DEFAULT_GITHUB = "https://github.com"


DEFAULT_GITHUB_API = "https://api.github.com"


_HF_HOSTS = {"huggingface.co", "hf.co"}


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
    common_flag("--model-dir", help="model package directory (SHA256SUMS + training_run_SHA256SUMS)", role="input"),
    common_flag("--dataset-dir", help="dataset package directory (SHA256SUMS)", role="input"),
    common_flag("--demo-dir", help="terminal demo directory (terminal_demo_manifest.json)", role="input"),
    Flag("--repo-id", "Hugging Face model repo id (owner/name)", "str", required=True),
    Flag("--model-url", "public base URL of the model files (default: <hub-endpoint>/<repo-id>)", "str"),
    Flag("--dataset-url", "public base URL of the dataset (a Hugging Face dataset URL for a real release)", "str", required=True),
    Flag("--demo-url", "public base URL of the demo assets (a GitHub release tag URL for a real release)", "str", required=True),
    Flag("--paper-path", "paper draft to publish (requires --paper-url)", role="input"),
    Flag("--paper-url", "direct public URL of the paper file (its last component is the paper file name)", "str"),
    Flag("--commit-sha", "source commit of the release (hex)", "str", required=True),
    Flag("--hub-endpoint", "Hugging Face endpoint", "str", default=DEFAULT_HUB),
    common_flag("--github-url", default=DEFAULT_GITHUB),
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
    ep = Endpoints(
        check_url(args.hub_endpoint, "--hub-endpoint").rstrip("/"),
        check_url(args.github_url, "--github-url").rstrip("/"),
        check_url(args.github_api_url, "--github-api-url").rstrip("/"),
    )
    model_url = check_url(args.model_url or f"{ep.hub}/{args.repo_id}", "--model-url")
    for flag, value in (("--dataset-url", args.dataset_url), ("--demo-url", args.demo_url)) + ((("--paper-url", args.paper_url),) if args.paper_url else ()):
        check_url(value, flag)
        if urllib.parse.urlparse(value).username or urllib.parse.urlparse(value).query:
            raise InputError("BAD_URL", f"{flag} must not carry credentials or a query string", "give the plain public URL")
    return Targets(
        model_dir=Path(args.model_dir),
        dataset_dir=Path(args.dataset_dir),
        demo_dir=Path(args.demo_dir),
        repo_id=args.repo_id,
        model_url=model_url.rstrip("/"),
        dataset_url=args.dataset_url.rstrip("/"),
        demo_url=args.demo_url.rstrip("/"),
        paper_path=Path(args.paper_path) if args.paper_path else None,
        paper_url=args.paper_url,
        commit_sha=args.commit_sha,
        endpoints=ep,
    )


def hf_repo(url: str, endpoints: Endpoints) -> tuple[str, str] | None:
    """``(repo_type, repo_id)`` when ``url`` is a Hugging Face model or dataset URL, else None."""
    p = urllib.parse.urlparse(url)
    if p.netloc not in endpoints.hub_hosts():
        return None
    hub_prefix = urllib.parse.urlparse(endpoints.hub).path.rstrip("/") if p.netloc == urllib.parse.urlparse(endpoints.hub).netloc else ""
    parts = [x for x in p.path[len(hub_prefix) :].split("/") if x]
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
    parts = [urllib.parse.unquote(x) for x in p.path[len(web_prefix) :].split("/") if x]
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


#: The publication evidence a report binds (``publication_report``, ``publication_assets``): recorded inputs.
EVIDENCE_FLAGS: tuple[Flag, ...] = (
    Flag("--plan", "hub_release_plan.json", required=True, role="input"),
    Flag("--release-candidate", "release_candidate_report.json", required=True, role="input"),
    Flag("--publish-report", "hub_publish_report.json", required=True, role="input"),
    Flag("--clean-machine-demo-report", "clean_machine_demo_report.json (in its output directory)", required=True, role="input"),
)
