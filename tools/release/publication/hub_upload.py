"""Publishing exactly the planned files (one Hub commit per repo, GitHub release assets), then regenerating the candidate.

Declared as the release step ``python -m tools.release.hub_publish``.

1. Build and write the Hub upload plan (:func:`tools.release.hub_release.build_plan`) to
   ``--plan-output``. Refuse fixture (stand-in) manifests, unsupported URLs (the dataset must be a
   Hugging Face dataset URL, the demo a GitHub release-tag URL, the paper a direct GitHub release
   download URL) and missing credentials.
2. Hugging Face: one ``HfApi.create_commit`` per repo (model, dataset) with one
   ``CommitOperationAdd`` per planned file and ``parent_commit`` set to the branch head read just
   before, so a branch that moved in between fails the commit instead of being overwritten.
3. GitHub: each demo file (and the paper) is uploaded as a release asset under its planned name
   through the REST API (``--github-api-url``), refusing a name that already exists.
4. Regenerate the release candidate from the public links (never skipped) into
   ``--candidate-output`` and write ``--publish-output`` (``hub_publish_report.json``).

Credentials come from the environment only (``HF_TOKEN``; ``GITHUB_TOKEN`` or ``GH_TOKEN``); no
report, log line or ledger event holds a token value.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from ledger.errors import ProvenanceError, ReleaseError
from ledger.identity import sha256_file

from tools.release.publication import hub_plan
from tools.release.publication import decision
from tools.release.publication.downloads import named_identity
from tools.release.publication.public_report import write_public_report
from tools.release.publication.targets import Targets

GENERATED_BY = "tools.release.hub_publish"
REPORT_NAME = "hub_publish_report.json"


def _token(*names: str) -> str:
    for n in names:
        if os.environ.get(n):
            return os.environ[n]
    raise ReleaseError(
        "MISSING_CREDENTIALS",
        f"{' or '.join(names)} is not set",
        "publishing runs in the protected release environment, which provides the token in the environment",
    )


def check_publishable(plan: dict[str, Any]) -> None:
    """Refuse fixture manifests and targets that are not the supported Hub / GitHub release URLs."""
    if plan["stand_in"]:
        raise ReleaseError(
            "FIXTURE_MANIFEST",
            "the model package was built with the stand-in encoder (a fixture manifest); it is never published",
            "publish a real model package",
        )
    if not plan["model"]["hub"]:
        raise ReleaseError("UNSUPPORTED_URL", "the model URL is not a Hugging Face model repo URL", "leave --model-url out or use <hub>/<owner>/<name>")
    if not plan["dataset"]["hub"]:
        raise ReleaseError("UNSUPPORTED_URL", "--dataset-url is not a Hugging Face dataset URL", "use https://huggingface.co/datasets/<owner>/<name>")
    if not plan["demo"]["release"]:
        raise ReleaseError("UNSUPPORTED_URL", "--demo-url is not a GitHub release tag URL", "use https://github.com/<owner>/<repo>/releases/tag/<tag>")
    if plan.get("paper") and not plan["paper"]["release"]:
        raise ReleaseError(
            "UNSUPPORTED_URL",
            "--paper-url is not a direct GitHub release download URL",
            "use https://github.com/<owner>/<repo>/releases/download/<tag>/<paper file>",
        )


def _local(t: Targets, target: str, path: str) -> Path:
    base = {"model": t.model_dir, "dataset": t.dataset_dir, "demo": t.demo_dir}.get(target)
    p = (base / path) if base is not None else t.paper_path
    assert p is not None
    return p


def _recheck(p: Path, f: dict[str, Any], label: str) -> None:
    if not p.is_file() or sha256_file(p) != (f["sha256"], f["size"]):
        raise ProvenanceError("STALE_ARTIFACT", f"{label} changed after the plan was made", "re-run the publish from unchanged packages")


# ---------------------------------------------------------------------------------------------
# Hugging Face
# ---------------------------------------------------------------------------------------------


def commit_repo(t: Targets, plan: dict[str, Any], target: str, token: str) -> dict[str, Any]:
    """One ``create_commit`` holding exactly the planned files of ``target`` ("model" or "dataset")."""
    from huggingface_hub import CommitOperationAdd, HfApi

    sec = plan[target]
    files = sec["files"]
    ops = []
    for f in files:
        local = _local(t, target, f["path"])
        _recheck(local, f, f"{target} file {f['path']}")
        ops.append(CommitOperationAdd(path_in_repo=f["destination"], path_or_fileobj=str(local)))
    api = HfApi(endpoint=t.endpoints.hub, token=token)
    try:
        parent = api.repo_info(sec["repo_id"], repo_type=sec["repo_type"], revision="main").sha
        info = api.create_commit(
            sec["repo_id"],
            operations=ops,
            repo_type=sec["repo_type"],
            revision="main",
            parent_commit=parent,
            commit_message=f"Publish {plan['release_id']} ({target} files, source {plan['commit_sha'][:12]})",
            commit_description=f"Exactly the {len(ops)} files of hub_release_plan.json; model_id {plan['model_id']}.",
        )
    except Exception as exc:  # noqa: BLE001 - huggingface_hub raises many types; none may leak a token
        status = getattr(getattr(exc, "response", None), "status_code", None)
        raise ReleaseError(
            "HUB_COMMIT_FAILED",
            f"{target} commit to {sec['repo_id']} failed ({type(exc).__name__}{f', HTTP {status}' if status else ''})",
            "if the branch moved, re-run the publish so the plan and parent commit are current",
        ) from None
    return {
        "target": target,
        "repo_id": sec["repo_id"],
        "repo_type": sec["repo_type"],
        "revision": "main",
        "parent_commit": parent,
        "commit_oid": info.oid,
        "files": [{k: f[k] for k in ("path", "destination", "sha256", "size")} for f in files],
    }


# ---------------------------------------------------------------------------------------------
# GitHub releases
# ---------------------------------------------------------------------------------------------


def _github(method: str, url: str, token: str, data: bytes | None = None, content_type: str | None = None) -> Any:
    from geno_lewm.distribution.fetch import check_url, public_url

    req = urllib.request.Request(
        check_url(url),
        data=data,
        method=method,
        headers={"User-Agent": "geno-lewm", "Accept": "application/vnd.github+json", "Authorization": f"Bearer {token}"},
    )
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310 - scheme checked
            body = resp.read()
    except urllib.error.HTTPError as exc:
        raise ReleaseError(
            "GITHUB_API", f"{method} {public_url(url)} failed: HTTP {exc.code}", "check the release tag exists and the token may write release assets"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ReleaseError("GITHUB_API", f"{method} {public_url(url)} failed: {type(exc).__name__}", "check the GitHub API URL and the connection") from None
    return json.loads(body) if body else {}


def upload_release_assets(t: Targets, plan: dict[str, Any], token: str) -> list[dict[str, Any]]:
    """Upload the demo files and the paper as release assets under their planned names."""
    groups: dict[tuple[str, str], list[tuple[Path, dict[str, Any], str]]] = {}
    rel = plan["demo"]["release"]
    for f in plan["demo"]["files"]:
        groups.setdefault((rel["repo"], rel["tag"]), []).append((t.demo_dir / f["path"], f, f["asset_name"]))
    if plan.get("paper"):
        p = plan["paper"]
        assert t.paper_path is not None
        groups.setdefault((p["release"]["repo"], p["release"]["tag"]), []).append((t.paper_path, p, p["name"]))
    out = []
    for (repo, tag), items in groups.items():
        release = _github("GET", f"{t.endpoints.github_api}/repos/{repo}/releases/tags/{urllib.parse.quote(tag, safe='')}", token)
        existing = {a.get("name") for a in release.get("assets", [])}
        clash = sorted(existing & {name for _, _, name in items})
        if clash:
            raise ReleaseError(
                "ASSET_EXISTS",
                f"release {tag} already has assets named {', '.join(clash[:5])}",
                "publish to a fresh release tag; published assets are never replaced",
            )
        upload_base = str(release.get("upload_url", "")).split("{", 1)[0]
        assets = []
        for local, f, name in items:
            _recheck(local, f, f"release asset {name}")
            resp = _github("POST", f"{upload_base}?name={urllib.parse.quote(name, safe='')}", token, local.read_bytes(), "application/octet-stream")
            if resp.get("name") != name or resp.get("size") != f["size"]:
                raise ReleaseError(
                    "GITHUB_UPLOAD",
                    f"release asset {name} was stored as {resp.get('name')!r} with size {resp.get('size')}",
                    "delete the asset and re-run the publish",
                )
            assets.append({"asset_name": name, "sha256": f["sha256"], "size": f["size"]})
        out.append({"repo": repo, "tag": tag, "release_id": release.get("id"), "assets": assets})
    return out


def publish(t: Targets, plan_output: Path, candidate_output: Path, publish_output: Path) -> dict[str, Any]:
    """Plan, check, upload, regenerate the candidate; write the three reports; return the publish report."""
    plan = hub_plan.build_plan(t)
    check_publishable(plan)
    hf_token = _token("HF_TOKEN")
    gh_token = _token("GITHUB_TOKEN", "GH_TOKEN")
    write_public_report(plan_output, plan, generated_by=hub_plan.GENERATED_BY)
    commits = [commit_repo(t, plan, target, hf_token) for target in ("model", "dataset")]
    assets = upload_release_assets(t, plan, gh_token)
    candidate = decision.build_candidate(t, plan_path=plan_output)
    write_public_report(candidate_output, candidate, generated_by=decision.GENERATED_BY)
    doc = {
        "kind": "hub_publish",
        "release_id": plan["release_id"],
        "model_id": plan["model_id"],
        "commit_sha": plan["commit_sha"],
        "plan": named_identity(plan_output),
        "hub_commits": commits,
        "github_assets": assets,
        "uploaded_files": sum(len(c["files"]) for c in commits) + sum(len(a["assets"]) for a in assets),
        "candidate": named_identity(candidate_output),
        "candidate_ready": candidate["ready"],
        "blockers": candidate["blockers"],
        "credentials": "read from the environment; never recorded",
    }
    return write_public_report(publish_output, doc, generated_by=GENERATED_BY)
